"""Preference repository: one row per reviewer and pair item, each save audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.preference import Preference, Winner
from reviewer.store.tables import AssignmentRow, AuditEntry, BatchItemRow, PreferenceReviewRow


def pair_entries(s: OrmSession, batch_id: int, reviewer: str) -> list[tuple[int, int, str]]:
    """(position, item id, the reviewer's status) of the pairs of a batch assigned to
    ``reviewer`` (every pair when the batch assigns nobody), in batch order; "to do" where
    the reviewer has no preference yet."""
    items = s.execute(
        select(BatchItemRow.id, BatchItemRow.position)
        .where(BatchItemRow.batch_id == batch_id)
        .order_by(BatchItemRow.position)
    ).all()
    mine = set(
        s.scalars(
            select(AssignmentRow.item_id)
            .join(BatchItemRow, BatchItemRow.id == AssignmentRow.item_id)
            .where(BatchItemRow.batch_id == batch_id, AssignmentRow.reviewer == reviewer)
        )
    )
    anyone = mine or s.scalar(
        select(AssignmentRow.id)
        .join(BatchItemRow, BatchItemRow.id == AssignmentRow.item_id)
        .where(BatchItemRow.batch_id == batch_id)
        .limit(1)
    )
    status = dict(
        s.execute(
            select(PreferenceReviewRow.item_id, PreferenceReviewRow.status)
            .join(BatchItemRow, BatchItemRow.id == PreferenceReviewRow.item_id)
            .where(BatchItemRow.batch_id == batch_id, PreferenceReviewRow.reviewer == reviewer)
        ).all()
    )
    return [
        (pos, item_id, status.get(item_id, "to do"))
        for item_id, pos in items
        if not anyone or item_id in mine
    ]


def pair_item(s: OrmSession, batch_id: int, position: int) -> tuple[int, int, int] | None:
    """(item id, left session id, right session id) of the pair at ``position`` of a batch;
    None when there is none."""
    found = s.execute(
        select(BatchItemRow.id, BatchItemRow.session_id, BatchItemRow.pair_session_id).where(
            BatchItemRow.batch_id == batch_id,
            BatchItemRow.position == position,
            BatchItemRow.pair_session_id.is_not(None),
        )
    ).first()
    if found is None:
        return None
    item_id, left, right = found
    assert right is not None
    return item_id, left, right


def _preference(row: PreferenceReviewRow, batch: str, position: int) -> Preference:
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


def _row(s: OrmSession, item_id: int, reviewer: str) -> PreferenceReviewRow | None:
    return s.scalar(
        select(PreferenceReviewRow).where(
            PreferenceReviewRow.item_id == item_id, PreferenceReviewRow.reviewer == reviewer
        )
    )


def find_preference(
    s: OrmSession, item_id: int, reviewer: str, batch: str, position: int
) -> Preference | None:
    """``reviewer``'s preference on pair item ``item_id`` (at ``position`` of ``batch``)."""
    row = _row(s, item_id, reviewer)
    return None if row is None else _preference(row, batch, position)


def _snapshot(row: PreferenceReviewRow) -> dict[str, Any]:
    return {
        "status": row.status,
        "values": {"winner": row.winner, **(row.dimensions or {})},
        "rationale": row.rationale,
    }


def save_preference(
    s: OrmSession, item_id: int, pref: Preference, *, submit: bool, now: datetime
) -> Preference:
    """Store ``pref`` on pair item ``item_id`` as a draft, or submitted with ``submit``
    (a submitted preference stays submitted), with an audit entry (action ``preference``)."""
    row = _row(s, item_id, pref.reviewer)
    before = None if row is None else _snapshot(row)
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
    if submit:
        row.submitted_at = row.submitted_at if row.status == "submitted" else now
        row.status = "submitted"
    s.flush()
    session_id = s.scalar(select(BatchItemRow.session_id).where(BatchItemRow.id == item_id))
    s.add(
        AuditEntry(
            at=now,
            actor=pref.reviewer,
            action="preference",
            review_uid=row.uid,
            session_id=session_id,
            before=before,
            after=_snapshot(row),
        )
    )
    s.flush()
    return _preference(row, pref.batch, pref.position)
