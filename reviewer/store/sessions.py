"""Session repository: store, revise and load canonical sessions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Boolean, Connection, Float, LargeBinary, insert, select, update
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.session import Session
from reviewer.store.content import (
    COLUMNS,
    PreparedSession,
    content_json,
    decode_content,
    prepare_session,
)
from reviewer.store.tables import (
    SessionContent,
    SessionRow,
    SessionScore,
    SessionTag,
    UTCDateTime,
)

KEY_BATCH = 500
"""Session keys per ``IN (...)`` lookup."""
HASH_BATCH = 2000
"""Raw record hashes per ``IN (...)`` lookup (a re-import looks up every record)."""


@dataclass
class UpsertResult:
    imported: int = 0
    duplicates: int = 0
    revised: int = 0

    def add(self, other: UpsertResult) -> None:
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.revised += other.revised


def upsert_sessions(s: OrmSession, sessions: Sequence[Session]) -> UpsertResult:
    """Store sessions in the current transaction (see :func:`upsert_prepared`)."""
    return upsert_prepared(s, [prepare_session(x) for x in sessions])


def _latest_of(s: OrmSession, keys: Sequence[str]) -> dict[str, tuple[int, int, str]]:
    """(row id, revision, content hash) of the latest revision of each stored key.

    Selected by key alone, with ``is_latest`` checked here: with ``is_latest`` in the WHERE
    clause SQLite picks the (is_latest, started_at) index and reads every latest row of the
    workspace for each lookup, which made imports slow down as the workspace grew.
    """
    latest: dict[str, tuple[int, int, str]] = {}
    for start in range(0, len(keys), KEY_BATCH):
        found = s.execute(
            select(
                SessionRow.session_key,
                SessionRow.id,
                SessionRow.revision,
                SessionRow.content_hash,
                SessionRow.is_latest,
            ).where(SessionRow.session_key.in_(keys[start : start + KEY_BATCH]))
        )
        for key, pk, rev, h, is_latest in found:
            if is_latest:
                latest[key] = (pk, rev, h)
    return latest


def latest_content_hashes(s: OrmSession, keys: Sequence[str]) -> dict[str, str]:
    """Content hash of the latest revision of each stored key."""
    return {key: found[2] for key, found in _latest_of(s, keys).items()}


def has_record_hashes(s: OrmSession) -> bool:
    """Whether any stored session knows the raw record it came from (else a re-import
    check has nothing to find)."""
    found = s.execute(
        select(SessionRow.id).where(SessionRow.record_hash.is_not(None)).limit(1)
    ).first()
    return found is not None


def latest_by_record_hash(s: OrmSession, hashes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Session key and content hash of the latest revisions imported from raw records of
    these hashes, by hash (``is_latest`` checked here, as in :func:`_latest_of`)."""
    found: dict[str, tuple[str, str]] = {}
    conn = s.connection()  # Core, not the ORM: a third of the time per lookup
    for start in range(0, len(hashes), HASH_BATCH):
        rows = conn.execute(
            select(
                SessionRow.record_hash,
                SessionRow.session_key,
                SessionRow.content_hash,
                SessionRow.is_latest,
            ).where(SessionRow.record_hash.in_(hashes[start : start + HASH_BATCH]))
        )
        for h, key, content_hash, is_latest in rows:
            if is_latest and h is not None:
                found[h] = (key, content_hash)
    return found


def upsert_prepared(s: OrmSession, sessions: Sequence[PreparedSession]) -> UpsertResult:
    """Store prepared sessions in the current transaction.

    A session whose id is new is imported; one whose id exists with the same content is a
    duplicate (nothing written); one whose id exists with other content becomes a new
    revision, marked latest; reviews of older revisions stay attached to them.
    Safe to repeat: running it twice on the same input adds nothing the second time.
    """
    result = UpsertResult()
    if not sessions:
        return result
    # Within one call the last record of a repeated id wins; earlier copies count as
    # duplicates or revisions in order.
    latest = _latest_of(s, list(dict.fromkeys(x.key for x in sessions)))
    now = datetime.now(UTC)
    pending: list[tuple[PreparedSession, int]] = []
    pending_keys: set[str] = set()
    retired: list[int] = []
    for item in sessions:
        if item.key in pending_keys:
            # The same id twice in one chunk: store what we have first, then compare this
            # one with what it replaced (not with what was stored before the chunk).
            _write(s, pending, retired, now, latest)
            pending, pending_keys, retired = [], set(), []
        prior = latest.get(item.key)
        if prior is not None and prior[2] == item.content_hash:
            result.duplicates += 1
            continue
        revision = 1
        if prior is not None:
            retired.append(prior[0])
            revision = prior[1] + 1
            result.revised += 1
        else:
            result.imported += 1
        pending.append((item, revision))
        pending_keys.add(item.key)
    _write(s, pending, retired, now, latest)
    return result


