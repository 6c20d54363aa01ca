"""Connections to tracing systems: pull cursors, pulled sessions and labels pushed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session as OrmSession

from reviewer.store.content import PreparedSession
from reviewer.store.sessions import UpsertResult, upsert_prepared
from reviewer.store.tables import ConnectionRow, ConnectionSession, SentLabel, SessionRow

Narrow = Callable[[Select[Any]], Select[Any]]
"""Narrows a select over ``sessions`` to the latest revisions a filter lets through
(``services.filters.apply_filter`` with a spec)."""


def connection_id(s: OrmSession, source: str, url: str, project: str) -> int:
    """The id of the connection, created on first use."""
    found = s.scalar(
        select(ConnectionRow.id).where(
            ConnectionRow.source == source,
            ConnectionRow.url == url,
            ConnectionRow.project == project,
        )
    )
    if found is not None:
        return found
    row = ConnectionRow(source=source, url=url, project=project)
    s.add(row)
    s.flush()
    return row.id


def find_connection(s: OrmSession, source: str, url: str, project: str) -> int | None:
    return s.scalar(
        select(ConnectionRow.id).where(
            ConnectionRow.source == source,
            ConnectionRow.url == url,
            ConnectionRow.project == project,
        )
    )


def get_cursor(s: OrmSession, conn_id: int) -> str | None:
    return s.scalar(select(ConnectionRow.cursor).where(ConnectionRow.id == conn_id))


def set_cursor(s: OrmSession, conn_id: int, cursor: str | None) -> None:
    row = s.get(ConnectionRow, conn_id)
    assert row is not None
    row.cursor = cursor
    row.pulled_at = datetime.now(UTC)


def add_sessions(s: OrmSession, conn_id: int, keys: Iterable[str]) -> None:
    known = pulled_keys(s, conn_id)
    s.add_all(
        ConnectionSession(connection_id=conn_id, session_key=k)
        for k in dict.fromkeys(keys)
        if k not in known
    )


def store_pulled(
    s: OrmSession, conn_id: int, sessions: Sequence[PreparedSession], narrow: Narrow | None
) -> tuple[UpsertResult, int]:
    """Store pulled sessions as pulled from the connection; with ``narrow``, only those
    the filter lets through, judged exactly as ``sample``/``export`` judge stored sessions
    (tags, judge scores and all): the chunk is stored in a savepoint, the keys that pass
    are read back, the savepoint is rolled back and only those are stored. Returns the
    upsert result and how many sessions the filter left out."""
    left_out = 0
    if narrow is not None and sessions:
        keys = list(dict.fromkeys(x.key for x in sessions))
        nested = s.begin_nested()
        try:
            upsert_prepared(s, sessions)
            query = select(SessionRow.session_key).where(SessionRow.session_key.in_(keys))
            passing = set(s.scalars(narrow(query)))
        finally:
            nested.rollback()
        left_out = len(set(keys) - passing)
        sessions = [x for x in sessions if x.key in passing]
    result = upsert_prepared(s, sessions)
    add_sessions(s, conn_id, (x.key for x in sessions))
    return result, left_out


def pulled_keys(s: OrmSession, conn_id: int) -> set[str]:
    return set(
        s.scalars(
            select(ConnectionSession.session_key).where(ConnectionSession.connection_id == conn_id)
        )
    )


def sent_digests(s: OrmSession, conn_id: int) -> dict[str, str]:
    return {k: d for k, (d, _) in sent_items(s, conn_id).items()}


def sent_items(s: OrmSession, conn_id: int) -> dict[str, tuple[str, str]]:
    """``item_key -> (digest, session_key)`` of every label sent on the connection."""
    rows = s.execute(
        select(SentLabel.item_key, SentLabel.digest, SentLabel.session_key).where(
            SentLabel.connection_id == conn_id
        )
    )
    return {k: (d, key) for k, d, key in rows}


def forget_sent(s: OrmSession, conn_id: int, keys: Sequence[str]) -> None:
    """Labels deleted from the system: no longer recorded as sent."""
    for i in range(0, len(keys), 500):
        s.execute(
            delete(SentLabel).where(
                SentLabel.connection_id == conn_id, SentLabel.item_key.in_(keys[i : i + 500])
            )
        )


def record_sent(s: OrmSession, conn_id: int, items: Iterable[tuple[str, str, str]]) -> None:
    """Record ``(item_key, digest, session_key)`` as sent now (updating earlier sends)."""
    now = datetime.now(UTC)
    items = list(items)
    existing = {
        r.item_key: r
        for r in s.scalars(
            select(SentLabel).where(
                SentLabel.connection_id == conn_id,
                SentLabel.item_key.in_([k for k, _, _ in items]),
            )
        )
    }
    for key, digest, session_key in items:
        row = existing.get(key)
        if row is None:
            s.add(
                SentLabel(
                    connection_id=conn_id,
                    item_key=key,
                    digest=digest,
                    session_key=session_key,
                    sent_at=now,
                )
            )
        else:
            row.digest, row.sent_at = digest, now
    conn = s.get(ConnectionRow, conn_id)
    assert conn is not None
    conn.pushed_at = now


def reviewed_not_from(s: OrmSession, source_format: str, limit: int) -> list[str]:
    """Up to ``limit`` session keys with a submitted review whose session was not imported
    from ``source_format`` (in key order)."""
    from reviewer.store.tables import ReviewRow, SessionRow

    return list(
        s.scalars(
            select(SessionRow.session_key)
            .join(ReviewRow, ReviewRow.session_id == SessionRow.id)
            .where(ReviewRow.status == "submitted", SessionRow.source_format != source_format)
            .distinct()
            .order_by(SessionRow.session_key)
            .limit(limit)
        )
    )
