"""Reading the preferences of pairwise batches a pair export selects.

Each preference comes with its batch (name, pairing spec, rubric), its item (position,
task key, which side is A) and its two sessions; ordered by batch, position, reviewer and
uid, so the same workspace gives the same records. Each SQL column is labelled with the
:class:`~reviewer.domain.pair_record.PairRecord` field it fills.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from reviewer.domain.filters import FilterSpec
from reviewer.domain.pair_record import PairRecord
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

__all__ = ["NotPairwise", "preference_records"]


class NotPairwise(ValueError):
    """The batch asked for is not a pairwise batch."""


_FROM_SPEC = ("field", "a", "b")
"""PairRecord fields taken from the batch's pairing spec, not from a column."""


def preference_records(
    ws: Workspace, *, submitted_only: bool, batch: str | None, spec: FilterSpec | None
) -> tuple[list[PairRecord], list[tuple[str, int]]]:
    """The preferences selected (only submitted ones or all, of one pairwise batch or any,
    whose pair has a session ``spec`` lets through; None: every pair) and the rubric
    versions (name, version) of their batches. Raises
    :class:`~reviewer.store.review_records.NoSuchBatch` and :class:`NotPairwise`."""
    left, right = aliased(SessionRow), aliased(SessionRow)
    p = PreferenceReviewRow
    by_field: dict[str, Any] = {
        "batch": BatchRow.name,
        "position": BatchItemRow.position,
        "task_key": BatchItemRow.pair_key,
        "left_is": BatchItemRow.pair_left,
        "left_session": left.session_key,
        "left_revision": left.revision,
        "left_id": left.id,
        "right_session": right.session_key,
        "right_revision": right.revision,
        "right_id": right.id,
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
    names = [f.name for f in fields(PairRecord) if f.name not in _FROM_SPEC]
    if set(by_field) != set(names):
        raise AssertionError(f"pair record columns differ: {sorted(set(by_field) ^ set(names))}")
    q = (
        select(
            *(by_field[n].label(n) for n in names),
            BatchRow.spec.label("batch_spec"),
            RubricRow.name.label("rubric_name"),
            RubricRow.version.label("rubric_version"),
        )
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
        out: list[PairRecord] = []
        rubrics: set[tuple[str, int]] = set()
        for row in s.execute(q).mappings():
            pairs = row["batch_spec"].get("pairs") or {}
            rubrics.add((row["rubric_name"], row["rubric_version"]))
            values = {n: row[n] for n in names} | {n: str(pairs.get(n, "")) for n in _FROM_SPEC}
            values["left_is"] = values["left_is"] or "A"
            values["dimensions"] = dict(values["dimensions"] or {})
            out.append(PairRecord(**values))
    return out, sorted(rubrics)
