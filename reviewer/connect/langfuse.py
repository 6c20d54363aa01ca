"""Langfuse over its public API: traces listed by time (``GET /api/public/traces``, page
by page, oldest first) and those of observations started since the last pull
(``GET /api/public/v2/observations``), fetched whole with their observations for the ``langfuse``
importer; scores sent as the list ``POST /api/public/scores`` takes (202 all accepted; 207
some refused, with counts and messages), each with the score config of its rubric
dimension (``/api/public/score-configs``, looked up by name and data type, created where
missing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from reviewer.connect.http import Endpoint, HttpClient, secret
from reviewer.domain.rubric import DimensionKind, Option, Rubric

SYSTEM = "Langfuse"
KEY_ENV = ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY")


def endpoint(url: str, project: str, *, ca_bundle: str | None = None) -> Endpoint:
    """Basic authentication with the project's public and secret key (they also choose
    the project on the server; ``project`` names the connection here)."""
    public, private = (secret(k, url) for k in KEY_ENV)
    auth = (public, private) if public and private else None
    return Endpoint(
        SYSTEM, url, project, auth=auth, key_hint=" / ".join(KEY_ENV), ca_bundle=ca_bundle
    )


def send_scores(client: HttpClient, lines: list[dict[str, Any]]) -> list[str]:
    """Send scores; returns why some were refused (a 207). Langfuse does not say which:
    the caller records none of the batch as sent, and the next push sends it again, which
    Langfuse takes as an update (same id and timestamp), never a duplicate."""
    body = client.request("POST", "/api/public/scores", json=lines)
    if isinstance(body, dict) and body.get("rejected"):
        errors = [str(e.get("message")) for e in body.get("errors") or [] if isinstance(e, dict)]
        return errors or [f"{body['rejected']} refused"] * int(body["rejected"])
    return []


CONFIGURED = ("NUMERIC", "CATEGORICAL", "BOOLEAN")
"""Score data types a score config describes (a CORRECTION has none)."""


def config_bodies(
    lines: list[dict[str, Any]], rubrics: dict[str, Rubric]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The score config (``CreateScoreConfigRequest``) of each ``(name, dataType)`` among
    the score lines, from the rubric dimension it comes from (``rubrics`` by
    ``name@version``, as the lines' metadata names them): an ordinal scale's bounds, a
    choice's or taxonomy's options as categories (plus any value sent that the rubric no
    longer has)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for line in lines:
        name, kind = str(line["name"]), str(line["dataType"])
        if kind not in CONFIGURED:
            continue
        body = out.get((name, kind))
        if body is None:
            rubric = rubrics.get(str((line.get("metadata") or {}).get("rubric")))
            body = out[(name, kind)] = _config(name, kind, rubric)
        if kind == "CATEGORICAL" and line["value"] not in {c["label"] for c in body["categories"]}:
            body["categories"].append({"label": line["value"], "value": len(body["categories"])})
    return out


def _config(name: str, kind: str, rubric: Rubric | None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "dataType": kind}
    dim = rubric.dimension(name) if rubric is not None else None
    options: list[Option] = []
    if dim is not None and rubric is not None:
        body["description"] = f"{dim.label} (AgentOps Reviewer rubric {rubric.name})"
        options = dim.options
    elif name == "failure_tags" and rubric is not None and rubric.steps is not None:
        options = rubric.steps.error_types
    if kind == "NUMERIC" and dim is not None and dim.kind is DimensionKind.ORDINAL:
        scale = [float(o.value) for o in options]
        body.update(minValue=min(scale), maxValue=max(scale))
    if kind == "CATEGORICAL":
        body["categories"] = [{"label": o.value, "value": i} for i, o in enumerate(options)]
    return body


def score_configs(client: HttpClient) -> dict[tuple[str, str], str]:
    """The project's score configs in use (not archived): id by ``(name, dataType)``."""
    found: dict[tuple[str, str], str] = {}
    page = 1
    while True:
        body = client.request(
            "GET", "/api/public/score-configs", params={"page": page, "limit": 100}
        )
        for c in body.get("data") or []:
            if not c.get("isArchived"):
                found.setdefault((str(c["name"]), str(c["dataType"])), str(c["id"]))
        if page >= int((body.get("meta") or {}).get("totalPages") or 0):
            return found
        page += 1


def with_configs(
    client: HttpClient, lines: list[dict[str, Any]], rubrics: dict[str, Rubric]
) -> list[dict[str, Any]]:
    """The score lines with the ``configId`` of their score config: the project's config
    of that name and data type, else one created from the rubric."""
    wanted = config_bodies(lines, rubrics)
    ids = score_configs(client) if wanted else {}
    for key, body in wanted.items():
        if key not in ids:
            ids[key] = str(client.request("POST", "/api/public/score-configs", json=body)["id"])
    out = []
    for line in lines:
        config = ids.get((str(line["name"]), str(line["dataType"])))
        out.append({**line, "configId": config} if config else line)
    return out


