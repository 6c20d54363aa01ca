"""LangSmith over its REST API: runs of a project listed since a time
(``POST /runs/query``, newest first, cursor-paginated), each trace's runs fetched whole for
the ``langsmith`` importer; feedback created with our stable id (``POST /feedback``) and
updated in place (``PATCH /feedback/{id}``) when the review changed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from reviewer.connect.http import ConnectorError, Endpoint, HttpClient, secret

SYSTEM = "LangSmith"
KEY_ENV = "LANGSMITH_API_KEY"


def endpoint(url: str, project: str, *, ca_bundle: str | None = None) -> Endpoint:
    key = secret(KEY_ENV, url) or os.environ.get("LANGCHAIN_API_KEY")
    headers = {"x-api-key": key} if key else {}
    return Endpoint(SYSTEM, url, project, headers, key_hint=KEY_ENV, ca_bundle=ca_bundle)


def create_body(line: dict[str, Any]) -> dict[str, Any]:
    """A ``langsmith-feedback`` line (``create_feedback`` arguments) as the body the client
    posts (``FeedbackCreate``; nulls left out, but ``trace_id`` it always carries)."""
    body = {
        "id": line["feedback_id"],
        "run_id": line["run_id"],
        "trace_id": line.get("trace_id"),
        "key": line["key"],
        "score": line.get("score"),
        "value": line.get("value"),
        "comment": line.get("comment"),
        "correction": line.get("correction"),
        "feedback_source": {"type": line["feedback_source_type"], "metadata": line["source_info"]},
        "session_id": line.get("session_id"),
        "start_time": line.get("start_time"),
    }
    return {k: v for k, v in body.items() if v is not None or k == "trace_id"}


def update_body(line: dict[str, Any]) -> dict[str, Any]:
    """What ``update_feedback`` sends: the parts a review can change."""
    keys = ("score", "value", "comment", "correction")
    return {k: line[k] for k in keys if line.get(k) is not None}


def send_feedback(client: HttpClient, line: dict[str, Any], *, sent_before: bool) -> None:
    """Create the feedback, or update it when it was sent before (or already exists)."""
    if not sent_before:
        try:
            client.request("POST", "/feedback", json=create_body(line))
            return
        except ConnectorError as exc:
            if exc.status != 409:
                raise
    client.request("PATCH", f"/feedback/{line['feedback_id']}", json=update_body(line))


def delete_feedback(client: HttpClient, feedback_id: str) -> None:
    """Delete feedback we sent (``DELETE /feedback/{id}``; feedback LangSmith no longer
    has is taken as deleted)."""
    client.request("DELETE", f"/feedback/{feedback_id}", ok=(404,))


IMPORTER = "langsmith"
PAGE = 100


def _project_id(client: HttpClient) -> str:
    name = client.endpoint.project
    found = client.request("GET", "/sessions", params={"name": name, "limit": 1})
    if not found:
        raise ConnectorError(f"{SYSTEM} at {client.shown}: no project named {name!r}", status=404)
    return str(found[0]["id"])


def listing(
    client: HttpClient,
    cursor: str | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[list[tuple[str | None, str]]]:
    """Pages of ``(position, trace id)`` of the runs (any, not only roots) that started
    since the last pull: a new trace, and one listed before that gained runs since (it is
    fetched again and becomes a new revision). LangSmith lists newest first, so the
    position (the newest start time and the run ids at it) moves only with the last page
    (None before it): a pull cut off midway lists the same runs again next time
    (duplicates, which change nothing)."""
    at: dict[str, Any] = json.loads(cursor) if cursor else {"ts": None, "ids": []}
    start = at["ts"]
    if since is not None and (start is None or since.isoformat() > start):
        start = since.isoformat()
    body: dict[str, Any] = {"session": [_project_id(client)], "limit": PAGE}
    if start:
        body["start_time"] = start
    newest = dict(at)
    seen = set(at["ids"])
    page: list[tuple[str, str, str]] = []
    while True:
        got = client.request("POST", "/runs/query", json=body) or {}
        for run in got.get("runs") or []:
            ts, rid = str(run["start_time"]), str(run["id"])
            tid = str(run.get("trace_id") or rid)
            if until is not None and ts >= until.isoformat():
                continue
            if ts == at["ts"] and rid in seen:
                continue
            if newest["ts"] is None or ts > newest["ts"]:
                newest = {"ts": ts, "ids": [rid]}
            elif ts == newest["ts"]:
                newest["ids"] = [*newest["ids"], rid]
            page.append((ts, tid, ""))
        nxt = (got.get("cursors") or {}).get("next")
        if not nxt:
            break
        yield [(None, tid) for _, tid, _ in page]
        page = []
        body["cursor"] = nxt
    items: list[tuple[str | None, str]] = [(None, tid) for _, tid, _ in page]
    if items or newest != at:
        items.append((json.dumps(newest), ""))  # the new position, once all is listed
    yield items


def records(client: HttpClient, trace_ids: list[str]) -> dict[str, Any]:
    """Every run of each trace, as the ``langsmith`` importer reads an export (``runs``)."""
    out: dict[str, Any] = {}
    for tid in trace_ids:
        runs: list[dict[str, Any]] = []
        body: dict[str, Any] = {"trace": tid, "limit": PAGE}
        while True:
            got = client.request("POST", "/runs/query", json=body) or {}
            runs.extend(got.get("runs") or [])
            nxt = (got.get("cursors") or {}).get("next")
            if not nxt:
                break
            body["cursor"] = nxt
        if runs:
            out[tid] = {"runs": runs, "feedback": []}
    return out
