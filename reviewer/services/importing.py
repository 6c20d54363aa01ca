"""Storing sessions in a workspace in committed chunks."""

from __future__ import annotations

from collections.abc import Iterable

from reviewer.domain.session import Session
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.store.sessions import UpsertResult, upsert_sessions
from reviewer.store.workspace import Workspace

CHUNK = 500


def store_sessions(
    ws: Workspace,
    sessions: Iterable[Session],
    *,
    total: int | None = None,
    progress: Progress = NO_PROGRESS,
    chunk: int = CHUNK,
) -> UpsertResult:
    """Store sessions, committing every ``chunk``; a stop leaves whole chunks stored.

    Idempotent: running it again over the same sessions adds nothing.
    """
    result = UpsertResult()
    pending: list[Session] = []
    done = 0

    def flush() -> None:
        nonlocal done
        with ws.write() as s:
            result.add(upsert_sessions(s, pending))
        done += len(pending)
        pending.clear()
        progress.update(done, total, "storing sessions")

    for session in sessions:
        pending.append(session)
        if len(pending) >= chunk:
            flush()
    if pending:
        flush()
    return result
