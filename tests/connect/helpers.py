"""Pieces the connection tests share."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

from reviewer.connect.http import HttpClient
from reviewer.domain.review import Review, ReviewStatus
from reviewer.domain.session import Session
from reviewer.resources import default_rubric
from reviewer.services.pushing import PushSummary, push
from reviewer.store.reviews import save_review
from reviewer.store.sessions import latest_sessions
from reviewer.store.workspace import Workspace


def latest(ws: Workspace, key: str) -> Session:
    """The latest revision of the session ``key``."""
    with ws.read() as s:
        return latest_sessions(s, [key])[key]


def revise(ws: Workspace, review: Review, **values: Any) -> Review:
    """``review`` saved again five minutes later with these values changed."""
    changed = review.model_copy(
        update={
            "values": {**review.values, **values},
            "updated_at": review.updated_at + timedelta(minutes=5),
        }
    )
    with ws.write() as s:
        save_review(s, changed, default_rubric())
    return changed


def reopen(ws: Workspace, review: Review) -> Review:
    """``review`` taken back to a draft (what reopening a submitted review does)."""
    draft = review.model_copy(
        update={
            "status": ReviewStatus.DRAFT,
            "submitted_at": None,
            "updated_at": review.updated_at + timedelta(minutes=10),
        }
    )
    with ws.write() as s:
        save_review(s, draft, default_rubric())
    return draft


def change_then_withdraw(
    ws: Workspace,
    target: str,
    connect: Callable[[], HttpClient],
    held: Callable[[], dict[Any, Any]],
    first: PushSummary,
    alice: Review,
) -> None:
    """What a round trip checks after the first push, the same for every system: a second
    push sends nothing; alice's changed quality updates her one label (``held()``, the
    system's labels read back through its own API, keyed so that her name is in her
    keys, gains none); alice reopening her review deletes every label she sent, once."""
    with connect() as c:
        second = push(ws, target, c)
    assert (second.sent, second.unchanged, second.withdrawn) == (0, first.sent, 0)
    before = held()
    changed = revise(ws, alice, quality="3")
    with connect() as c:
        third = push(ws, target, c)
    assert (third.sent, third.unchanged) == (1, first.sent - 1)
    after = held()
    assert set(after) == set(before)
    quality = [v for k, v in after.items() if "alice" in str(k) and "quality" in str(k)]
    assert len(quality) == 1 and "3.0" in str(quality[0])

    hers = {k for k in after if "alice" in str(k)}
    assert hers
    reopen(ws, changed)
    with connect() as c:
        dry = push(ws, target, c, dry_run=True)
        withdrawn = push(ws, target, c)
    assert dry.withdrawn == withdrawn.withdrawn == len(hers)
    assert (withdrawn.sent, withdrawn.error) == (0, None)
    assert set(held()) == set(after) - hers
    with connect() as c:
        assert push(ws, target, c).withdrawn == 0


class JsonStub(BaseHTTPRequestHandler):
    """A stand-in server's handler: JSON replies, and quiet (no request log on stderr)."""

    def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass
