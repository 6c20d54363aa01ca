"""MLflow over its REST API (``/api/2.0``, ``/api/3.0``): the traces of an experiment
listed oldest first since a cursor (``POST /traces/search``), fetched whole with their spans
(``GET /traces/batchGet``) for the ``mlflow`` importer; labels sent as assessments
(``POST /traces/{trace_id}/assessments``) under our stable ids, updated in place
(``PATCH .../assessments/{assessment_id}``) when the review changed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from reviewer.connect.http import ConnectorError, Endpoint, HttpClient, secret

SYSTEM = "MLflow"
KEY_ENV = "MLFLOW_TRACKING_TOKEN"
IMPORTER = "mlflow"
PAGE = 500
"""Traces per search page (MLflow's largest)."""
TRACES_PER_FETCH = 50
"""Trace ids per ``batchGet`` (they go in the query string)."""
DEFAULT_EXPERIMENT = "0"
"""MLflow's ``Default`` experiment: what ``--project`` names when it is left out."""


def endpoint(url: str, project: str, *, ca_bundle: str | None = None) -> Endpoint:
    """A token (``MLFLOW_TRACKING_TOKEN``) or user and password
    (``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``), as MLflow's client."""
    token = secret(KEY_ENV, url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), None
    if user and not token:
        password = secret("MLFLOW_TRACKING_PASSWORD", url) or ""
    return Endpoint(
        SYSTEM,
        url,
        project,
        headers,
        auth=(user, password) if user and password is not None else None,
        key_hint=KEY_ENV,
        ca_bundle=ca_bundle,
    )


def experiment_id(client: HttpClient) -> str:
    """The id of the experiment ``--project`` names (``default``: MLflow's Default)."""
    name = client.endpoint.project
    try:
        found = client.request(
            "GET", "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name}
        )
    except ConnectorError as exc:
        if exc.status != 404:
            raise
        if name.lower() == "default":
            return DEFAULT_EXPERIMENT
        raise ConnectorError(
            f"{SYSTEM} at {client.shown}: no experiment named {name!r}", status=404
        ) from None
    return str(found["experiment"]["experiment_id"])


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def listing(
    client: HttpClient,
    cursor: str | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[list[tuple[str | None, str]]]:
    """Pages of ``(position after this trace, trace id)``, oldest first from the cursor:
    the last request time listed and the trace ids seen at it (listed again, not pulled)."""
    at: dict[str, Any] = json.loads(cursor) if cursor else {"ms": None, "ids": []}
    terms = []
    start = at["ms"]
    if since is not None and (start is None or _ms(since) > start):
        start = _ms(since)
    if start is not None:
        terms.append(f"trace.timestamp_ms >= {int(start)}")
    if until is not None:
        terms.append(f"trace.timestamp_ms < {_ms(until)}")
    experiment = {"experiment_id": experiment_id(client)}
    where = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": experiment}
    body: dict[str, Any] = {
        "locations": [where],
        "filter": " AND ".join(terms),
        "max_results": PAGE,
        "order_by": ["timestamp_ms ASC", "request_id ASC"],
    }
    seen = set(at["ids"]) if at["ms"] is not None else set()
    position = dict(at)
    while True:
        got = client.request("POST", "/api/3.0/mlflow/traces/search", json=body) or {}
        page: list[tuple[str | None, str]] = []
        for info in got.get("traces") or []:
            tid = str(info["trace_id"])
            ms = _ms(datetime.fromisoformat(str(info["request_time"]).replace("Z", "+00:00")))
            if ms == at["ms"] and tid in seen:
                continue
            if ms == position["ms"]:
                position = {"ms": ms, "ids": [*position["ids"], tid]}
            else:
                position = {"ms": ms, "ids": [tid]}
            page.append((json.dumps(position), tid))
        yield page
        token = got.get("next_page_token")
        if not token:
            return
        body["page_token"] = token


def records(client: HttpClient, trace_ids: list[str]) -> dict[str, Any]:
    """Each trace (``trace_info`` and ``spans``) as the ``mlflow`` importer reads it;
    traces MLflow no longer has are left out."""
    out: dict[str, Any] = {}
    for i in range(0, len(trace_ids), TRACES_PER_FETCH):
        params = [("trace_ids", t) for t in trace_ids[i : i + TRACES_PER_FETCH]]
        got = client.request("GET", "/api/3.0/mlflow/traces/batchGet", params=params) or {}
        for trace in got.get("traces") or []:
            out[str(trace["trace_info"]["trace_id"])] = trace
    for tid in trace_ids:
        if tid not in out and (found := from_artifacts(client, tid)) is not None:
            out[tid] = found
    return out


def from_artifacts(client: HttpClient, trace_id: str) -> dict[str, Any] | None:
    """A trace ``batchGet`` does not give (its spans kept as an artifact, as clients before
    spans went to the tracking store logged them): its info, and its spans as MLflow's own
    UI reads them (``Span.to_dict`` form); None when MLflow does not have it."""
    try:
        info = client.request("GET", _path(trace_id))
        data = client.request(
            "GET", "/ajax-api/2.0/mlflow/get-trace-artifact", params={"request_id": trace_id}
        )
    except ConnectorError as exc:
        if exc.status == 404:
            return None
        raise
    trace_info = ((info or {}).get("trace") or {}).get("trace_info")
    if not trace_info or not isinstance(data, dict):
        return None
    return {"trace_info": trace_info, "spans": data.get("spans") or []}


def _path(trace_id: str) -> str:
    return f"/api/3.0/mlflow/traces/{quote(trace_id, safe='')}"


def trace_assessments(client: HttpClient, trace_id: str) -> list[dict[str, Any]] | None:
    """The assessments MLflow holds for a trace (None when it has no such trace)."""
    try:
        got = client.request("GET", _path(trace_id))
    except ConnectorError as exc:
        if exc.status == 404:
            return None
        raise
    return list(((got or {}).get("trace") or {}).get("trace_info", {}).get("assessments") or [])


def send_assessment(client: HttpClient, line: dict[str, Any], *, exists: bool) -> None:
    """Create the assessment under its stable id, or update the one MLflow has."""
    path = f"{_path(line['trace_id'])}/assessments"
    if not exists:
        client.request("POST", path, json={"assessment": line})
        return
    kind = "feedback" if "feedback" in line else "expectation"
    # a FieldMask in JSON: camelCase paths; a rationale taken out is cleared ("")
    client.request(
        "PATCH",
        f"{path}/{quote(line['assessment_id'], safe='')}",
        json={"assessment": line, "update_mask": f"assessmentName,{kind},rationale,metadata"},
    )


def delete_assessment(client: HttpClient, trace_id: str, assessment_id: str) -> None:
    """Delete an assessment we sent (one MLflow no longer has, or whose trace is gone, is
    taken as deleted)."""
    path = f"{_path(trace_id)}/assessments/{quote(assessment_id, safe='')}"
    client.request("DELETE", path, ok=(404,))
