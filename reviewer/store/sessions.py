"""Session repository: store, revise and load canonical sessions."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.session import Role, Session, session_summary
from reviewer.store.tables import SessionContent, SessionRow, SessionScore, SessionTag

COMPRESS_LEVEL = 1
"""zlib level of stored content. Level 1 compresses generated sessions 4.2x against 4.5x at
level 6, in two thirds of the time (tests/perf bench_import); every level reads the same."""
KEY_BATCH = 500
"""Session keys per ``IN (...)`` lookup."""


@dataclass(frozen=True, slots=True)
class PreparedSession:
    """A session in the form the store writes: key, content hash, the indexed columns,
    zlib-compressed canonical JSON, tags and judge scores. Small and picklable, so that a
    chunk of them costs little to keep, unlike a chunk of full ``Session`` objects."""

    key: str
    content_hash: str
    """SHA-256 of what a reviewer sees: the canonical JSON with sorted keys, no ``source``."""
    columns: dict[str, Any]
    """Indexed ``sessions`` columns: provenance, summary and the first user text."""
    content: bytes
    tags: tuple[str, ...]
    scores: tuple[tuple[str, float], ...]


def prepare_session(session: Session) -> PreparedSession:
    """Serialise a session once: the same bytes are hashed (without provenance) and stored."""
    data = session.model_dump(mode="json")
    source = data.pop("source")
    digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
    data["source"] = source
    content = zlib.compress(orjson.dumps(data, option=orjson.OPT_SORT_KEYS), COMPRESS_LEVEL)
    columns: dict[str, Any] = {
        "source_format": session.source.format,
        "source_file": session.source.file,
        "source_position": session.source.position,
        "first_user_text": _first_user_text(session),
        **session_summary(session),
    }
    return PreparedSession(
        key=session.id,
        content_hash=digest,
        columns=columns,
        content=content,
        tags=tuple(dict.fromkeys(t[:200] for t in session.tags)),
        scores=tuple(dict((k[:200], v) for k, v in session.signals.judge_scores.items()).items()),
    )


def decode_content(data: bytes) -> Session:
    return Session.model_validate_json(zlib.decompress(data))


def _first_user_text(session: Session) -> str | None:
    for step in session.steps:
        if step.role is Role.USER and step.content.strip():
            return " ".join(step.content.split())[:300]
    return None


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
        prior = latest.get(item.key)
        if prior is not None and prior[2] == item.content_hash:
            result.duplicates += 1
            continue
        if item.key in pending_keys:
            # The same id twice in one chunk: store what we have first, then this one.
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
    # Plain executemany (no RETURNING: SQLAlchemy would split it into hundreds of small
    # statements), then one query for the new ids.
    conn.execute(
        insert(SessionRow),
        [
            {
                "session_key": item.key,
                "revision": revision,
                "is_latest": True,
                "content_hash": item.content_hash,
                "imported_at": now,
                **item.columns,
            }
            for item, revision in pending
        ],
    )
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
    conn.execute(
        insert(SessionContent),
        [
            {"session_id": pk, "data": item.content}
            for pk, (item, _) in zip(ids, pending, strict=True)
        ],
    )
    tags = [
        {"session_id": pk, "tag": tag}
        for pk, (item, _) in zip(ids, pending, strict=True)
        for tag in item.tags
    ]
    if tags:
        conn.execute(insert(SessionTag), tags)
    scores = [
        {"session_id": pk, "name": name, "value": value}
        for pk, (item, _) in zip(ids, pending, strict=True)
        for name, value in item.scores
    ]
    if scores:
        conn.execute(insert(SessionScore), scores)
    for pk, (item, revision) in zip(ids, pending, strict=True):
        latest[item.key] = (pk, revision, item.content_hash)


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
