"""Rows of preference reviews (one per reviewer and pair item) and their audit entries: what
the pair bench saves, what packs carry and what merging compares."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.preference import Preference, Winner
from reviewer.store.tables import (
    AssignmentRow,
    AuditEntry,
    BatchItemRow,
    BatchRow,
    PreferenceReviewRow,
)

PREFERENCE_ACTION = "preference"
"""Audit action of a preference saved in the app."""


def preference_snapshot(pref: Preference) -> dict[str, Any]:
    """The audited content of ``pref``, as :func:`_row_snapshot` records a stored row."""
    return {
        "status": pref.status,
        "values": {
            "winner": None if pref.winner is None else pref.winner.value,
            **{k: v.value for k, v in sorted(pref.dimensions.items())},
        },
        "rationale": (pref.rationale or "").strip() or None,
    }


def _row_snapshot(row: PreferenceReviewRow) -> dict[str, Any]:
    return {
        "status": row.status,
        "values": {"winner": row.winner, **(row.dimensions or {})},
        "rationale": row.rationale,
    }


def preference_sha256(snapshot: dict[str, Any] | None) -> str | None:
    """A stable hash of a preference's audited snapshot (None for none); keys an audit entry
    adds beside them (``pack_id``) do not count."""
    if snapshot is None:
        return None
    body = {k: snapshot.get(k) for k in ("status", "values", "rationale")}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def preference_from_row(row: PreferenceReviewRow, batch: str, position: int) -> Preference:
    return Preference(
        uid=row.uid,
        batch=batch,
        position=position,
        reviewer=row.reviewer,
        winner=Winner(row.winner) if row.winner else None,
        dimensions={k: Winner(v) for k, v in (row.dimensions or {}).items()},
        rationale=row.rationale,
        status=row.status,
        started_at=row.started_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        active_seconds=row.active_seconds,
        simulated=row.simulated,
    )


def reviewer_pairs(s: OrmSession, batch_id: int, reviewer: str) -> list[tuple[int, int, str]]:
    """(position, item id, the reviewer's status: "to do", "draft" or "submitted") of the
    pairs assigned to ``reviewer`` (every pair when the batch assigns nobody), in batch
    order."""
    items = s.execute(
        select(BatchItemRow.id, BatchItemRow.position)
        .where(BatchItemRow.batch_id == batch_id)
        .order_by(BatchItemRow.position)
    ).all()
    assigned = select(AssignmentRow.item_id).join(
        BatchItemRow, BatchItemRow.id == AssignmentRow.item_id
    )
    mine = set(
        s.scalars(
            assigned.where(BatchItemRow.batch_id == batch_id, AssignmentRow.reviewer == reviewer)
        )
    )
    anyone = mine or s.scalar(assigned.where(BatchItemRow.batch_id == batch_id).limit(1))
    status = {
        item_id: st
        for item_id, st in s.execute(
            select(PreferenceReviewRow.item_id, PreferenceReviewRow.status)
            .join(BatchItemRow, BatchItemRow.id == PreferenceReviewRow.item_id)
            .where(BatchItemRow.batch_id == batch_id, PreferenceReviewRow.reviewer == reviewer)
        )
    }
    return [
        (pos, item_id, status.get(item_id, "to do"))
        for item_id, pos in items
        if not anyone or item_id in mine
    ]


def pair_sessions(s: OrmSession, batch_id: int, position: int) -> tuple[int, int, int] | None:
    """(item id, left session id, right session id) of the pair at ``position``."""
    item = s.scalar(
        select(BatchItemRow).where(
            BatchItemRow.batch_id == batch_id, BatchItemRow.position == position
        )
    )
    if item is None or item.pair_session_id is None:
        return None
    return item.id, item.session_id, item.pair_session_id


def pair_item_id(s: OrmSession, batch: str, position: int) -> int | None:
    """The id of the pair item at ``position`` of batch ``batch`` (None: no such pair)."""
    return s.scalar(
        select(BatchItemRow.id)
        .join(BatchRow, BatchRow.id == BatchItemRow.batch_id)
        .where(
            BatchRow.name == batch,
            BatchItemRow.position == position,
            BatchItemRow.pair_session_id.is_not(None),
        )
    )


def find_preference(s: OrmSession, item_id: int, reviewer: str) -> PreferenceReviewRow | None:
    return s.scalar(
        select(PreferenceReviewRow).where(
            PreferenceReviewRow.item_id == item_id, PreferenceReviewRow.reviewer == reviewer
        )
    )


def preference_by_uid(s: OrmSession, uid: str) -> tuple[PreferenceReviewRow, int, str] | None:
    """The stored preference ``uid`` with its item's batch position and batch name."""
    found = s.execute(
        select(PreferenceReviewRow, BatchItemRow.position, BatchRow.name)
        .join(BatchItemRow, BatchItemRow.id == PreferenceReviewRow.item_id)
        .join(BatchRow, BatchRow.id == BatchItemRow.batch_id)
        .where(PreferenceReviewRow.uid == uid)
    ).first()
    return None if found is None else (found[0], found[1], found[2])


def row_sha256(row: PreferenceReviewRow) -> str:
    digest = preference_sha256(_row_snapshot(row))
    assert digest is not None
    return digest


class PreferenceTaken(Exception):
    """Another connection stored this reviewer's preference of the pair after it was looked
    up here: the unique constraint refused this one (PostgreSQL, team mode). ``stored`` is
    theirs, read on a fresh connection (None when it could not be read back)."""

    def __init__(self, stored: PreferenceReviewRow | None) -> None:
        self.stored = stored
        super().__init__("the preference was stored by another connection meanwhile")


def _stored_after_race(s: OrmSession, item_id: int, reviewer: str) -> PreferenceReviewRow | None:
    with OrmSession(s.get_bind()) as fresh:  # this session's transaction is spoiled
        return find_preference(fresh, item_id, reviewer)


def write_preference(
    s: OrmSession,
    item_id: int,
    pref: Preference,
    now: datetime,
    *,
    status: str,
    submitted_at: datetime | None,
    actor: str | None = None,
    action: str = PREFERENCE_ACTION,
    audit_note: dict[str, Any] | None = None,
) -> PreferenceReviewRow:
    """Insert or update the reviewer's preference of pair item ``item_id`` with ``pref``'s
    choices, ``status`` and ``submitted_at``, and audit the change (``audit_note`` adds keys
    to the entry's ``after``). The row keeps its uid once stored."""
    row = find_preference(s, item_id, pref.reviewer)
    before = None if row is None else _row_snapshot(row)
    if row is None:
        row = PreferenceReviewRow(
            uid=pref.uid,
            item_id=item_id,
            reviewer=pref.reviewer,
            status="draft",
            started_at=pref.started_at or now,
            dimensions={},
            active_seconds=0.0,
            simulated=pref.simulated,
        )
        s.add(row)
    row.winner = None if pref.winner is None else pref.winner.value
    row.dimensions = {k: v.value for k, v in sorted(pref.dimensions.items())}
    row.rationale = (pref.rationale or "").strip() or None
    row.active_seconds = max(row.active_seconds or 0.0, pref.active_seconds)
    row.updated_at = now
    row.status = status
    row.submitted_at = submitted_at
    try:
        s.flush()
    except IntegrityError:
        raise PreferenceTaken(_stored_after_race(s, item_id, pref.reviewer)) from None
    after = {**_row_snapshot(row), **(audit_note or {})}
    _audit(s, item_id, now, actor or pref.reviewer, action, row.uid, before, after)
    return row


def _audit(
    s: OrmSession,
    item_id: int,
    at: datetime,
    actor: str,
    action: str,
    uid: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    """An audit entry about a preference, filed under the pair item's left session."""
    session_id = s.scalar(select(BatchItemRow.session_id).where(BatchItemRow.id == item_id))
    s.add(
        AuditEntry(
            at=at,
            actor=actor,
            action=action,
            review_uid=uid,
            session_id=session_id,
            before=before,
            after=after,
        )
    )
    s.flush()


def note_kept_aside(
    s: OrmSession,
    item_id: int,
    kept_uid: str,
    pref: Preference,
    now: datetime,
    *,
    actor: str,
    note: dict[str, Any],
) -> None:
    """Keep a conflicting version of a preference aside in the audit trail (action
    ``conflict``, under ``kept_uid``): the one in use is not changed."""
    after = {**preference_snapshot(pref), "reviewer": pref.reviewer, **note}
    _audit(s, item_id, now, actor, "conflict", kept_uid, None, after)
