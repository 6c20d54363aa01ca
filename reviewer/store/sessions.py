"""Session repository: store, revise and load canonical sessions."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.session import Role, Session, session_summary
from reviewer.store.tables import SessionContent, SessionRow, SessionScore, SessionTag

COMPRESS_LEVEL = 6


def _dump(session: Session) -> dict[str, object]:
    return session.model_dump(mode="json")


def _hash_of(data: dict[str, object]) -> str:
    """Hash of what a reviewer sees: everything but provenance (``source``)."""
    body = {k: v for k, v in data.items() if k != "source"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


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
    """Store sessions in the current transaction.

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
    keys = list(dict.fromkeys(x.id for x in sessions))
    latest: dict[str, tuple[int, int, str]] = {}
    for chunk_start in range(0, len(keys), 500):
        chunk = keys[chunk_start : chunk_start + 500]
        found = s.execute(
            select(
                SessionRow.session_key, SessionRow.id, SessionRow.revision, SessionRow.content_hash
            ).where(SessionRow.session_key.in_(chunk), SessionRow.is_latest.is_(True))
        )
        for key, pk, rev, h in found:
            latest[key] = (pk, rev, h)
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    contents: list[bytes] = []
    extras: list[Session] = []
    for session in sessions:
        data = _dump(session)
        digest = _hash_of(data)
        prior = latest.get(session.id)
        if prior is not None and prior[2] == digest:
            result.duplicates += 1
            continue
        if any(r["session_key"] == session.id for r in rows):
            # The same id twice in one chunk: store what we have first, then this one.
            _write(s, rows, contents, extras, latest, result)
            rows, contents, extras = [], [], []
            prior = latest.get(session.id)
            if prior is not None and prior[2] == digest:
                result.duplicates += 1
                continue
        revision = 1
        if prior is not None:
            s.execute(update(SessionRow).where(SessionRow.id == prior[0]).values(is_latest=False))
            revision = prior[1] + 1
            result.revised += 1
        else:
            result.imported += 1
        rows.append(
            {
                "session_key": session.id,
                "revision": revision,
                "is_latest": True,
                "content_hash": digest,
                "imported_at": now,
                "source_format": session.source.format,
                "source_file": session.source.file,
                "source_position": session.source.position,
                "first_user_text": _first_user_text(session),
                **session_summary(session),
            }
        )
        contents.append(
            zlib.compress(orjson.dumps(data, option=orjson.OPT_SORT_KEYS), COMPRESS_LEVEL)
        )
        extras.append(session)
    _write(s, rows, contents, extras, latest, result)
    return result


def _write(
    s: OrmSession,
    rows: list[dict[str, object]],
    contents: list[bytes],
    sessions: list[Session],
    latest: dict[str, tuple[int, int, str]],
    result: UpsertResult,
) -> None:
    """Insert prepared rows in bulk, with their content, tags and judge scores."""
    if not rows:
        return
    # Plain executemany (no RETURNING: SQLAlchemy would split it into hundreds of small
    # statements), then one query for the new ids. Keys are unique within ``rows``.
    conn = s.connection()
    conn.execute(insert(SessionRow), rows)
    keys = [str(r["session_key"]) for r in rows]
    new_ids: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        found = conn.execute(
            select(SessionRow.session_key, SessionRow.id).where(
                SessionRow.session_key.in_(keys[start : start + 500]),
                SessionRow.is_latest.is_(True),
            )
        )
        new_ids.update({k: pk for k, pk in found})
    ids = [new_ids[k] for k in keys]
    conn.execute(
        insert(SessionContent),
        [{"session_id": pk, "data": blob} for pk, blob in zip(ids, contents, strict=True)],
    )
    tags = [
        {"session_id": pk, "tag": tag}
        for pk, session in zip(ids, sessions, strict=True)
        for tag in dict.fromkeys(t[:200] for t in session.tags)
    ]
    if tags:
        conn.execute(insert(SessionTag), tags)
    scores = [
        {"session_id": pk, "name": name[:200], "value": value}
        for pk, session in zip(ids, sessions, strict=True)
        for name, value in dict(
            (k[:200], v) for k, v in session.signals.judge_scores.items()
        ).items()
    ]
    if scores:
        conn.execute(insert(SessionScore), scores)
    for pk, row in zip(ids, rows, strict=True):
        key = str(row["session_key"])
        latest[key] = (pk, int(str(row["revision"])), str(row["content_hash"]))


def load_session(s: OrmSession, session_id: int) -> Session:
    data = s.scalar(select(SessionContent.data).where(SessionContent.session_id == session_id))
    if data is None:
        raise KeyError(f"no session with id {session_id}")
    return decode_content(data)


def latest_id(s: OrmSession, session_key: str) -> int | None:
    return s.scalar(
        select(SessionRow.id).where(
            SessionRow.session_key == session_key, SessionRow.is_latest.is_(True)
        )
    )