def _write(
    s: OrmSession,
    pending: list[tuple[PreparedSession, int]],
    retired: list[int],
    now: datetime,
    latest: dict[str, tuple[int, int, str]],
) -> None:
    """Insert prepared rows in bulk, with their content, tags and judge scores, after
    unmarking the revisions they replace. Keys are unique within ``pending``."""
    if not pending:
        return
    conn = s.connection()
    for start in range(0, len(retired), KEY_BATCH):
        conn.execute(
            update(SessionRow)
            .where(SessionRow.id.in_(retired[start : start + KEY_BATCH]))
            .values(is_latest=False)
        )
    rows = [
        (item.key, revision, item.content_hash, item.record_hash, *item.columns)
        for item, revision in pending
    ]
    columns = ("session_key", "revision", "content_hash", "record_hash", *COLUMNS)
    constant = {"is_latest": True, "imported_at": now}
    if conn.dialect.name == "sqlite":
        # Ids given up front, the ones SQLite would pick (max + 1 on): this transaction
        # holds the write lock, and a clash would fail the insert, never pass silently.
        first = conn.exec_driver_sql("SELECT coalesce(max(id), 0) + 1 FROM sessions").scalar_one()
        ids = list(range(first, first + len(rows)))
        _insert_many(
            conn,
            SessionRow.__table__,
            ("id", *columns),
            [(pk, *row) for pk, row in zip(ids, rows, strict=True)],
            constant,
        )
    else:
        # Plain executemany (no RETURNING: SQLAlchemy would split it into hundreds of
        # small statements), then one query for the new ids.
        _insert_many(conn, SessionRow.__table__, columns, rows, constant)
        keys = [item.key for item, _ in pending]
        new_ids: dict[tuple[str, int], int] = {}
        for start in range(0, len(keys), KEY_BATCH):
            found = conn.execute(
                select(SessionRow.session_key, SessionRow.revision, SessionRow.id).where(
                    SessionRow.session_key.in_(keys[start : start + KEY_BATCH])
                )
            )
            new_ids.update({(k, rev): pk for k, rev, pk in found})
        ids = [new_ids[(item.key, revision)] for item, revision in pending]
    _insert_many(
        conn,
        SessionContent.__table__,
        ("session_id", "data"),
        [(pk, item.content) for pk, (item, _) in zip(ids, pending, strict=True)],
    )
    tags = [(pk, tag) for pk, (item, _) in zip(ids, pending, strict=True) for tag in item.tags]
    if tags:
        _insert_many(conn, SessionTag.__table__, ("session_id", "tag"), tags)
    scores = [
        (pk, name, value)
        for pk, (item, _) in zip(ids, pending, strict=True)
        for name, value in item.scores
    ]
    if scores:
        _insert_many(conn, SessionScore.__table__, ("session_id", "name", "value"), scores)
    for pk, (item, revision) in zip(ids, pending, strict=True):
        latest[item.key] = (pk, revision, item.content_hash)


_Processor = Callable[[Any], Any]
_PROCESSORS: dict[tuple[str, str, tuple[str, ...]], list[tuple[int, _Processor, type | None]]] = {}


def _native(type_: Any) -> type | None:
    """The Python type whose values SQLite's driver stores just as this column type's bind
    processor would (a bool as INTEGER 0/1, a float as REAL, bytes as a BLOB): those skip
    the processor."""
    if isinstance(type_, Boolean):
        return bool
    if isinstance(type_, Float):
        return float
    if isinstance(type_, LargeBinary):
        return bytes
    return None


