"""Judges suggest, humans decide: agreement with the suggestions reviewers were shown, and
per reviewer how often they took them unchanged and how long reviews took with and without.

From the record every saved review keeps (``reviews.suggestions``), read in the one pass over
the reviews (:func:`reviewer.services.analytics.load.load`), over submitted reviewer reviews
in the batch and filter of the query.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import numpy as np
import orjson
import pandas as pd

from reviewer.domain.figures import ConfusionCell, SuggestionAgreement, SuggestionUse
from reviewer.domain.stats import cohen_kappa
from reviewer.services.analytics.load import Data


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def suggestion_figures(data: Data) -> tuple[list[SuggestionAgreement], list[SuggestionUse]]:
    """Agreement per judge and dimension, and use per reviewer, over submitted reviews."""
    # Only records that hold something are parsed (they come as JSON text, with the values
    # beside them): parsing every review's JSON would cost seconds at 200,000 reviews.
    rows = data.suggestions[data.suggestions["submitted"].to_numpy()]
    pairs: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
    offered: Counter[str] = Counter()
    taken: Counter[str] = Counter()
    reviewers = np.asarray(data.reviewers, dtype=object)[rows["rv"].to_numpy()]
    kept = rows["records"].to_numpy(dtype=object)
    shown = np.zeros(len(rows), dtype=bool)
    for i in np.flatnonzero(pd.notna(kept)).tolist():  # only records come as text
        records = _parsed(kept[i])
        values = _parsed(rows["values"].iat[i]) if records else {}
        reviewer = reviewers[i]
        for dim, record in records.items():
            if not isinstance(record, dict) or record.get("outcome") == "none":
                continue
            shown[i] = True
            suggested = record.get("suggested")
            if suggested is None:
                continue
            offered[reviewer] += 1
            if record.get("outcome") == "taken":
                taken[reviewer] += 1
            human = values.get(dim)
            if record.get("outcome") in ("taken", "changed") and human is not None:
                key = (str(record.get("judge") or "?"), dim)
                pairs[key][(_text(suggested), _text(human))] += 1
    active = np.nan_to_num(rows["active"].to_numpy(dtype=float), nan=0.0)
    grouped = (  # by reviewer code: one per name (data.reviewers), and integers group faster
        pd.DataFrame({"rv": rows["rv"].to_numpy(), "shown": shown, "active": active})
        .groupby(["rv", "shown"])["active"]
        .agg(["size", "median"])
    )
    keys = [(str(data.reviewers[r]), bool(w)) for r, w in grouped.index.to_list()]
    sizes = dict(zip(keys, grouped["size"].astype(int).to_list(), strict=True))
    medians = dict(zip(keys, grouped["median"].astype(float).to_list(), strict=True))
    agreement = [_agreement(judge, dim, counts) for (judge, dim), counts in sorted(pairs.items())]
    use = []
    for reviewer in sorted({r for r, _ in sizes}):
        n = offered[reviewer]
        with_, without = medians.get((reviewer, True)), medians.get((reviewer, False))
        use.append(
            SuggestionUse(
                reviewer=reviewer,
                offered=n,
                taken_unchanged=taken[reviewer],
                share_taken_unchanged=round(taken[reviewer] / n, 6) if n else None,
                reviews_with=sizes.get((reviewer, True), 0),
                reviews_without=sizes.get((reviewer, False), 0),
                median_seconds_with=round(with_, 3) if with_ is not None else None,
                median_seconds_without=round(without, 3) if without is not None else None,
            )
        )
    return agreement, use


def _parsed(text: Any) -> dict[str, Any]:
    """A JSON object stored as text ({} for NULL, which a column of NULLs gives as NaN)."""
    if not isinstance(text, str | bytes):
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # an integer beyond 64 bits
        value = json.loads(text)
    return value if isinstance(value, dict) else {}


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
