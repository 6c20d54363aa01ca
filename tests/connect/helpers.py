"""Pieces the connection tests share."""

from __future__ import annotations

from reviewer.domain.session import Session
from reviewer.store.sessions import latest_sessions
from reviewer.store.workspace import Workspace


def latest(ws: Workspace, key: str) -> Session:
    """The latest revision of the session ``key``."""
    with ws.read() as s:
        return latest_sessions(s, [key])[key]
