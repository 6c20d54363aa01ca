"""Pure statistics for review analytics: intervals, weighted estimates, agreement.

No I/O and no knowledge of the workspace: arrays in, numbers out. The heavy lifting is done by
krippendorff (Krippendorff's alpha), imported on first use. Wilson intervals and Cohen's
kappa are written out here, vectorised, because the library versions cost more time than the
figures may take (see :func:`wilson_intervals` and :func:`cohen_kappas`); the tests check
them against statsmodels and against published worked examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

Z95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95 % interval."""

FloatArray = npt.NDArray[np.float64]
Level = Literal["nominal", "ordinal"]


# A point estimate with its 95 % interval (None where it cannot be given): what the
# computations here return and what the figures (reviewer.domain.figures) carry. No
# docstring: it would become the description of Estimate in schemas/stats.schema.json.
class Estimate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float
    low: float | None = None
    high: float | None = None
    n: int
    """Units (sessions, or comparisons for accuracies) behind the estimate."""
    n_effective: float
    """Kish's effective sample size: below ``n`` when weights differ."""

    def rounded(self, digits: int = 6) -> Estimate:
        """The same estimate as reported: value and bounds to ``digits``, n_effective to 2."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, digits)

        return Estimate(
            value=round(self.value, digits), low=r(self.low), high=r(self.high), n=self.n,
            n_effective=round(self.n_effective, 2),
        )  # fmt: skip


@dataclass(frozen=True)
class Kappa:
    kappa: float
    low: float
    high: float
    n: int


def wilson_intervals(
    successes: npt.ArrayLike, n: npt.ArrayLike, *, z: float = Z95
) -> tuple[FloatArray, FloatArray]:
    """Wilson's score interval for proportions, element-wise (Wilson 1927; Newcombe 1998,
    method 3): NaN where ``n`` is not positive. ``successes`` and ``n`` may be fractional
    (weighted counts at an effective sample size).

    Written out (the formula is four lines) rather than taken from statsmodels'
    ``proportion_confint``, which loads scipy.stats — half a second of the two seconds
    ``reviewer stats`` may take; the tests check both agree.
    """
    x = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / m
        z2 = z * z
        denominator = 1 + z2 / m
        centre = (p + z2 / (2 * m)) / denominator
        half = z * np.sqrt(np.maximum(p * (1 - p) / m + z2 / (4 * m * m), 0.0)) / denominator
    bad = ~(m > 0)
    low = np.where(bad, np.nan, np.clip(centre - half, 0.0, 1.0))
    high = np.where(bad, np.nan, np.clip(centre + half, 0.0, 1.0))
    return low, high


def wilson(successes: float, n: float) -> tuple[float, float] | None:
    """Wilson's 95 % score interval for one proportion (see :func:`wilson_intervals`)."""
    if not n > 0:
        return None
    low, high = wilson_intervals(successes, n)
    return float(low), float(high)


def effective_n(weights: FloatArray) -> float:
    """Kish's effective sample size (Σw)² / Σw² of a weighted sample (Kish 1965)."""
    total = float(weights.sum())
    squares = float((weights * weights).sum())
    return total * total / squares if squares > 0 else 0.0


