"""Rows behind review packs: copying a batch into a pack workspace with its exact rubric
version and session revisions, and the review history merges compare."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.pack import AuditRecord, PackBatch, PackItem
from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Session
from reviewer.store.reviews import snapshot_sha256
from reviewer.store.sessions import upsert_sessions
from reviewer.store.tables import (
    AssignmentRow,
    AuditEntry,
    BatchItemRow,
    BatchRow,
    PackItemRow,
    RubricRow,
    SessionRow,
)


class PackStoreError(Exception):
    """A pack's content does not fit the workspace it is copied into; one line."""


def put_rubric(s: OrmSession, rubric: Rubric, created_at: datetime) -> int:
    """Store ``rubric`` under its own name and version (reviews refer to both)."""
    row = s.scalar(
        select(RubricRow).where(RubricRow.name == rubric.name, RubricRow.version == rubric.version)
    )
    if row is not None:
        if Rubric.model_validate(row.definition).content_key() != rubric.content_key():
            raise PackStoreError(
                f"rubric {rubric.name} v{rubric.version} differs from the one already here"
            )
        return row.id
    row = RubricRow(
        name=rubric.name,
        version=rubric.version,
        definition=rubric.model_dump(mode="json"),
        created_at=created_at,
    )
    s.add(row)
    s.flush()
    return row.id


def put_sessions(
    s: OrmSession, sessions: Sequence[tuple[Session, int]]
) -> dict[tuple[str, int], int]:
    """Store sessions at the revision numbers they have elsewhere; return their row ids.

    For a workspace that has none of these session keys yet (a fresh pack workspace).
    """
    ordered = sorted(sessions, key=lambda p: (p[0].id, p[1]))
    upsert_sessions(s, [sess for sess, _ in ordered])
    wanted: dict[str, list[int]] = defaultdict(list)
    for sess, revision in ordered:
        wanted[sess.id].append(revision)
    ids: dict[tuple[str, int], int] = {}
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        rows = s.execute(
            select(SessionRow.session_key, SessionRow.revision, SessionRow.id)
            .where(SessionRow.session_key.in_(keys[start : start + 500]))
            .order_by(SessionRow.session_key, SessionRow.revision.desc())
        )
        stored: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for key, rev, pk in rows:
            stored[key].append((rev, pk))
        for key, revs in stored.items():
            targets = sorted(wanted[key], reverse=True)
            if len(revs) != len(targets):
                raise PackStoreError(f"session {key!r} is in the pack twice with equal content")
            # Highest first: each target revision is at least the stored one, so no two
            # rows ever share a (key, revision) on the way.
            for (rev, pk), target in zip(revs, targets, strict=True):
                if rev != target:
                    s.execute(update(SessionRow).where(SessionRow.id == pk).values(revision=target))
                ids[(key, target)] = pk
    return ids


def put_batch(
    s: OrmSession,
    batch: PackBatch,
    rubric_id: int,
    items: Iterable[PackItem],
    session_ids: dict[tuple[str, int], int],
    reviewer: str,
) -> int:
    """The batch with the reviewer's items, each assigned to the reviewer."""
    row = BatchRow(
        name=batch.name,
        spec=batch.spec,
        rubric_id=rubric_id,
        blind=batch.blind,
        created_at=batch.created_at,
        population=batch.population,
        strata=batch.strata,
    )
    s.add(row)
    s.flush()
    for item in items:
        entry = BatchItemRow(
            batch_id=row.id,
            session_id=session_ids[(item.session_key, item.session_revision)],
            position=item.position,
            stratum=item.stratum,
            inclusion_probability=item.inclusion_probability,
            is_gold=item.is_gold,
        )
        s.add(entry)
        s.flush()
        s.add(
            AssignmentRow(
                item_id=entry.id, reviewer=reviewer, claimed_at=item.claimed_at, lease_until=None
            )
        )
    s.flush()
    return row.id


def pack_session_ids(s: OrmSession, pack_row_id: int) -> set[int]:
    """The session revisions (row ids) a pack carried, as recorded when it was made."""
    return set(
        s.scalars(select(PackItemRow.session_id).where(PackItemRow.pack_row_id == pack_row_id))
    )


def history_hashes(s: OrmSession, uids: Iterable[str]) -> dict[str, set[str]]:
    """For each review uid: hashes of every state its audit entries recorded."""
    out: dict[str, set[str]] = defaultdict(set)
    wanted = list(dict.fromkeys(uids))
    for start in range(0, len(wanted), 500):
        rows = s.execute(
            select(AuditEntry.review_uid, AuditEntry.before, AuditEntry.after).where(
                AuditEntry.review_uid.in_(wanted[start : start + 500])
            )
        )
        for uid, before, after in rows:
            for snap in (before, after):
                digest = snapshot_sha256(snap)
                if digest is not None and uid is not None:
                    out[uid].add(digest)
    return out


def _entry_key(e: AuditEntry | dict[str, Any]) -> tuple[Any, ...]:
    get = e.get if isinstance(e, dict) else lambda k: getattr(e, k)
    at = get("at")
    assert isinstance(at, datetime)
    return (
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        get("actor"),
        get("action"),
        get("review_uid"),
        _canon(get("before")),
        _canon(get("after")),
    )


def _canon(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def import_audit(
    s: OrmSession, records: Sequence[tuple[AuditRecord, str]], session_ids: Mapping[str, int | None]
) -> int:
    """Append audit records made elsewhere, each under the given review uid; records already
    in the log (same time, actor, action, uid, before and after) are not added again."""
    uids = list({uid for _, uid in records})
    present: set[tuple[Any, ...]] = set()
    for start in range(0, len(uids), 500):
        for entry in s.scalars(
            select(AuditEntry).where(AuditEntry.review_uid.in_(uids[start : start + 500]))
        ):
            present.add(_entry_key(entry))
    added = 0
    for rec, uid in records:
        row = {
            "at": rec.at,
            "actor": rec.actor,
            "action": rec.action,
            "review_uid": uid,
            "session_id": session_ids.get(uid),
            "before": rec.before,
            "after": rec.after,
        }
        key = _entry_key(row)
        if key in present:
            continue
        present.add(key)
        s.add(AuditEntry(**row))
        added += 1
    s.flush()
    return added
