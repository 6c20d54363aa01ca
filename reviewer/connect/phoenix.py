"""Arize Phoenix over its REST API (``/v1``): new spans since a cursor, whole traces as
OTLP/JSON for the ``otlp`` importer, and span annotations sent synchronously."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from reviewer.connect.http import ConnectorError, Endpoint, HttpClient, secret

SYSTEM = "Phoenix"
KEY_ENV = "PHOENIX_API_KEY"
PAGE = 1000
"""Spans per page (Phoenix's largest)."""
TRACES_PER_FETCH = 50
"""Trace ids per request for their spans (they go in the query string)."""
_KINDS = {
    "SPAN_KIND_INTERNAL": 1,
    "SPAN_KIND_SERVER": 2,
    "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4,
    "SPAN_KIND_CONSUMER": 5,
}
_SNAKE = re.compile(r"_([a-z])")


def endpoint(url: str, project: str, *, ca_bundle: str | None = None) -> Endpoint:
    key = secret(KEY_ENV, url)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Endpoint(SYSTEM, url, project, headers, key_hint=KEY_ENV, ca_bundle=ca_bundle)


def _project(client: HttpClient) -> str:
    return quote(client.endpoint.project, safe="")


def new_spans(
    client: HttpClient,
    cursor: str | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[tuple[list[tuple[str, str]], str | None]]:
    """Pages of ``(span global id, trace id)`` in the order Phoenix stored them, from the
    span ``cursor`` names (itself excluded: it was the last one seen), each with the
    cursor to resume after it."""
    params: dict[str, Any] = {"sort": "id", "order": "asc", "limit": PAGE}
    if since is not None:
        params["start_time"] = since.isoformat()
    if until is not None:
        params["end_time"] = until.isoformat()
    page_cursor = cursor
    while True:
        body = client.request(
            "GET",
            f"/v1/projects/{_project(client)}/spans",
            params={**params, **({"cursor": page_cursor} if page_cursor else {})},
        )
        spans = [
            (str(sp["id"]), str(sp["context"]["trace_id"]))
            for sp in body.get("data") or []
            if sp.get("id") != cursor
        ]
        nxt = body.get("next_cursor")
        last = spans[-1][0] if spans else cursor
        yield spans, last
        if not nxt:
            return
        page_cursor = nxt


IMPORTER = "otlp"


def listing(
    client: HttpClient,
    cursor: str | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[list[tuple[str, str]]]:
    """Pages of ``(position after this span, trace id)``: the pull's common listing."""
    for spans, _ in new_spans(client, cursor, since=since, until=until):
        yield spans


def records(client: HttpClient, trace_ids: list[str]) -> dict[str, Any]:
    """Each trace as the ``otlp`` importer reads it (traces Phoenix no longer has left out),
    its evaluations (LLM and code annotations) as `gen_ai.evaluation.result` span events:
    the importer reads them as judgements, offered to reviewers as suggestions."""
    project = client.endpoint.project
    found = {t: sp for t, sp in trace_spans(client, trace_ids).items() if sp}
    by_span = {span["spanId"]: span for spans in found.values() for span in spans}
    for note in span_annotations(client, list(by_span)) if by_span else []:
        span = by_span.get(note.get("span_id"))
        if span is not None and note.get("annotator_kind") in EVALUATORS:
            span["events"] = [*(span.get("events") or []), _evaluation_event(note)]
    return {t: traces_data(sp, project) for t, sp in found.items()}


EVALUATORS = ("LLM", "CODE")
"""Annotators whose annotations are judgements (HUMAN ones are people's labels, ours among
them: never read back as suggestions)."""


def _evaluation_event(note: dict[str, Any]) -> dict[str, Any]:
    """A Phoenix annotation as the OpenTelemetry GenAI evaluation event."""
    result = note.get("result") or {}
    attrs: list[dict[str, Any]] = [
        {"key": "gen_ai.evaluation.name", "value": {"stringValue": str(note.get("name") or "")}},
        {
            "key": "gen_ai.evaluator.name",
            "value": {"stringValue": f"phoenix {note['annotator_kind']}"},
        },
    ]
    if isinstance(result.get("label"), str):
        attrs.append(
            {"key": "gen_ai.evaluation.score.label", "value": {"stringValue": result["label"]}}
        )
    if isinstance(result.get("score"), int | float) and not isinstance(result["score"], bool):
        attrs.append(
            {"key": "gen_ai.evaluation.score.value", "value": {"doubleValue": result["score"]}}
        )
    if isinstance(result.get("explanation"), str):
        attrs.append(
            {
                "key": "gen_ai.evaluation.explanation",
                "value": {"stringValue": result["explanation"]},
            }
        )
    return {"name": "gen_ai.evaluation.result", "attributes": attrs}


def trace_spans(client: HttpClient, trace_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every span of these traces, as OTLP/JSON spans, by trace id."""
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in trace_ids}
    for i in range(0, len(trace_ids), TRACES_PER_FETCH):
        ids = trace_ids[i : i + TRACES_PER_FETCH]
        page: str | None = None
        while True:
            params: list[tuple[str, Any]] = [("trace_id", t) for t in ids]
            params.append(("limit", PAGE))
            if page:
                params.append(("cursor", page))
            body = client.request(
                "GET", f"/v1/projects/{_project(client)}/spans/otlpv1", params=params
            )
            for sp in body.get("data") or []:
                span = _otlp_json(sp)
                out.setdefault(span["traceId"], []).append(span)
            page = body.get("next_cursor")
            if not page:
                break
    return out


def _camel(key: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), key)


def _otlp_json(value: Any) -> Any:
    """Phoenix's snake_case OTLP model as OTLP/JSON (camelCase, nulls left out)."""
    if isinstance(value, dict):
        out = {_camel(k): _otlp_json(v) for k, v in value.items() if v is not None}
        if isinstance(out.get("kind"), str):
            out["kind"] = _KINDS.get(out["kind"], 0)
        return out
    if isinstance(value, list):
        return [_otlp_json(v) for v in value]
    return value


def traces_data(spans: list[dict[str, Any]], project: str) -> dict[str, Any]:
    """One OTLP ``TracesData`` document holding one trace's spans (ordered by start)."""
    ordered = sorted(spans, key=lambda sp: (int(sp.get("startTimeUnixNano") or 0), sp["spanId"]))
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "openinference.project.name", "value": {"stringValue": project}}
                    ]
                },
                "scopeSpans": [{"scope": {"name": "phoenix"}, "spans": ordered}],
            }
        ]
    }