def _weights(values: FloatArray, weights: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    keep = ~np.isnan(values)
    w = np.ones_like(values) if weights is None else np.asarray(weights, dtype=float)
    return values[keep], w[keep]


def weighted_proportion(values: FloatArray, weights: FloatArray | None = None) -> Estimate | None:
    """The (weighted) share of ``values`` (each in 0…1) with a Wilson interval.

    Weights are inverse inclusion probabilities; the interval is Wilson's at Kish's effective
    sample size, so unequal weights widen it as they should. NaN values are left out.
    """
    y, w = _weights(np.asarray(values, dtype=float), weights)
    if len(y) == 0 or w.sum() <= 0:
        return None
    p = float((w * y).sum() / w.sum())
    n_eff = effective_n(w)
    ci = wilson(p * n_eff, n_eff)
    return Estimate(
        value=p, low=ci[0] if ci else None, high=ci[1] if ci else None, n=len(y), n_effective=n_eff
    )


def weighted_mean(values: FloatArray, weights: FloatArray | None = None) -> Estimate | None:
    """The (weighted) mean with a normal 95 % interval at Kish's effective sample size."""
    y, w = _weights(np.asarray(values, dtype=float), weights)
    if len(y) == 0 or w.sum() <= 0:
        return None
    mean = float((w * y).sum() / w.sum())
    n_eff = effective_n(w)
    if n_eff < 2:
        return Estimate(value=mean, n=len(y), n_effective=n_eff)
    variance = float((w * (y - mean) ** 2).sum() / w.sum()) * n_eff / (n_eff - 1)
    half = Z95 * math.sqrt(variance / n_eff)
    return Estimate(value=mean, low=mean - half, high=mean + half, n=len(y), n_effective=n_eff)


def cohen_kappas(tables: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Cohen's kappa of many square contingency tables at once (shape P × K × K; rows: rater
    A, columns: rater B): kappa, its large-sample standard error (Fleiss, Cohen & Everitt
    1969, as the SAS/STAT PROC FREQ documentation gives it — what statsmodels' ``cohens_kappa``
    computes) and the 95 % interval, cut to [-1, 1]. NaN where a table is empty or chance
    agreement is already perfect (both raters used one and the same category).

    Vectorised because a lead compares every pair of reviewers on every dimension: statsmodels
    builds a results object with two scipy distributions per table (about a millisecond each).
    """
    t = np.asarray(tables, dtype=float)
    n = t.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = t / n[:, None, None]
        rows = p.sum(axis=2)
        cols = p.sum(axis=1)
        diag = np.diagonal(p, axis1=1, axis2=2)
        observed = diag.sum(axis=1)
        expected = (rows * cols).sum(axis=1)
        kappa = (observed - expected) / (1 - expected)
        k = kappa[:, None]
        term_a = (diag * (1 - (rows + cols) * (1 - k)) ** 2).sum(axis=1)
        spread = (cols[:, :, None] + rows[:, None, :]) ** 2
        off = p * spread
        off_sum = off.sum(axis=(1, 2)) - np.diagonal(off, axis1=1, axis2=2).sum(axis=1)
        term_b = (1 - kappa) ** 2 * off_sum
        term_c = (kappa - expected * (1 - kappa)) ** 2
        variance = (term_a + term_b - term_c) / (1 - expected) ** 2 / n
        se = np.sqrt(np.maximum(variance, 0.0))
    undefined = (n <= 0) | (expected >= 1.0 - 1e-12)
    kappa = np.where(undefined, np.nan, kappa)
    se = np.where(undefined, np.nan, se)
    low = np.maximum(kappa - Z95 * se, -1.0)  # kappa lives in [-1, 1]
    high = np.minimum(kappa + Z95 * se, 1.0)
    return kappa, se, low, high


def cohen_kappa(table: npt.ArrayLike) -> Kappa | None:
    """Cohen's kappa of one square contingency table with its 95 % interval (see
    :func:`cohen_kappas`); None when it is undefined."""
    t = np.asarray(table, dtype=float)
    kappa, _se, low, high = cohen_kappas(t[None])
    if np.isnan(kappa[0]):
        return None
    return Kappa(float(kappa[0]), float(low[0]), float(high[0]), round(float(t.sum())))


def krippendorff_alpha(data: FloatArray, level: Level) -> float | None:
    """Krippendorff's alpha of reliability data (rows: coders, columns: units, NaN: missing).

    None when alpha is undefined: fewer than two values in pairable units, or only one
    distinct value overall (no disagreement can be observed or expected).
    """
    m = np.asarray(data, dtype=float)
    if m.ndim != 2 or m.size == 0:
        return None
    pairable = (~np.isnan(m)).sum(axis=0) >= 2
    m = m[:, pairable]
    if m.shape[1] == 0:
        return None
    values = m[~np.isnan(m)]
    if len(np.unique(values)) < 2:
        return None
    import krippendorff

    return float(krippendorff.alpha(reliability_data=m, level_of_measurement=level))


def krippendorff_alpha_of_units(
    units: npt.NDArray[np.intp], values: FloatArray, level: Level
) -> float | None:
    """:func:`krippendorff_alpha` of the same reliability data given one rating per row
    (``units[i]`` rated ``values[i]``, NaN: missing; one rating per coder and unit): the
    same figure, without the coders × units matrix (a tenth of the time at 50,000 units)."""
    ok = ~np.isnan(values)
    u, v = units[ok], values[ok]
    if not len(u):
        return None
    pairable = np.bincount(u)[u] >= 2
    u, v = u[pairable], v[pairable]
    domain = np.unique(v)
    if len(domain) < 2:
        return None
    import krippendorff

    rows, row = np.unique(u, return_inverse=True)  # the pairable units, in order
    cell = row * len(domain) + np.searchsorted(domain, v)
    counts = np.bincount(cell, minlength=len(rows) * len(domain)).reshape(len(rows), -1)
    return float(
        krippendorff.alpha(value_counts=counts, value_domain=domain, level_of_measurement=level)
    )


def auc(scores: FloatArray, positive: npt.NDArray[np.bool_]) -> float | None:
    """Area under the ROC curve: the chance that a random positive scores above a random
    negative (ties count half), from the Mann–Whitney rank sum."""
    s = np.asarray(scores, dtype=float)
    pos = np.asarray(positive, dtype=bool)
    n_pos = int(pos.sum())
    n_neg = len(s) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=float)
    sorted_scores = s[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    rank_sum = float(ranks[pos].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def correlation(
    x: FloatArray, y: FloatArray, *, method: Literal["pearson", "spearman"]
) -> float | None:
    """Pearson's r or Spearman's rho (Pearson's r of average ranks); None when a side is
    constant or fewer than three pairs remain after dropping NaN."""
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if len(a) < 3:
        return None
    if method == "spearman":
        a, b = _ranks(a), _ranks(b)
    if np.std(a) == 0 or np.std(b) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def _ranks(v: FloatArray) -> FloatArray:
    order = np.argsort(v, kind="mergesort")
    _, first, counts = np.unique(v[order], return_index=True, return_counts=True)
    out = np.empty(len(v), dtype=float)
    out[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    return out


def worse_beyond_intervals(
    candidate: Estimate | None, baseline: Estimate | None, *, higher_is_worse: bool
) -> bool:
    """True when ``candidate`` is worse than ``baseline`` with the two 95 % intervals apart."""
    if candidate is None or baseline is None:
        return False
    if higher_is_worse:
        return (
            candidate.low is not None
            and baseline.high is not None
            and candidate.low > baseline.high
        )
    return candidate.high is not None and baseline.low is not None and candidate.high < baseline.low
