"""Agreement between reviewers on items two or more of them reviewed, the disagreements a
lead may adjudicate, and each reviewer's accuracy on gold items."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from reviewer.domain import stats
from reviewer.domain.figures import (
    FAILURE,
    Agreement,
    DimensionAlpha,
    Estimate,
    GoldAccuracy,
    PairKappa,
)
from reviewer.services.analytics.coverage import latest
from reviewer.services.analytics.load import SUBMITTED, Data, Dim

Column = tuple[str, str, str, int, Literal["nominal", "ordinal"], Dim | None]
"""(name, label, frame column, number of categories, level, dimension)."""


def compared(dims: list[Dim]) -> list[Column]:
    """Every dimension agreement is reported on: the categorical ones and "any failure"."""
    cols: list[Column] = [(d.name, d.label, d.column, len(d.values), d.level, d) for d in dims]
    cols.append((FAILURE, "Any failure tag", "failed", 2, "nominal", None))
    return cols


def overlap(data: Data) -> pd.DataFrame:
    """Submitted reviews of items with two or more reviewers (the last of each reviewer's);
    ``u`` numbers the items 0, 1, …"""
    r = data.reviews
    all_ix, all_rv = r["ix"].to_numpy(), r["rv"].to_numpy()
    # row positions first, and the frame taken once
    pos = np.flatnonzero((r["status"].to_numpy() == SUBMITTED) & (all_ix >= 0))
    n_rev = max(1, len(data.reviewers))
    pos = pos[latest(all_ix[pos] * n_rev + all_rv[pos])]
    ix = all_ix[pos]
    pos = pos[np.bincount(ix, minlength=len(data.items))[ix] >= 2]
    ov = r.iloc[pos]
    ov["u"] = np.unique(all_ix[pos], return_inverse=True)[1]
    return ov


def _round(v: float) -> float | None:
    return None if np.isnan(v) else round(float(v), 6)


def agreement(data: Data) -> tuple[Agreement, pd.DataFrame, pd.DataFrame]:
    """Alpha per dimension, kappa per reviewer pair and dimension; every disagreement (u,
    batch_id, session_id, adjudicated, n: how many dimensions differ), open ones first; and
    the reviews of items seen by two or more reviewers (:func:`overlap`)."""
    ov = overlap(data)
    cols = compared(data.dims)
    if ov.empty:
        found = pd.DataFrame({"u": [], "batch_id": [], "session_id": [], "adjudicated": []})
        return Agreement(items=0), found, ov
    rc = ov["rv"].to_numpy()
    uc = ov["u"].to_numpy()
    n_rev = len(data.reviewers)
    n_units = int(uc.max()) + 1
    alphas = []
    kappas: list[PairKappa] = []
    pa, pb = _pairs(uc, rc)
    for name, label, col, k, level, dim in cols:
        values = ov[col].to_numpy(dtype=float)
        if dim is not None and level == "ordinal":
            values = dim.numbers(ov[col])
        rated = int((np.bincount(uc[~np.isnan(values)], minlength=n_units) >= 2).sum())
        alpha = stats.krippendorff_alpha_of_units(uc, values, level)
        alphas.append(
            DimensionAlpha(
                dimension=name, label=label, level=level, items=rated,
                alpha=None if alpha is None else round(alpha, 6),
            )
        )  # fmt: skip
        codes = ov[col].to_numpy(dtype=float)
        a, b = codes[pa], codes[pb]
        ok = ~(np.isnan(a) | np.isnan(b))
        if not ok.any():
            continue
        ra, rb = rc[pa][ok], rc[pb][ok]
        cell = ((ra * n_rev + rb) * k + a[ok].astype(int)) * k + b[ok].astype(int)
        tables = np.bincount(cell, minlength=n_rev * n_rev * k * k).reshape(n_rev, n_rev, k, k)
        totals = tables.sum(axis=(2, 3))
        ii, jj = np.nonzero(totals)
        chosen = tables[ii, jj]
        kappa, _se, low, high = stats.cohen_kappas(chosen)
        observed = np.trace(chosen, axis1=1, axis2=2) / totals[ii, jj]
        kappas += [
            PairKappa(
                dimension=name,
                reviewer_a=data.reviewers[i],
                reviewer_b=data.reviewers[j],
                items=int(totals[i, j]),
                kappa=_round(kv),
                low=_round(lv),
                high=_round(hv),
                observed_agreement=round(float(ob), 6),
            )
            for i, j, kv, lv, hv, ob in zip(ii, jj, kappa, low, high, observed, strict=True)
        ]
    found = _disagreements(data, ov, cols)
    return Agreement(items=n_units, alpha=alphas, kappa=kappas), found, ov


def _pairs(u: np.ndarray, rv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (a, b) of every two reviews of the same unit, ``a`` the one by the
    reviewer of the lower code (one review per reviewer and unit)."""
    order = np.argsort(u, kind="stable")
    su = u[order]
    firsts, seconds = [np.zeros(0, dtype=np.intp)], [np.zeros(0, dtype=np.intp)]
    d = 1
    while d < len(su):  # rows d apart in unit order, while some unit has that many
        same = np.flatnonzero(su[d:] == su[:-d])
        if not len(same):
            break
        firsts.append(order[same])
        seconds.append(order[same + d])
        d += 1
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    swap = rv[a] > rv[b]
    return np.where(swap, b, a), np.where(swap, a, b)


def differing(found: pd.DataFrame, ov: pd.DataFrame, dims: list[Dim]) -> list[list[str]]:
    """For some rows of the disagreements: the dimensions on which they differ."""
    cols = compared(dims)
    sub = ov[ov["u"].isin(found["u"])]
    differ = sub.groupby("u")[[c[2] for c in cols]].nunique() > 1
    flags = differ.loc[found["u"]].to_numpy().tolist()
    return [[c[0] for c, hit in zip(cols, row, strict=True) if hit] for row in flags]


def _disagreements(data: Data, ov: pd.DataFrame, cols: list[Column]) -> pd.DataFrame:
    u = ov["u"].to_numpy()
    order = np.argsort(u, kind="stable")
    starts = np.flatnonzero(np.r_[True, u[order][1:] != u[order][:-1]])
    n = np.zeros(len(starts), dtype=np.int64)
    for c in cols:  # differ: two or more distinct values (NaN left out), as nunique() > 1
        v = ov[c[2]].to_numpy(dtype=float)[order]
        n += np.fmax.reduceat(v, starts) > np.fmin.reduceat(v, starts)
    first = order[starts]  # each unit's first row
    found = pd.DataFrame(
        {
            "u": u[first],
            "ix": ov["ix"].to_numpy()[first],
            "batch_id": ov["batch_id"].to_numpy()[first],
            "session_id": ov["session_id"].to_numpy()[first],
            "n": n,
        }
    )
    found = found[found["n"] > 0].reset_index(drop=True)
    done = data.adjudications["ix"].to_numpy()
    found["adjudicated"] = np.isin(found["ix"].to_numpy(), done[done >= 0])
    return found.sort_values(
        ["adjudicated", "n", "batch_id", "session_id"],
        ascending=[True, False, True, True],
        kind="mergesort",
    ).reset_index(drop=True)


def gold_accuracy(data: Data) -> list[GoldAccuracy]:
    """Each reviewer's submitted values on gold items against the lead's reference labels."""
    if data.gold.empty:
        return []
    ref = data.gold.sort_values("review_id").drop_duplicates("session_id", keep="last")
    r = data.reviews
    # the reviews of gold sessions only, before copying any column (a few of 200,000)
    on_gold = r["session_id"].isin(ref["session_id"]).to_numpy()
    sub = r[on_gold & (r["status"].to_numpy() == SUBMITTED)]
    m = sub.merge(ref, on="session_id", suffixes=("", "_ref"))
    if m.empty:
        return []
    cols = compared(data.dims)
    tally = pd.DataFrame({"rv": m["rv"]})
    for name, _label, col, _k, _level, _dim in cols:
        ok = m[col].notna() & m[f"{col}_ref"].notna()
        tally[f"{name}:n"] = ok.astype(int)
        tally[f"{name}:eq"] = (ok & (m[col] == m[f"{col}_ref"])).astype(int)
    per = tally.groupby("rv", sort=True).sum()
    items = m.groupby("rv")["session_id"].nunique()
    n = per[[f"{c[0]}:n" for c in cols]].sum(axis=1)
    eq = per[[f"{c[0]}:eq" for c in cols]].sum(axis=1)
    out = []
    # plain dicts: .loc per cell cost a hundredth of a second each
    counts = {str(k): [int(x) for x in v] for k, v in per.to_dict("list").items()}
    rows = {rv: i for i, rv in enumerate(per.index)}
    for rv in per.index:
        total, matches = int(n.loc[rv]), int(eq.loc[rv])
        at = rows[rv]
        accuracy = None
        if total:
            ci = stats.wilson(matches, total)
            accuracy = Estimate(
                value=round(matches / total, 6),
                low=round(ci[0], 6) if ci else None,
                high=round(ci[1], 6) if ci else None,
                n=total,
                n_effective=float(total),
            )
        out.append(
            GoldAccuracy(
                reviewer=data.reviewers[int(rv)],
                items=int(items.loc[rv]),
                accuracy=accuracy,
                by_dimension={
                    c[0]: round(counts[f"{c[0]}:eq"][at] / counts[f"{c[0]}:n"][at], 6)
                    for c in cols
                    if counts[f"{c[0]}:n"][at]
                },
            )
        )
    return out