def send_annotations(client: HttpClient, lines: list[dict[str, Any]]) -> None:
    """Upsert span annotations (on span, name and identifier), synchronously: a span that
    Phoenix does not have is a 404 naming it, not a silent drop."""
    client.request("POST", "/v1/span_annotations", params={"sync": "true"}, json={"data": lines})


def span_annotations(client: HttpClient, span_ids: list[str]) -> list[dict[str, Any]]:
    """The span annotations of these spans (every page)."""
    out: list[dict[str, Any]] = []
    for i in range(0, len(span_ids), TRACES_PER_FETCH):
        page: str | None = None
        while True:
            params: list[tuple[str, Any]] = [("span_ids", s) for s in span_ids[i : i + 50]]
            params.append(("limit", PAGE))
            if page:
                params.append(("cursor", page))
            body = client.request(
                "GET", f"/v1/projects/{_project(client)}/span_annotations", params=params
            )
            out.extend(body.get("data") or [])
            page = body.get("next_cursor")
            if not page:
                break
    return out


DELETE_ANNOTATIONS = """
mutation DeleteSpanAnnotations($ids: [ID!]!) {
  deleteSpanAnnotations(input: {annotationIds: $ids}) { __typename }
}
"""


def delete_annotations(client: HttpClient, keys: list[str]) -> None:
    """Delete span annotations we sent, by ``span_id/name/identifier``: Phoenix's REST API
    has no delete for them, its GraphQL API (what its UI uses) does, by annotation id, so
    the ids are read first. One Phoenix no longer has is taken as deleted."""
    wanted = {tuple(k.split("/", 2)) for k in keys}
    spans = sorted({span for span, _, _ in wanted})
    held = span_annotations(client, spans) if spans else []
    ids = [
        str(a["id"])
        for a in held
        if (a.get("span_id"), a.get("name"), a.get("identifier")) in wanted
    ]
    for i in range(0, len(ids), 100):
        body = client.request(
            "POST",
            "/graphql",
            json={"query": DELETE_ANNOTATIONS, "variables": {"ids": ids[i : i + 100]}},
        )
        errors = (body or {}).get("errors")
        if errors:
            message = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
            raise ConnectorError(
                f"{SYSTEM} at {client.shown}: could not delete annotations: {message}"
            )


__all__ = ["ConnectorError", "endpoint", "new_spans", "send_annotations", "span_annotations"]