def delete_score(client: HttpClient, score_id: str) -> None:
    """Delete a score we sent (``DELETE /api/public/scores/{id}``; one Langfuse no longer
    has is taken as deleted)."""
    client.request("DELETE", f"/api/public/scores/{quote(score_id, safe='')}", ok=(404,))


IMPORTER = "langfuse"
PAGE = 100
"""Traces per listed page (Langfuse's largest)."""


OBSERVATIONS_PAGE = 1000
"""Observations per listed page (``GET /api/public/v2/observations``, its largest)."""


def listing(
    client: HttpClient,
    cursor: str | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[list[tuple[str | None, str]]]:
    """Pages of ``(position after this trace, trace id)``: first the traces by time, oldest
    first; Langfuse lists by trace time, so the position is that time and the ids already
    seen at it (the next listing starts at the time itself, which it includes). Then the
    traces of observations that started since the last pull (``obs`` in the position):
    a trace listed before that gained observations is fetched again, and becomes a new
    revision. That listing's order is not documented, so its position moves only at its
    end (None before it)."""
    at: dict[str, Any] = json.loads(cursor) if cursor else {"ts": None, "ids": []}
    obs: dict[str, Any] = at.pop("obs", None) or {"ts": at["ts"], "ids": []}
    start = _later(at["ts"], since)
    params: dict[str, Any] = {"limit": PAGE, "orderBy": "timestamp.asc"}
    if start:
        params["fromTimestamp"] = start
    if until is not None:
        params["toTimestamp"] = until.isoformat()
    seen = set(at["ids"])
    page = 1
    while True:
        body = client.request("GET", "/api/public/traces", params={**params, "page": page})
        out: list[tuple[str | None, str]] = []
        for t in body.get("data") or []:
            ts, tid = str(t["timestamp"]), str(t["id"])
            if ts == at["ts"] and tid in seen:
                continue  # seen by the last pull, at the time it ended on
            if ts != at["ts"]:
                at = {"ts": ts, "ids": []}
                seen = set()
            at["ids"].append(tid)
            seen.add(tid)
            out.append((json.dumps({**at, "obs": obs}), tid))
        yield out
        meta = body.get("meta") or {}
        if page >= int(meta.get("totalPages") or 0):
            break
        page += 1
    yield from _grown(client, at, obs, since, until)


def _later(ts: str | None, since: datetime | None) -> str | None:
    if since is not None and (ts is None or since.isoformat() > ts):
        return since.isoformat()
    return ts


def _grown(
    client: HttpClient,
    at: dict[str, Any],
    obs: dict[str, Any],
    since: datetime | None,
    until: datetime | None,
) -> Iterator[list[tuple[str | None, str]]]:
    """Pages of ``(None, trace id)`` of observations that started since ``obs`` (not seen
    at its time), then the position after them all."""
    params: dict[str, Any] = {"fields": "core", "limit": OBSERVATIONS_PAGE}
    start = _later(obs["ts"], since)
    if start:
        params["fromStartTime"] = start
    if until is not None:
        params["toStartTime"] = until.isoformat()
    seen = set(obs["ids"])
    newest = dict(obs)
    while True:
        body = client.request("GET", "/api/public/v2/observations", params=params)
        out: list[tuple[str | None, str]] = []
        for o in body.get("data") or []:
            ts, oid = str(o["startTime"]), str(o["id"])
            if ts == obs["ts"] and oid in seen:
                continue
            if newest["ts"] is None or ts > newest["ts"]:
                newest = {"ts": ts, "ids": [oid]}
            elif ts == newest["ts"]:
                newest["ids"] = [*newest["ids"], oid]
            out.append((None, str(o["traceId"])))
        nxt = (body.get("meta") or {}).get("cursor")
        if not nxt:
            out.append((json.dumps({**at, "obs": newest}), ""))
            yield out
            return
        yield out
        params["cursor"] = nxt


def records(client: HttpClient, trace_ids: list[str]) -> dict[str, Any]:
    """Each trace with its observations and scores, as the ``langfuse`` importer reads a
    trace download (``{trace, observations, scores}``)."""
    out: dict[str, Any] = {}
    for tid in trace_ids:
        full = client.request("GET", f"/api/public/traces/{quote(tid, safe='')}")
        trace = {k: v for k, v in full.items() if k not in ("observations", "scores")}
        out[tid] = {
            "trace": trace,
            "observations": full.get("observations") or [],
            "scores": full.get("scores") or [],
        }
    return out
