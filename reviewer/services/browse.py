"""Listing and loading sessions for views: ids first, rows on demand."""

from __future__ import annotations

from collections.abc import Sequence

from reviewer.domain.session import Session
from reviewer.store import browse as store
from reviewer.store.browse import SessionFilter, SessionSummary
from reviewer.store.sessions import load_session
from reviewer.store.workspace import Workspace

__all__ = [
    "SessionFilter",
    "SessionSummary",
    "count_sessions",
    "get_session",
    "session_ids",
    "summaries",
]


def session_ids(ws: Workspace, f: SessionFilter = SessionFilter()) -> list[int]:
    """Ids of matching sessions, newest first. Only ids: cheap even for a million rows."""
    with ws.read() as s:
        return store.session_ids(s, f)


def count_sessions(ws: Workspace, f: SessionFilter = SessionFilter()) -> int:
    with ws.read() as s:
        return store.count_sessions(s, f)


def summaries(ws: Workspace, ids: Sequence[int]) -> list[SessionSummary]:
    """Rows for the given ids, in the given order (missing ids are left out)."""
    with ws.read() as s:
        return store.summaries(s, ids)


def get_session(ws: Workspace, session_id: int) -> Session:
    with ws.read() as s:
        return load_session(s, session_id)
