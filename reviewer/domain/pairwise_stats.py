"""Pairwise figures: win rates of one version over another, position bias, agreement.

Input rows are submitted preferences, one per reviewer and pair item, turned into the
compared values' terms: for each, which value won (``A``, ``B``, or none for a tie or
"both bad") and on which side the winner was shown.

- **Win rate of B over A**, per pair item first: B winning counts 1, a tie or "both bad"
  ½, A winning 0, averaged over the item's reviewers; then the mean over items, with
  Wilson's 95 % interval (ties split, so the count of successes may be fractional).
- **Sign test**: an exact two-sided binomial test of the items where one side won (by
  their reviewers' mean) against ½: p = min(1, 2·P(X ≤ min(k, n − k))), X ~ Bin(n, ½).
- **Position bias**: among preferences that picked a side, the share that picked the left
  one, with its Wilson interval and the same sign test against 50 %.
- **Agreement**: Cohen's κ over every two reviewers of the same pair item, on the four
  choices (left, right, tie, both bad).
- **Bradley–Terry ranking** (a field compared over three or more values): strengths π_v
  with P(v beats w) = π_v/(π_v + π_w), fitted by Hunter's (2004) MM iterations on the
  preferences (a tie or "both bad" counts ½ a win each way, and every two values compared
  get one such virtual tie, so a value that never won keeps a finite strength); reported
  as log-strengths centred on their mean, with 95 % percentile intervals from 200 seeded
  bootstrap resamples of the preferences.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from reviewer.domain.stats import cohen_kappa, wilson

CHOICES = ("left", "right", "tie", "both_bad")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WinRate(_Model):
    """One comparison: ``field`` = ``b`` against ``field`` = ``a``."""

    field: str
    a: str
    b: str
    batches: list[str]
    items: int
    """Pair items with at least one submitted preference."""
    reviews: int
    wins_a: int
    """Preferences (not items) for the A session."""
    wins_b: int
    ties: int
    both_bad: int
    win_rate: float
    """B over A, ties and "both bad" split half and half, per item then averaged."""
    ci_low: float | None = None
    ci_high: float | None = None
    sign_test_p: float | None = None
    """Exact two-sided sign test over items one side won (null when none did)."""


class PositionBias(_Model):
    decided: int
    """Preferences that picked a side."""
    left_share: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    sign_test_p: float | None = None


class PairAgreement(_Model):
    items: int
    """Pair items with two or more submitted preferences."""
    pairs: int
    """Reviewer pairs compared (every two reviewers of the same item)."""
    kappa: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class RankedValue(_Model):
    value: str
    strength: float
    """Bradley–Terry log-strength, centred on the mean over the field's values."""
    ci_low: float | None = None
    ci_high: float | None = None


class Ranking(_Model):
    """Bradley–Terry ranking of the values of one field, strongest first."""

    field: str
    preferences: int
    values: list[RankedValue]


class PairwiseStats(_Model):
    """``reviewer stats --json``'s ``pairwise`` object."""

    comparisons: list[WinRate] = Field(default_factory=list)
    rankings: list[Ranking] = Field(default_factory=list)
    """Only for fields compared over three or more values."""
    position_bias: PositionBias
    agreement: PairAgreement


@dataclass(frozen=True)
class Judgement:
    """One submitted preference in the compared values' terms."""

    item: int
    reviewer: str
    batch: str
    field: str
    a: str
    b: str
    winner: str
    """left, right, tie or both_bad (as picked)."""
    left: str
    """Which value ("A" or "B") was on the left."""

    @property
    def winning_value(self) -> str | None:
        if self.winner == "left":
            return self.left
        if self.winner == "right":
            return "B" if self.left == "A" else "A"
        return None


def sign_test(k: int, n: int) -> float | None:
    """Exact two-sided binomial test of ``k`` successes in ``n`` against ½."""
    if n <= 0:
        return None
    tail = sum(comb(n, i) for i in range(min(k, n - k) + 1))
    return min(1.0, 2 * tail / 2**n)


def _win_rate(key: tuple[str, str, str], rows: list[Judgement]) -> WinRate:
    scores: dict[int, list[float]] = defaultdict(list)
    for r in rows:
        won = r.winning_value
        scores[r.item].append(1.0 if won == "B" else 0.0 if won == "A" else 0.5)
    per_item = [sum(v) / len(v) for v in scores.values()]
    n = len(per_item)
    total = sum(per_item)
    ci = wilson(total, n)
    b_items = sum(s > 0.5 for s in per_item)
    decided = b_items + sum(s < 0.5 for s in per_item)
    return WinRate(
        field=key[0],
        a=key[1],
        b=key[2],
        batches=sorted({r.batch for r in rows}),
        items=n,
        reviews=len(rows),
        wins_a=sum(r.winning_value == "A" for r in rows),
        wins_b=sum(r.winning_value == "B" for r in rows),
        ties=sum(r.winner == "tie" for r in rows),
        both_bad=sum(r.winner == "both_bad" for r in rows),
        win_rate=total / n,
        ci_low=ci[0] if ci else None,
        ci_high=ci[1] if ci else None,
        sign_test_p=sign_test(b_items, decided),
    )


