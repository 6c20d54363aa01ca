"""Reads submitted preferences for the pairwise figures (:mod:`reviewer.domain.pairwise_stats`)."""

from __future__ import annotations

from reviewer.domain.pairwise_stats import Judgement, PairwiseStats, pairwise_stats
from reviewer.store import analytics as store
from reviewer.store.workspace import Workspace


def judgements(ws: Workspace, batch: str | None = None) -> list[Judgement]:
    """Every submitted preference (of ``batch`` only, when given), in item order."""
    out = []
    for item, reviewer, winner, left, name, spec in store.preference_rows(ws, batch):
        pairs = (spec or {}).get("pairs") or {}
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
    if not store.has_pair_batch(ws, batch):
        return None
    return pairwise_stats(judgements(ws, batch))
