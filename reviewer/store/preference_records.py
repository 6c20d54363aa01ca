"""Reading the preferences of pairwise batches a pair export selects.

Each preference comes with its batch (name, pairing spec, rubric), its item (position,
task key, which side is A) and its two sessions; ordered by batch, position, reviewer and
uid, so the same workspace gives the same records. Each SQL column is labelled with the
:class:`PreferenceRecord` field it fills.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import aliased

from reviewer.domain.filters import FilterSpec
from reviewer.store.filters import apply_filter
from reviewer.store.review_records import NoSuchBatch
from reviewer.store.tables import (
    BatchItemRow,
    BatchRow,
    PreferenceReviewRow,
    RubricRow,
    SessionRow,
)
from reviewer.store.workspace import Workspace

__all__ = ["NotPairwise", "PreferenceRecord", "preference_records"]


class NotPairwise(ValueError):
    """The batch asked for is not a pairwise batch."""


class PreferenceRecord(NamedTuple):
    batch: str
    batch_spec: dict[str, Any]
    position: int
    task_key: str | None
    left_is: str | None
    left_session: str
    left_revision: int
    left_id: int
    right_session: str
    right_revision: int
    right_id: int
    rubric_name: str
    rubric_version: int
    winner: str
    dimensions: dict[str, Any] | None
    rationale: str | None
    reviewer: str
    uid: str
    status: str
    submitted_at: datetime | None
    active_seconds: float
    simulated: bool


def preference_records(
    ws: Workspace, *, submitted_only: bool, batch: str | None, spec: FilterSpec | None
) -> list[PreferenceRecord]:
    """The preferences selected: only submitted ones or all, of one pairwise batch or any,
    whose pair has a session ``spec`` lets through (None: every pair). Raises
    :class:`~reviewer.store.review_records.NoSuchBatch` and :class:`NotPairwise`."""
    left, right = aliased(SessionRow), aliased(SessionRow)
    p = PreferenceReviewRow
    fields: dict[str, Any] = {
        "batch": BatchRow.name,
        "batch_spec": BatchRow.spec,
        "position": BatchItemRow.position,
        "task_key": BatchItemRow.pair_key,
        "left_is": BatchItemRow.pair_left,
        "left_session": left.session_key,
        "left_revision": left.revision,
        "left_id": left.id,
        "right_session": right.session_key,
        "right_revision": right.revision,
        "right_id": right.id,
        "rubric_name": RubricRow.name,
        "rubric_version": RubricRow.version,
        "winner": p.winner,
        "dimensions": p.dimensions,
        "rationale": p.rationale,
        "reviewer": p.reviewer,
        "uid": p.uid,
        "status": p.status,
        "submitted_at": p.submitted_at,
        "active_seconds": p.active_seconds,
        "simulated": p.simulated,
    }
    q = (
        select(*(fields[n].label(n) for n in PreferenceRecord._fields))
        .select_from(p)
        .join(BatchItemRow, BatchItemRow.id == p.item_id)
        .join(BatchRow, BatchRow.id == BatchItemRow.batch_id)
        .join(RubricRow, RubricRow.id == BatchRow.rubric_id)
        .join(left, left.id == BatchItemRow.session_id)
        .join(right, right.id == BatchItemRow.pair_session_id)
        .order_by(BatchRow.name, BatchItemRow.position, p.reviewer, p.uid)
    )
    if submitted_only:
        q = q.where(p.status == "submitted")
    if spec is not None:  # a pair is kept when either of its sessions matches
        matching = apply_filter(select(SessionRow.id), spec, latest_only=False)
        q = q.where(left.id.in_(matching) | right.id.in_(matching))
    with ws.read() as s:
        if batch is not None:
            found = s.scalar(select(BatchRow.spec).where(BatchRow.name == batch))
            if found is None:
                raise NoSuchBatch(batch)
            if not found.get("pairs"):
                raise NotPairwise(batch)
            q = q.where(BatchRow.name == batch)
        return [PreferenceRecord(*row) for row in s.execute(q)]