def pairwise_stats(judgements: Iterable[Judgement]) -> PairwiseStats:
    rows = list(judgements)
    groups: dict[tuple[str, str, str], list[Judgement]] = defaultdict(list)
    for r in rows:
        groups[(r.field, r.a, r.b)].append(r)
    decided = [r for r in rows if r.winner in ("left", "right")]
    left = sum(r.winner == "left" for r in decided)
    ci = wilson(left, len(decided))
    bias = PositionBias(
        decided=len(decided),
        left_share=left / len(decided) if decided else None,
        ci_low=ci[0] if ci else None,
        ci_high=ci[1] if ci else None,
        sign_test_p=sign_test(left, len(decided)),
    )
    by_item: dict[int, list[Judgement]] = defaultdict(list)
    for r in rows:
        by_item[r.item].append(r)
    table = [[0] * len(CHOICES) for _ in CHOICES]
    shared = 0
    for item_rows in by_item.values():
        if len(item_rows) < 2:
            continue
        shared += 1
        for x, y in combinations(sorted(item_rows, key=lambda r: r.reviewer), 2):
            table[CHOICES.index(x.winner)][CHOICES.index(y.winner)] += 1
    pairs = sum(map(sum, table))
    kappa = cohen_kappa(table) if pairs else None
    by_field: dict[str, list[Judgement]] = defaultdict(list)
    for r in rows:
        by_field[r.field].append(r)
    rankings = [
        ranking
        for f, judged in sorted(by_field.items())
        if (ranking := bradley_terry(f, judged)) is not None
    ]
    return PairwiseStats(
        comparisons=[_win_rate(k, v) for k, v in sorted(groups.items())],
        rankings=rankings,
        position_bias=bias,
        agreement=PairAgreement(
            items=shared,
            pairs=pairs,
            kappa=kappa.kappa if kappa else None,
            ci_low=kappa.low if kappa else None,
            ci_high=kappa.high if kappa else None,
        ),
    )


BOOTSTRAP = 200


def _fit(values: int, wins: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """Log-strengths (mean 0) from ``wins[i, j]`` (i over j, halves for ties) by MM."""
    w = wins.copy()
    for i, j in pairs:  # one virtual tie per compared couple
        w[i, j] += 0.5
        w[j, i] += 0.5
    n = w + w.T
    total = w.sum(axis=1)
    p = np.ones(values)
    for _ in range(500):
        denom = (n / (p[:, None] + p[None, :])).sum(axis=1)
        new = total / denom
        new /= np.exp(np.log(new).mean())
        done = np.max(np.abs(new - p)) < 1e-9
        p = new
        if done:
            break
    logs: np.ndarray = np.log(p)
    return logs - logs.mean()


def bradley_terry(field: str, rows: list[Judgement], *, seed: int = 0) -> Ranking | None:
    """The Bradley–Terry ranking of ``field``'s values, or None under three values."""
    names = sorted({v for r in rows for v in (r.a, r.b)})
    if len(names) < 3:
        return None
    index = {v: i for i, v in enumerate(names)}
    matches = []
    for r in rows:
        a, b = index[r.a], index[r.b]
        won = r.winning_value
        matches.append((a, b, 1.0 if won == "A" else 0.0 if won == "B" else 0.5))
    pairs = sorted({(min(a, b), max(a, b)) for a, b, _ in matches})

    first = np.array([a for a, _, _ in matches])
    second = np.array([b for _, b, _ in matches])
    score = np.array([x for _, _, x in matches])

    def wins(idx: np.ndarray) -> np.ndarray:
        m = np.zeros((len(names), len(names)))
        np.add.at(m, (first[idx], second[idx]), score[idx])
        np.add.at(m, (second[idx], first[idx]), 1.0 - score[idx])
        return m

    point = _fit(len(names), wins(np.arange(len(matches))), pairs)
    rng = np.random.default_rng(seed)
    size = len(matches)
    draws = np.array(
        [_fit(len(names), wins(rng.integers(0, size, size)), pairs) for _ in range(BOOTSTRAP)]
    )
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    order = sorted(range(len(names)), key=lambda i: (-point[i], names[i]))
    return Ranking(
        field=field,
        preferences=len(matches),
        values=[
            RankedValue(
                value=names[i],
                strength=round(float(point[i]), 6),
                ci_low=round(float(low[i]), 6),
                ci_high=round(float(high[i]), 6),
            )
            for i in order
        ],
    )
