"""Quality: distributions, failure categories, and per agent version the failure rate and
mean quality with 95 % intervals, weighted back to the population, over time."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import pairwise
from typing import Literal

import numpy as np
import pandas as pd

from reviewer.domain import stats
from reviewer.domain.figures import (
    Distribution,
    Estimate,
    OptionCount,
    ParetoBar,
    Quality,
    TimePoint,
    VersionQuality,
)
from reviewer.domain.rubric import DimensionKind
from reviewer.services.analytics.load import SUBMITTED, Data, Dim
from reviewer.services.analytics.query import NO_BATCH, NONE_LABEL, AnalyticsError

EPOCH = date(1970, 1, 1)
Period = Literal["day", "week", "month"]


def quality_dimension(dims: list[Dim]) -> Dim | None:
    """The ordinal dimension behind "mean quality": one named quality, else the first."""
    ordinal = [d for d in dims if d.kind is DimensionKind.ORDINAL]
    return next((d for d in ordinal if d.name == "quality"), ordinal[0] if ordinal else None)


def units(data: Data, qdim: Dim | None) -> pd.DataFrame:
    """One row per sampled item with submitted reviews: the share of its reviewers who
    tagged a failure and their mean quality — or the adjudicated label where a lead recorded
    one — with its inclusion probability, agent version (code) and day."""
    r = data.reviews
    ix = r["ix"].to_numpy()
    sub = (r["status"].to_numpy() == SUBMITTED) & (ix >= 0)  # columns taken, not the frame
    q = qdim.numbers(r[qdim.column].to_numpy()[sub]) if qdim is not None else np.nan
    u = (
        pd.DataFrame({"ix": ix[sub], "failed": r["failed"].to_numpy()[sub], "q": q})
        .groupby("ix", sort=False)
        .agg(reviews=("ix", "size"), failed=("failed", "mean"), q=("q", "mean"))
    )
    adj = data.adjudications[data.adjudications["ix"] >= 0].sort_values("review_id")
    if len(adj):
        final = adj.drop_duplicates("ix", keep="last").set_index("ix")
        final_q = pd.Series(
            qdim.numbers(final[qdim.column]) if qdim is not None else np.nan, index=final.index
        )
        u["failed"] = final["failed"].reindex(u.index).fillna(u["failed"])
        u["q"] = final_q.reindex(u.index).fillna(u["q"])
    info = data.items.iloc[u.index.to_numpy()]
    u = u.reset_index(drop=True)
    for c in ("batch_id", "pi", "gold", "version", "day"):
        u[c] = info[c].to_numpy()
    return u[~u["gold"].astype(bool)].reset_index(drop=True)


Columns = dict[str, np.ndarray]
"""Some columns of the units, as arrays."""


def _columns(u: pd.DataFrame) -> Columns:
    return {c: u[c].to_numpy() for c in ("pi", "failed", "q", "reviews")}


def _groups(cols: Columns, key: np.ndarray) -> dict[int, Columns]:
    """The rows of each value of ``key``, in their order (as pandas' groupby gives them):
    slices of arrays, not a DataFrame per group."""
    if not len(key):
        return {}
    order = np.argsort(key, kind="stable")
    k = key[order]
    bounds = np.flatnonzero(np.r_[True, k[1:] != k[:-1], True]).tolist()
    return {
        int(k[start]): {c: v[order[start:end]] for c, v in cols.items()}
        for start, end in pairwise(bounds)
    }


def _rates(g: Columns, weighted: bool, failures: bool) -> tuple[Estimate | None, Estimate | None]:
    w = (1.0 / g["pi"]) if weighted else None
    rate = stats.weighted_proportion(g["failed"], w) if failures else None
    mean = stats.weighted_mean(g["q"], w)
    return (rate.rounded() if rate else None), (mean.rounded() if mean else None)


def _worse(a: Estimate | None, b: Estimate | None, *, higher_is_worse: bool) -> bool:
    return stats.worse_beyond_intervals(a, b, higher_is_worse=higher_is_worse)


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of version names: 1.9 before 1.10."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", version) if p)


def quality(data: Data, baseline: str | None, by: str = "auto") -> Quality:
    qdim = quality_dimension(data.dims)
    u = units(data, qdim)
    batches = set(u["batch_id"].unique().tolist())
    one_batch = len(batches) == 1 and NO_BATCH not in batches
    weighted = one_batch and bool(len(u)) and float(np.ptp(u["pi"].to_numpy())) > 1e-12
    if weighted:
        note = "weighted by 1/inclusion probability back to the batch's population"
    elif one_batch:
        note = "one batch drawn with equal inclusion probabilities: no weighting needed"
    elif len(batches) > 1:
        note = "several batches (or reviews outside batches): figures of the sample, unweighted"
    else:
        note = "reviews outside batches: figures of the sample, unweighted"
    failures = data.has_taxonomy
    names = {c: (NONE_LABEL if c < 0 else str(data.versions[c])) for c in u["version"].unique()}
    present = sorted(set(names.values()), key=version_key)
    # each version name by its place in present (two codes may share the name "(none)")
    u["vname"] = u["version"].map({c: present.index(n) for c, n in names.items()})
    if baseline is not None and baseline not in present:
        raise AnalyticsError(
            f"--baseline {baseline!r}: no reviewed sessions of that version"
            f" (versions: {', '.join(present) or 'none'})"
        )
    if baseline is None and present:
        baseline = next((v for v in present if v != NONE_LABEL), present[0])
    per_version = {
        present[v]: g for v, g in _groups(_columns(u), u["vname"].to_numpy(dtype=np.int64)).items()
    }
    estimates = {v: _rates(g, weighted, failures) for v, g in per_version.items()}
    base = estimates.get(baseline or "", (None, None))
    warnings: list[str] = []
    rows = []
    label = qdim.label.lower() if qdim else "quality"
    for v in present:
        rate, mean = estimates[v]
        worse_rate = v != baseline and _worse(rate, base[0], higher_is_worse=True)
        worse_mean = v != baseline and _worse(mean, base[1], higher_is_worse=False)
        if worse_rate and rate and base[0]:
            warnings.append(
                f"version {v} fails more often than baseline {baseline}:"
                f" {_pct(rate)} vs {_pct(base[0])}"
            )
        if worse_mean and mean and base[1]:
            warnings.append(
                f"version {v} has a lower mean {label} than baseline {baseline}:"
                f" {_mean(mean)} vs {_mean(base[1])}"
            )
        g = per_version[v]
        rows.append(
            VersionQuality(
                version=v,
                sessions=len(g["pi"]),
                reviews=int(g["reviews"].sum()),
                failure_rate=rate,
                mean_quality=mean,
                is_baseline=v == baseline,
                worse_than_baseline=worse_rate or worse_mean,
            )
        )
    overall = _rates(_columns(u), weighted, failures)
    period, points = _over_time(u, present, weighted, failures, baseline, base, by)
    # the dimensions' columns of submitted reviews only (the distributions count them)
    submitted = data.reviews.loc[
        data.reviews["status"].to_numpy() == SUBMITTED, [d.column for d in data.dims]
    ]
    return Quality(
        reviews=len(submitted),
        sessions=len(u),
        weighted=weighted,
        weighting_note=note,
        quality_dimension=qdim.name if qdim else None,
        baseline_version=baseline,
        distributions=distributions(data.dims, submitted),
        failure_categories=pareto(data.tags, data.tag_labels),
        overall_failure_rate=overall[0],
        overall_mean_quality=overall[1],
        versions=rows,
        period=period,
        over_time=points,
        warnings=warnings,
    )


def _pct(e: Estimate) -> str:
    span = f" ({100 * e.low:.1f}–{100 * e.high:.1f} %)" if e.low is not None and e.high else ""
    return f"{100 * e.value:.1f} %{span}"


def _mean(e: Estimate) -> str:
    span = f" ({e.low:.2f}–{e.high:.2f})" if e.low is not None and e.high is not None else ""
    return f"{e.value:.2f}{span}"


def _over_time(
    u: pd.DataFrame,
    present: list[str],
    weighted: bool,
    failures: bool,
    baseline: str | None,
    base: tuple[Estimate | None, Estimate | None],
    by: str = "auto",
) -> tuple[Period, list[TimePoint]]:
    dated = u[u["day"].notna()]
    periods: dict[str, Period] = {"day": "day", "week": "week", "month": "month"}
    chosen = periods.get(by)  # None: auto
    if dated.empty:
        return chosen or "week", []
    day = dated["day"].to_numpy().astype(np.int64)
    period: Period = chosen or ("day" if int(day.max() - day.min()) <= 21 else "week")
    if period == "day":
        start = day
    elif period == "week":
        start = day - (day + 3) % 7  # 1970-01-01 was a Thursday
    else:  # the first day of the month, in days since 1970-01-01
        start = day.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
        start = start.astype(np.int64)
    points = []
    low = int(start.min())
    span = int(start.max()) - low + 1
    key = dated["vname"].to_numpy(dtype=np.int64) * span + (start - low)
    for k, g in _groups(_columns(dated), key).items():
        v, p = present[k // span], low + k % span
        rate, mean = _rates(g, weighted, failures)
        worse = str(v) != baseline and (
            _worse(rate, base[0], higher_is_worse=True)
            or _worse(mean, base[1], higher_is_worse=False)
        )
        points.append(
            TimePoint(
                version=str(v),
                period_start=EPOCH + timedelta(days=int(p)),
                sessions=len(g["pi"]),
                failure_rate=rate,
                mean_quality=mean,
                worse_than_baseline=worse,
            )
        )
    points.sort(key=lambda t: (version_key(t.version), t.period_start))
    return period, points


def distributions(dims: list[Dim], submitted: pd.DataFrame) -> list[Distribution]:
    """How often each option of every categorical dimension was given."""
    out = []
    for d in dims:
        raw = submitted[d.column].to_numpy(dtype=float)
        codes = raw[~np.isnan(raw)].astype(int)
        if len(codes) == 0:
            continue
        counts = np.bincount(codes, minlength=len(d.values))
        total = int(counts.sum())
        mean = None
        if d.kind is DimensionKind.ORDINAL:
            mean = round(float((counts * d.numeric).sum() / total), 4)
        out.append(
            Distribution(
                dimension=d.name,
                label=d.label,
                kind=d.kind.value,
                reviews=total,
                options=[
                    OptionCount(value=v, label=lab, count=int(c), share=round(c / total, 6))
                    for v, lab, c in zip(d.values, d.labels, counts.tolist(), strict=True)
                ],
                mean=mean,
            )
        )
    return out


def pareto(tags: pd.DataFrame, labels: dict[str, str]) -> list[ParetoBar]:
    """Failure categories, most frequent first, with their cumulative share."""
    if tags.empty:
        return []
    t = tags.sort_values(["count", "tag"], ascending=[False, True], kind="mergesort")
    counts = t["count"].to_numpy()
    shares = counts / counts.sum()
    cumulative = np.minimum(1.0, np.cumsum(shares))
    return [
        ParetoBar(
            tag=str(tag), label=labels.get(str(tag), str(tag)), count=int(n),
            share=round(float(sh), 6), cumulative_share=round(float(cu), 6),
        )
        for tag, n, sh, cu in zip(t["tag"], counts, shares, cumulative, strict=True)
    ]  # fmt: skip
