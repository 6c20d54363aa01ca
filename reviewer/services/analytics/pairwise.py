"""Reads submitted preferences for the pairwise figures (:mod:`reviewer.domain.pairwise_stats`)."""

from __future__ import annotations

from sqlalchemy import select

from reviewer.domain.pairwise_stats import Judgement, PairwiseStats, pairwise_stats
from reviewer.store.tables import BatchItemRow, BatchRow, PreferenceReviewRow
from reviewer.store.workspace import Workspace


def judgements(ws: Workspace, batch: str | None = None) -> list[Judgement]:
    """Every submitted preference (of ``batch`` only, when given), in item order."""
    q = (
        select(
            PreferenceReviewRow.item_id,
            PreferenceReviewRow.reviewer,
            PreferenceReviewRow.winner,
            BatchItemRow.pair_left,
            BatchRow.name,
            BatchRow.spec,
        )
        .join(BatchItemRow, BatchItemRow.id == PreferenceReviewRow.item_id)
        .join(BatchRow, BatchRow.id == BatchItemRow.batch_id)
        .where(PreferenceReviewRow.status == "submitted", PreferenceReviewRow.winner.is_not(None))
        .order_by(PreferenceReviewRow.item_id, PreferenceReviewRow.reviewer)
    )
    if batch is not None:
        q = q.where(BatchRow.name == batch)
    out = []
    with ws.read() as s:
        for item, reviewer, winner, left, name, spec in s.execute(q):
            pairs = spec.get("pairs") or {}
            out.append(
                Judgement(
                    item=item,
                    reviewer=reviewer,
                    batch=name,
                    field=str(pairs.get("field", "")),
                    a=str(pairs.get("a", "")),
                    b=str(pairs.get("b", "")),
                    winner=winner,
                    left=left or "A",
                )
            )
    return out


def pairwise(ws: Workspace, batch: str | None = None) -> PairwiseStats | None:
    """The pairwise figures of ``batch`` (every pairwise batch when None); None when the
    scope holds no pairwise batch."""
    q = select(BatchRow.spec)
    if batch is not None:
        q = q.where(BatchRow.name == batch)
    with ws.read() as s:
        if not any((spec or {}).get("pairs") for spec in s.scalars(q)):
            return None
    return pairwise_stats(judgements(ws, batch))
