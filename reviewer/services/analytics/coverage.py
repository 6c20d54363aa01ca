"""Coverage: how far review has got, per batch, stratum, reviewer and agent version."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reviewer.domain.figures import Coverage, CoverageRow
from reviewer.services.analytics.load import STATUS_CODES, SUBMITTED, Data
from reviewer.services.analytics.query import GOLD_STRATUM, NONE_LABEL


def _name(names: list[Any], code: int) -> str:
    return NONE_LABEL if code < 0 else str(names[code])


def latest(keys: np.ndarray) -> np.ndarray:
    """Positions of the last occurrence of each key (the review that counts)."""
    return np.flatnonzero(~pd.Index(keys).duplicated(keep="last"))


def _pick(values: np.ndarray, pos: np.ndarray, hit: np.ndarray, default: Any) -> np.ndarray:
    """values[pos] where hit, else default (also when there is no value at all: a batch
    with no review yet)."""
    out = np.full(len(pos), default, dtype=values.dtype if len(values) else type(default))
    out[hit] = values[pos[hit]]
    return out


def assignment_status(data: Data) -> pd.DataFrame:
    """One row per assignment with its item's batch, stratum (-2: gold item) and version and
    the status and active time of the reviewer's review — or preference, on a pair item
    (status 0: none or draft)."""
    a = data.assignments[data.assignments["ix"] >= 0]
    items = data.items
    ix = a["ix"].to_numpy()
    rv = a["rv"].to_numpy()
    n_rev = max(1, len(data.reviewers))
    r = data.reviews[data.reviews["ix"] >= 0]
    r_keys = r["ix"].to_numpy() * n_rev + r["rv"].to_numpy()
    last = latest(r_keys)
    pos = pd.Index(r_keys[last]).get_indexer(ix * n_rev + rv)
    hit = pos >= 0
    status = _pick(r["status"].to_numpy()[last], pos, hit, 0)
    active = _pick(r["active"].to_numpy()[last].astype(float), pos, hit, np.nan)
    # pair items are reviewed by a preference between their two sessions, not a review
    p = data.preferences[data.preferences["ix"] >= 0]
    if len(p):
        p_keys = p["ix"].to_numpy() * n_rev + p["rv"].to_numpy()
        p_pos = pd.Index(p_keys).get_indexer(ix * n_rev + rv)  # one per item and reviewer
        p_hit = (p_pos >= 0) & ~hit
        status[p_hit] = p["status"].to_numpy()[p_pos[p_hit]]
        active[p_hit] = p["active"].to_numpy()[p_pos[p_hit]]
    gold = items["gold"].to_numpy()[ix]
    return pd.DataFrame(
        {
            "batch_id": items["batch_id"].to_numpy()[ix],
            "stratum": np.where(gold, -2, items["stratum"].to_numpy()[ix]),
            "version": items["version"].to_numpy()[ix],
            "rv": rv,
            "status": status,
            "active": active,
        }
    )


def _ranks(values: np.ndarray) -> tuple[int, np.ndarray]:
    """How many distinct values a column of small integers holds, and the rank of each
    value among them (in value order) — without sorting."""
    low = int(values.min())
    present = np.bincount(values - low) > 0
    rank = np.cumsum(present) - 1
    return int(present.sum()), rank[values - low]


def coverage(data: Data) -> Coverage:
    a = assignment_status(data)
    status = a["status"].to_numpy()
    active = a["active"].where(status == SUBMITTED)  # active time of submitted reviews
    overall = active.median()
    fallback = None if pd.isna(overall) else float(overall)
    columns = {k: a[k].to_numpy() for k in ("batch_id", "stratum", "rv", "version")}
    columns["all"] = np.zeros(len(a), dtype=np.int64)

    def key_names(column: str) -> Any:
        if column == "batch_id":
            return lambda c: data.batch_names.get(c, NONE_LABEL)
        if column == "stratum":
            return lambda c: GOLD_STRATUM if c == -2 else _name(data.strata, c)
        if column == "rv":
            return lambda c: _name(data.reviewers, c)
        if column == "version":
            return lambda c: _name(data.versions, c)
        return lambda c: "all"

    batch_name = data.batch_names.get

    def rows(keys: list[str]) -> list[CoverageRow]:
        if a.empty:
            return []
        # groups in key order: each key's values numbered in order, combined into one
        group = np.zeros(len(a), dtype=np.int64)
        for k in keys:
            count, codes = _ranks(columns[k])
            group = group * count + codes
        n, group = _ranks(group)
        firsts = np.full(n, len(group), dtype=np.int64)
        np.minimum.at(firsts, group, np.arange(len(group)))
        # counts by status: 0 remaining (none or draft), then submitted, skipped, flagged
        counts = np.bincount(group * 4 + status, minlength=4 * n).reshape(n, 4)
        by_group = active.groupby(group, sort=True)  # pandas' sum and median, as before
        sums = by_group.sum().to_numpy()
        medians = by_group.median().to_numpy()
        name = key_names(keys[-1])
        out = []
        for g in range(n):
            first = firsts[g]
            rec = {
                "assigned": int(counts[g].sum()),
                "remaining": int(counts[g, 0]),
                "submitted": int(counts[g, SUBMITTED]),
                "skipped": int(counts[g, STATUS_CODES["skipped"]]),
                "flagged": int(counts[g, STATUS_CODES["flagged"]]),
                "active": sums[g],
                "median": medians[g],
            }
            out.append(
                _row(
                    str(name(int(columns[keys[-1]][first]))),
                    batch_name(int(columns["batch_id"][first])) if len(keys) > 1 else None,
                    rec,
                    fallback,
                )
            )
        return sorted(out, key=lambda r: (r.batch or "", r.key))

    total = rows(["all"])
    return Coverage(
        total=total[0] if total else _row("all", None, {}, None),
        by_batch=rows(["batch_id"]),
        by_stratum=rows(["batch_id", "stratum"]),
        by_reviewer=rows(["rv"]),
        by_version=rows(["version"]),
    )


def _row(key: str, batch: str | None, rec: dict[Any, Any], fallback: float | None) -> CoverageRow:
    assigned = int(rec.get("assigned", 0))
    remaining = int(rec.get("remaining", 0))
    submitted = int(rec.get("submitted", 0))
    active = float(rec.get("active", 0.0))
    median = rec.get("median")
    median = None if median is None or pd.isna(median) else round(float(median), 1)
    per = median if median is not None else fallback
    return CoverageRow(
        key=key,
        batch=batch,
        assigned=assigned,
        submitted=submitted,
        skipped=int(rec.get("skipped", 0)),
        flagged=int(rec.get("flagged", 0)),
        remaining=remaining,
        percent_done=round(100.0 * (assigned - remaining) / assigned, 2) if assigned else 0.0,
        reviews_per_hour=round(submitted * 3600.0 / active, 2) if active > 0 else None,
        median_active_seconds=median,
        expected_seconds_to_finish=round(remaining * per, 1) if per is not None else None,
    )
