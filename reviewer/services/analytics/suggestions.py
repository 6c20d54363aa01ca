"""Judges suggest, humans decide: agreement with the suggestions reviewers were shown, and
per reviewer how often they took them unchanged and how long reviews took with and without.

Read from the record every saved review keeps (``reviews.suggestions``), over submitted
reviewer reviews in the batch and filter of the query.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from statistics import median
from typing import Any

import numpy as np
from sqlalchemy import select

from reviewer.domain.figures import ConfusionCell, SuggestionAgreement, SuggestionUse
from reviewer.domain.stats import cohen_kappa
from reviewer.services.analytics.load import main_reviews, resolve
from reviewer.services.analytics.query import StatsQuery
from reviewer.store.tables import ReviewRow
from reviewer.store.workspace import Workspace


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def suggestion_figures(
    ws: Workspace, query: StatsQuery
) -> tuple[list[SuggestionAgreement], list[SuggestionUse]]:
    """Agreement per judge and dimension, and use per reviewer."""
    with ws.read() as s:
        scope = resolve(s, query)
        stmt = scope.reviews(
            select(
                ReviewRow.reviewer,
                ReviewRow.values,
                ReviewRow.suggestions,
                ReviewRow.active_seconds,
            ).where(ReviewRow.status == "submitted", *main_reviews("reviewer"))
        )
        rows = s.execute(stmt).all()
    pairs: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
    offered: Counter[str] = Counter()
    taken: Counter[str] = Counter()
    seconds: dict[tuple[str, bool], list[float]] = defaultdict(list)
    for reviewer, values, records, active in rows:
        records = records or {}
        shown = False
        for dim, record in records.items():
            if not isinstance(record, dict) or record.get("outcome") == "none":
                continue
            shown = True
            suggested = record.get("suggested")
            if suggested is None:
                continue
            offered[reviewer] += 1
            if record.get("outcome") == "taken":
                taken[reviewer] += 1
            human = (values or {}).get(dim)
            if record.get("outcome") in ("taken", "changed") and human is not None:
                key = (str(record.get("judge") or "?"), dim)
                pairs[key][(_text(suggested), _text(human))] += 1
        seconds[(reviewer, shown)].append(float(active or 0.0))
    agreement = [_agreement(judge, dim, counts) for (judge, dim), counts in sorted(pairs.items())]
    use = []
    for reviewer in sorted({r for r, _ in seconds}):
        with_ = seconds.get((reviewer, True), [])
        without = seconds.get((reviewer, False), [])
        n = offered[reviewer]
        use.append(
            SuggestionUse(
                reviewer=reviewer,
                offered=n,
                taken_unchanged=taken[reviewer],
                share_taken_unchanged=round(taken[reviewer] / n, 6) if n else None,
                reviews_with=len(with_),
                reviews_without=len(without),
                median_seconds_with=round(median(with_), 3) if with_ else None,
                median_seconds_without=round(median(without), 3) if without else None,
            )
        )
    return agreement, use


def _agreement(judge: str, dim: str, counts: Counter[tuple[str, str]]) -> SuggestionAgreement:
    categories = sorted({c for pair in counts for c in pair})
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)))
    for (j, h), n in counts.items():
        table[index[j], index[h]] += n
    total = int(table.sum())
    kappa = cohen_kappa(table)
    return SuggestionAgreement(
        judge=judge,
        dimension=dim,
        reviews=total,
        agreement=round(float(np.trace(table)) / total, 6) if total else None,
        kappa=round(kappa.kappa, 6) if kappa else None,
        kappa_low=round(kappa.low, 6) if kappa else None,
        kappa_high=round(kappa.high, 6) if kappa else None,
        confusion=[
            ConfusionCell(judge=j, human=h, count=n) for (j, h), n in sorted(counts.items())
        ],
    )
