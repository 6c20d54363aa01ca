"""What the dashboard draws: chart bars (with the selection a click asks for) and table rows,
built from the figures. No widgets here."""

from __future__ import annotations

from typing import Any

from reviewer.domain.figures import (
    SUGGESTION_HEAD,
    SUGGESTION_USE_HEAD,
    Agreement,
    Coverage,
    CoverageRow,
    Distribution,
    Quality,
    StatsReport,
    TimePoint,
    VersionQuality,
    coverage_cells,
    duration_text,
    mean_text,
    percent_text,
    suggestion_cells,
    suggestion_use_cells,
)
from reviewer.render.report import failure_rate_bars, mean_quality_bars
from reviewer.render.svg import STATUS_COLOURS
from reviewer.services.analytics import Selection
from reviewer.ui.charts import Bar, Point

pct = percent_text
mean = mean_text

Rows = tuple[list[str], list[list[str]]]
"""Column heads and plain-text cells of a table."""


def number(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def coverage_bars(rows: list[CoverageRow], kind: str) -> list[Bar]:
    """Stacked bars (submitted, skipped, flagged, remaining) per reviewer or version."""
    out = []
    for r in rows:
        if kind == "reviewer":
            chosen = Selection("reviewer", r.key, title=f"reviewer {r.key}")
        else:
            chosen = Selection("version", r.key, title=f"agent version {r.key}")
        out.append(
            Bar(
                label=r.key,
                value=float(r.assigned),
                text=f"{r.percent_done:.0f} % of {r.assigned:,}",
                segments=[
                    (float(r.submitted), STATUS_COLOURS["submitted"], "submitted"),
                    (float(r.skipped), STATUS_COLOURS["skipped"], "skipped"),
                    (float(r.flagged), STATUS_COLOURS["flagged"], "flagged"),
                    (float(r.remaining), STATUS_COLOURS["remaining"], "remaining"),
                ],
                payload=chosen,
                tooltip=(
                    f"{r.key}: {r.submitted:,} submitted, {r.skipped:,} skipped,"
                    f" {r.flagged:,} flagged, {r.remaining:,} remaining;"
                    f" median {duration_text(r.median_active_seconds)},"
                    f" {duration_text(r.expected_seconds_to_finish)} to finish"
                ),
            )
        )
    return out


def coverage_rows(c: Coverage) -> Rows:
    groups = (
        ("total", [c.total]),
        ("batch", c.by_batch),
        ("stratum", c.by_stratum),
        ("reviewer", c.by_reviewer),
        ("version", c.by_version),
    )
    heads = ["", "", "assigned", "submitted", "skipped", "flagged", "remaining", "done",
             "per hour", "median", "to finish"]  # fmt: skip
    return heads, [[group, *coverage_cells(r)] for group, rows in groups for r in rows]


def _version(version: str) -> Selection:
    return Selection("version", version, title=f"agent version {version}")


def _versioned(v: VersionQuality) -> dict[str, Any]:
    return {"payload": _version(v.version)}


def failure_bars(q: Quality) -> list[Bar]:
    return failure_rate_bars(q, Bar, _versioned)


def quality_bars(q: Quality) -> list[Bar]:
    return mean_quality_bars(q, Bar, _versioned)


def pareto_bars(q: Quality) -> list[Bar]:
    return [
        Bar(
            label=b.label,
            value=float(b.count),
            text=f"{b.count:,} · {100 * b.cumulative_share:.0f} % cumulative",
            payload=Selection("tag", b.tag, title=f"failure tag {b.label}"),
        )
        for b in q.failure_categories
    ]


def distribution_bars(d: Distribution) -> list[Bar]:
    return [
        Bar(
            label=o.label,
            value=float(o.count),
            text=f"{o.count:,} ({100 * o.share:.0f} %)",
            payload=Selection("option", o.value, d.dimension, title=f"{d.label}: {o.label}"),
        )
        for o in d.options
    ]


def alpha_bars(a: Agreement) -> list[Bar]:
    return [
        Bar(label=x.label, value=max(0.0, x.alpha), text=f"α = {x.alpha:.3f} ({x.level})")
        for x in a.alpha
        if x.alpha is not None
    ]


def kappa_rows(a: Agreement) -> Rows:
    heads = ["dimension", "reviewer", "reviewer", "items", "kappa", "95 %", "agreement"]
    return heads, [
        [
            k.dimension,
            k.reviewer_a,
            k.reviewer_b,
            f"{k.items:,}",
            number(k.kappa),
            "–" if k.low is None or k.high is None else f"{k.low:.2f}–{k.high:.2f}",
            f"{100 * k.observed_agreement:.0f} %",
        ]
        for k in a.kappa
    ]


def disagreement_rows(a: Agreement) -> Rows:
    heads = ["session", "batch", "reviewers", "differ on", "final label"]
    return heads, [
        [
            d.session_key,
            d.batch or "–",
            ", ".join(d.reviewers),
            ", ".join(d.dimensions),
            "recorded" if d.adjudicated else "open",
        ]
        for d in a.disagreements
    ]


def gold_bars(report: StatsReport) -> list[Bar]:
    return [
        Bar(
            label=g.reviewer,
            value=g.accuracy.value,
            low=g.accuracy.low,
            high=g.accuracy.high,
            text=f"{pct(g.accuracy)} on {g.items:,} items",
            payload=Selection("reviewer", g.reviewer, title=f"reviewer {g.reviewer}"),
        )
        for g in report.gold
        if g.accuracy is not None
    ]


def suggestion_rows(report: StatsReport) -> Rows:
    """Judges' suggestions kept or not, per judge × dimension, then per reviewer."""
    rows = [suggestion_cells(a) for a in report.suggestions]
    rows += [["reviewer", *SUGGESTION_USE_HEAD[1:]]] if report.suggestion_use else []
    rows += [suggestion_use_cells(u) for u in report.suggestion_use]
    return list(SUGGESTION_HEAD), rows


def judge_rows(report: StatsReport) -> Rows:
    heads = ["judge", "human dimension", "reviews", "Spearman", "Pearson", "AUC", "agreement",
             "mean judge score per human value"]  # fmt: skip
    return heads, [
        [
            j.judge,
            j.dimension,
            f"{j.reviews:,}",
            number(j.spearman),
            number(j.pearson),
            number(j.auc),
            "–" if j.agreement_at_threshold is None else f"{100 * j.agreement_at_threshold:.0f} %",
            ", ".join(f"{c.human}: {c.mean_judge:.2f}" for c in j.calibration),
        ]
        for j in report.judges
    ]


def over_time_charts(q: Quality) -> list[tuple[str, list[Point], float, str]]:
    """One line chart per agent version (baseline first, then in version order): the failure
    rate per period in percent (the mean quality where there are no failure tags), with its
    95 % interval; periods that differ from the baseline beyond both intervals are marked.
    Each as (title, points, maximum, unit)."""
    by_version: dict[str, list[TimePoint]] = {}
    for t in q.over_time:
        by_version.setdefault(t.version, []).append(t)
    rates = any(t.failure_rate is not None for t in q.over_time)
    dim = q.quality_dimension or "quality"
    out: list[tuple[str, list[Point], str]] = []
    listed = [v.version for v in q.versions]  # in version order
    order = sorted(
        by_version,
        key=lambda v: (v != q.baseline_version, listed.index(v) if v in listed else len(listed)),
    )
    for version in order:
        points = []
        for t in sorted(by_version[version], key=lambda t: t.period_start):
            e = t.failure_rate if rates else t.mean_quality
            if e is None:
                continue
            k = 100.0 if rates else 1.0
            shown = pct(e) if rates else mean(e)
            points.append(
                Point(
                    label=t.period_start.isoformat(),
                    value=k * e.value,
                    low=None if e.low is None else k * e.low,
                    high=None if e.high is None else k * e.high,
                    marked=t.worse_than_baseline,
                    tooltip=(
                        f"version {version}, {q.period} of {t.period_start:%Y-%m-%d}:"
                        f" {shown} over {t.sessions:,} sessions"
                        + (
                            "\nworse than the baseline beyond both intervals"
                            if t.worse_than_baseline
                            else ""
                        )
                    ),
                )
            )
        if not points:
            continue
        what = "failure rate" if rates else f"mean {dim}"
        base = " (baseline)" if version == q.baseline_version else ""
        marked = sum(p.marked for p in points)
        flag = f", {marked} {q.period}(s) worse than the baseline" if marked else ""
        title = f"Version {version}{base}: {what} per {q.period}, 95 %{flag}"
        out.append((title, points, " %" if rates else ""))
    # one scale for every version, so their charts compare at a glance
    top = max((max(p.value, p.high or 0.0) for _, pts, _ in out for p in pts), default=1.0)
    return [(title, pts, top, unit) for title, pts, unit in out]
