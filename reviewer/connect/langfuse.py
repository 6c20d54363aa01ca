"""Langfuse over its public API: traces listed by time (``GET /api/public/traces``, page
by page, oldest first) and fetched whole with their observations for the ``langfuse``
importer; scores sent as the list ``POST /api/public/scores`` takes (202 all accepted; 207
some refused, with counts and messages)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from reviewer.connect.http import Endpoint, HttpClient, secret

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


IMPORTER = "langfuse"
PAGE = 100
"""Traces per listed page (Langfuse's largest)."""


def listing(
    client: HttpClient,
    cursor: str | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[list[tuple[str, str]]]:
    """Pages of ``(position after this trace, trace id)``, oldest first. Langfuse lists by
    trace time, so the position is that time and the ids already seen at it (the next
    listing starts at the time itself, which it includes)."""
    at: dict[str, Any] = json.loads(cursor) if cursor else {"ts": None, "ids": []}
    start = at["ts"]
    if since is not None and (start is None or since.isoformat() > start):
        start = since.isoformat()
    params: dict[str, Any] = {"limit": PAGE, "orderBy": "timestamp.asc"}
    if start:
        params["fromTimestamp"] = start
    if until is not None:
        params["toTimestamp"] = until.isoformat()
    seen = set(at["ids"])
    page = 1
    while True:
        body = client.request("GET", "/api/public/traces", params={**params, "page": page})
        out: list[tuple[str, str]] = []
        for t in body.get("data") or []:
            ts, tid = str(t["timestamp"]), str(t["id"])
            if ts == at["ts"] and tid in seen:
                continue  # seen by the last pull, at the time it ended on
            if ts != at["ts"]:
                at = {"ts": ts, "ids": []}
                seen = set()
            at["ids"].append(tid)
            seen.add(tid)
            out.append((json.dumps(at), tid))
        yield out
        meta = body.get("meta") or {}
        if page >= int(meta.get("totalPages") or 0):
            return
        page += 1


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