def sqlite_utc_text(value: datetime) -> str:
    """What SQLAlchemy stores on SQLite for a :class:`UTCDateTime` value (the UTC time as
    ``YYYY-MM-DD HH:MM:SS.ffffff``), in one step instead of two generic processors: a
    fifth of the time, on two columns of every imported session. A test holds it to
    SQLAlchemy's own output."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _processor(table: Any, column: str, dialect: Any) -> _Processor | None:
    """The bind processor SQLAlchemy itself applies to ``column`` on ``dialect`` (the
    dialect's own type: SQLite's DATETIME writes its text form, for instance)."""
    type_ = table.c[column].type
    if isinstance(type_, UTCDateTime) and dialect.name == "sqlite":
        return sqlite_utc_text
    proc: _Processor | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return proc


def _insert_many(
    conn: Connection,
    table: Any,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    constant: dict[str, Any] | None = None,
) -> None:
    """``executemany`` of an INSERT of plain tuples, plus ``constant`` values for every row.

    On SQLite the rows go straight to the driver, through the columns' own bind processors
    (UTC datetimes, booleans...), so what is stored is exactly what SQLAlchemy would store:
    its per-row parameter handling cost more than SQLite's own work. Other databases get
    SQLAlchemy's ``insert``.
    """
    constant = constant or {}
    dialect = conn.dialect
    if dialect.name != "sqlite":
        conn.execute(
            insert(table), [{**dict(zip(columns, row, strict=True)), **constant} for row in rows]
        )
        return
    key = (dialect.name, table.name, columns)
    procs = _PROCESSORS.get(key)
    if procs is None:
        procs = _PROCESSORS[key] = [
            (i, proc, _native(table.c[c].type))
            for i, c in enumerate(columns)
            if (proc := _processor(table, c, dialect)) is not None
        ]
    fixed = tuple(
        v if v is None or (proc := _processor(table, c, dialect)) is None else proc(v)
        for c, v in constant.items()
    )
    params: list[Any] = rows
    if procs or fixed:
        params = []
        for row in rows:
            values = [*row, *fixed]
            for i, proc, native in procs:
                value = values[i]
                if value is not None and type(value) is not native:
                    values[i] = proc(value)
            params.append(tuple(values))
    quote = dialect.identifier_preparer.quote
    names = (*columns, *constant)
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in names)}) "
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    conn.exec_driver_sql(sql, params)


def load_session(s: OrmSession, session_id: int) -> Session:
    data = s.scalar(select(SessionContent.data).where(SessionContent.session_id == session_id))
    if data is None:
        raise KeyError(f"no session with id {session_id}")
    return decode_content(data)


def latest_id(s: OrmSession, session_key: str) -> int | None:
    """Row id of the latest revision of ``session_key`` (looked up by key: see
    :func:`_latest_of` for why ``is_latest`` is not in the WHERE clause)."""
    found = _latest_of(s, [session_key]).get(session_key)
    return found[0] if found is not None else None


def latest_sessions(s: OrmSession, keys: Sequence[str]) -> dict[str, Session]:
    """The latest stored revision of each of ``keys`` that exists (to extend it)."""
    return {key: load_session(s, found[0]) for key, found in _latest_of(s, keys).items()}


def session_metadata(s: OrmSession, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The ``metadata`` of each stored session of ``ids`` (by row id)."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), KEY_BATCH):
        rows = s.execute(
            select(SessionContent.session_id, SessionContent.data).where(
                SessionContent.session_id.in_(ids[start : start + KEY_BATCH])
            )
        )
        for sid, data in rows:
            found[sid] = orjson.loads(content_json(data)).get("metadata") or {}
    return found


def session_ref(s: OrmSession, session_id: int) -> tuple[str, int] | None:
    """The key and revision of a stored session (None when there is no such row)."""
    row = s.get(SessionRow, session_id)
    return None if row is None else (row.session_key, row.revision)


def session_key_known(s: OrmSession, session_key: str) -> bool:
    """Whether any revision of ``session_key`` is stored."""
    found = s.scalar(select(SessionRow.id).where(SessionRow.session_key == session_key).limit(1))
    return found is not None


def all_session_ids(s: OrmSession) -> list[int]:
    """The ids of every stored session revision, in id order."""
    return list(s.scalars(select(SessionRow.id).order_by(SessionRow.id)))
