"""The stakeholder report: one self-contained HTML file of the figures.

Inline CSS and inline SVG only; a Content-Security-Policy forbids loading anything; every
text that comes from sessions, reviewers or rubrics is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any, TypeVar

from reviewer.atomic import write_bytes
from reviewer.domain.figures import (
    SUGGESTION_HEAD,
    SUGGESTION_USE_HEAD,
    CoverageRow,
    Quality,
    StatsReport,
    VersionQuality,
    coverage_cells,
    mean_text,
    percent_text,
    suggestion_cells,
    suggestion_use_cells,
)
from reviewer.render import svg

_pct = percent_text
_mean = mean_text

REPORT_FORMAT_VERSION = 1

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#222;
 padding:0 1rem;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6rem 0 1rem}td,th{padding:.2rem .6rem;
 border-bottom:1px solid #eee;text-align:right}td:first-child,th:first-child{text-align:left}
th{background:#f4f6f8}.meta{color:#555}.warn{background:#fff4e0;border-left:4px solid #e08a2c;
 padding:.4rem .8rem}.legend span{margin-right:1rem}.legend i{display:inline-block;width:.8rem;
 height:.8rem;margin-right:.3rem;vertical-align:middle}.empty{color:#777}.worse{color:#c44e52;
 font-weight:600}svg{max-width:100%;height:auto}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _share(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f} %"


def _table(head: list[str], rows: list[list[str]]) -> str:
    """A table; cells are given already escaped."""
    if not rows:
        return '<p class="empty">No data.</p>'
    h = "".join(f"<th>{_e(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


B = TypeVar("B", bound=svg.Bar)


def failure_rate_bars(
    q: Quality, bar: type[B], extra: Callable[[VersionQuality], dict[str, Any]] = lambda _v: {}
) -> list[B]:
    """Failure rate per agent version with its interval (red where worse than the
    baseline), as the report and the dashboard draw it; ``extra`` adds fields per bar."""
    return [
        bar(
            label=v.version + (" (baseline)" if v.is_baseline else ""),
            value=v.failure_rate.value,
            low=v.failure_rate.low,
            high=v.failure_rate.high,
            text=_pct(v.failure_rate),
            colour=svg.PALETTE[3] if v.worse_than_baseline else svg.PALETTE[0],
            **extra(v),
        )
        for v in q.versions
        if v.failure_rate is not None
    ]


def mean_quality_bars(
    q: Quality, bar: type[B], extra: Callable[[VersionQuality], dict[str, Any]] = lambda _v: {}
) -> list[B]:
    """Mean quality per agent version with its interval, as :func:`failure_rate_bars`."""
    return [
        bar(
            label=v.version,
            value=v.mean_quality.value,
            low=v.mean_quality.low,
            high=v.mean_quality.high,
            text=_mean(v.mean_quality),
            colour=svg.PALETTE[3] if v.worse_than_baseline else svg.PALETTE[2],
            **extra(v),
        )
        for v in q.versions
        if v.mean_quality is not None
    ]


def _coverage_rows(rows: list[CoverageRow]) -> list[list[str]]:
    return [[_e(label), *cells] for label, *cells in (coverage_cells(r) for r in rows)]


_COVERAGE_HEAD = [
    "", "assigned", "submitted", "skipped", "flagged", "remaining", "done", "reviews/hour",
    "median time", "time to finish",
]  # fmt: skip


def _stacked(rows: list[CoverageRow]) -> str:
    parts = [
        svg.Bar(
            label=r.key,
            value=float(r.assigned),
            text=f"{r.percent_done:.0f} % of {r.assigned:,}",
            segments=[
                (float(r.submitted), svg.STATUS_COLOURS["submitted"], "submitted"),
                (float(r.skipped), svg.STATUS_COLOURS["skipped"], "skipped"),
                (float(r.flagged), svg.STATUS_COLOURS["flagged"], "flagged"),
                (float(r.remaining), svg.STATUS_COLOURS["remaining"], "remaining"),
            ],
        )
        for r in rows
    ]
    return svg.legend([(k, c) for k, c in svg.STATUS_COLOURS.items()]) + svg.bars(
        parts, title="Coverage per reviewer"
    )


def _coverage(report: StatsReport) -> str:
    c = report.coverage
    html = ["<h2>Coverage</h2>", _table(_COVERAGE_HEAD, _coverage_rows([c.total, *c.by_batch]))]
    if c.by_reviewer:
        html += ["<h3>Per reviewer</h3>", _stacked(c.by_reviewer)]
        html.append(_table(_COVERAGE_HEAD, _coverage_rows(c.by_reviewer)))
    for title, rows in (("Per agent version", c.by_version), ("Per stratum", c.by_stratum)):
        if rows:
            html += [f"<h3>{title}</h3>", _table(_COVERAGE_HEAD, _coverage_rows(rows))]
    return "".join(html)


def _quality(report: StatsReport) -> str:
    q = report.quality
    if not q.reviews:
        return '<h2>Quality</h2><p class="meta">No reviews yet.</p>'
    html = [
        "<h2>Quality</h2>",
        f'<p class="meta">{q.reviews:,} submitted reviews of {q.sessions:,} sampled sessions;'
        f" {_e(q.weighting_note)}. Baseline version: {_e(q.baseline_version or '–')}."
        " Intervals are 95 % (Wilson for rates).</p>",
    ]
    html += [f'<p class="warn">{_e(w)}</p>' for w in q.warnings]
    rate_bars = failure_rate_bars(q, svg.Bar)
    html += ["<h3>Failure rate per agent version</h3>", svg.bars(rate_bars, title="Failure rate")]
    mean_bars = mean_quality_bars(q, svg.Bar)
    dim = q.quality_dimension or "quality"
    html += [f"<h3>Mean {_e(dim)} per agent version</h3>", svg.bars(mean_bars, title=dim)]
    rows = [
        [
            _e(v.version) + (" <small>baseline</small>" if v.is_baseline else ""),
            f"{v.sessions:,}",
            f"{v.reviews:,}",
            f'<span class="worse">{_pct(v.failure_rate)}</span>'
            if v.worse_than_baseline
            else _pct(v.failure_rate),
            _mean(v.mean_quality),
        ]
        for v in q.versions
    ]
    rows.append(["all", f"{q.sessions:,}", f"{q.reviews:,}", _pct(q.overall_failure_rate),
                 _mean(q.overall_mean_quality)])  # fmt: skip
    html.append(_table(["version", "sessions", "reviews", "failure rate", f"mean {dim}"], rows))
    series: dict[str, list[tuple[str, float]]] = {}
    for p in q.over_time:
        if p.failure_rate is not None:
            series.setdefault(p.version, []).append(
                (p.period_start.isoformat(), 100 * p.failure_rate.value)
            )
    if series:
        top = max(v for pts in series.values() for _, v in pts)
        html += [
            f"<h3>Failure rate per {q.period} (sessions by start date)</h3>",
            svg.legend(
                [(n, svg.PALETTE[i % len(svg.PALETTE)]) for i, n in enumerate(sorted(series))]
            ),
            svg.lines(series, maximum=max(5.0, top), title="Failure rate over time", unit=" %"),
        ]
    html += [
        "<h3>Failure categories (Pareto)</h3>",
        svg.pareto(
            [(b.label, b.count, b.cumulative_share) for b in q.failure_categories],
            title="Failure categories",
        ),
    ]
    for d in q.distributions:
        dist = [
            svg.Bar(
                label=o.label, value=float(o.count), text=f"{o.count:,} ({100 * o.share:.0f} %)"
            )
            for o in d.options
        ]
        mean = f" — mean {d.mean:.2f}" if d.mean is not None else ""
        html += [f"<h3>{_e(d.label)}{mean}</h3>", svg.bars(dist, title=d.label)]
    return "".join(html)


def _agreement(report: StatsReport) -> str:
    a = report.agreement
    html = [
        "<h2>Agreement</h2>",
        f'<p class="meta">{a.items:,} items were reviewed by two or more reviewers.</p>',
    ]
    alpha_bars = [
        svg.Bar(label=x.label, value=max(0.0, x.alpha), text=f"α = {x.alpha:.3f} ({x.level})")
        for x in a.alpha
        if x.alpha is not None
    ]
    if alpha_bars:
        html += ["<h3>Krippendorff's alpha per dimension</h3>",
                 svg.bars(alpha_bars, maximum=1.0, title="Krippendorff's alpha")]  # fmt: skip
    rows = [
        [
            _e(k.dimension), _e(k.reviewer_a), _e(k.reviewer_b), f"{k.items:,}",
            "–" if k.kappa is None else f"{k.kappa:.3f}",
            "–" if k.low is None or k.high is None else f"{k.low:.2f}–{k.high:.2f}",
            f"{100 * k.observed_agreement:.0f} %",
        ]
        for k in a.kappa
    ]  # fmt: skip
    html += ["<h3>Cohen's kappa per reviewer pair</h3>",
             _table(["dimension", "reviewer", "reviewer", "items", "kappa", "95 %", "agreement"],
                    rows)]  # fmt: skip
    html.append(
        f'<h3>Disagreements</h3><p class="meta">{a.disagreements_total:,} items differ'
        f" ({a.disagreements_open:,} not adjudicated); the first {len(a.disagreements):,}:</p>"
    )
    html.append(
        _table(
            ["session", "batch", "reviewers", "differ on", "adjudicated"],
            [
                [
                    _e(d.session_key),
                    _e(d.batch or "–"),
                    _e(", ".join(d.reviewers)),
                    _e(", ".join(d.dimensions)),
                    "yes" if d.adjudicated else "no",
                ]
                for d in a.disagreements
            ],
        )
    )
    return "".join(html)


def _gold_and_judges(report: StatsReport) -> str:
    html = ["<h2>Gold items</h2>"]
    gold_bars = [
        svg.Bar(label=g.reviewer, value=g.accuracy.value, low=g.accuracy.low,
                high=g.accuracy.high, text=_pct(g.accuracy))
        for g in report.gold
        if g.accuracy is not None
    ]  # fmt: skip
    html.append(svg.bars(gold_bars, maximum=1.0, title="Accuracy against reference labels"))
    html.append(
        _table(
            ["reviewer", "items", "accuracy"],
            [[_e(g.reviewer), f"{g.items:,}", _pct(g.accuracy)] for g in report.gold],
        )
    )
    sample = (
        f" Estimated on a uniform sample of {report.judge_sample:,} reviewed sessions."
        if report.judge_sample
        else ""
    )
    html.append(f'<h2>Human vs automated judge</h2><p class="meta">{sample}</p>')

    def num(v: float | None) -> str:
        return "–" if v is None else f"{v:.3f}"

    html.append(
        _table(
            ["judge", "human dimension", "reviews", "Spearman", "Pearson", "AUC", "agreement",
             "kappa", "mean judge score per human value"],
            [
                [_e(j.judge), _e(j.dimension), f"{j.reviews:,}", num(j.spearman), num(j.pearson),
                 num(j.auc),
                 _share(j.agreement_at_threshold),
                 num(j.kappa_at_threshold),
                 _e(", ".join(f"{c.human}: {c.mean_judge:.2f}" for c in j.calibration))]
                for j in report.judges
            ],
        )
    )  # fmt: skip
    if report.suggestions or report.suggestion_use:
        html.append("<h2>Judges' suggestions: did reviewers keep them</h2>")
        html.append(
            _table(
                SUGGESTION_HEAD, [[_e(c) for c in suggestion_cells(a)] for a in report.suggestions]
            )
        )
        html.append("<h3>Per reviewer (a rubber-stamping signal)</h3>")
        html.append(_table(SUGGESTION_USE_HEAD,
                           [[_e(c) for c in suggestion_use_cells(u)]
                            for u in report.suggestion_use]))  # fmt: skip
    return "".join(html)


def render_html(report: StatsReport) -> str:
    """The whole report as one HTML document (no scripts, no external resources)."""
    scope = f"batch {report.batch}" if report.batch else "all reviews"
    if report.where:
        scope += f", sessions where {report.where}"
    title = f"Review report — {scope}"
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';'
            " style-src 'unsafe-inline'\">",
            f'<meta name="generator" content="AgentOps Reviewer {_e(report.app_version)};'
            f' report format {REPORT_FORMAT_VERSION}">',
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{_e(title)}</h1>",
            f'<p class="meta">Generated {report.generated_at:%Y-%m-%d %H:%M} UTC by AgentOps'
            f" Reviewer {_e(report.app_version)}.</p>",
            _coverage(report),
            _quality(report),
            _agreement(report),
            _gold_and_judges(report),
            _pairwise(report),
            "</body></html>\n",
        ]
    )


def write_report(report: StatsReport, out: Path) -> Path:
    """Write the report to ``out`` atomically (a partial file never takes its place)."""
    return write_bytes(out, render_html(report).encode("utf-8"))


def _pairwise(report: StatsReport) -> str:
    """Win rates, position bias, agreement and rankings of pairwise batches (if any)."""
    p = report.pairwise
    if p is None:
        return ""

    def span(low: float | None, high: float | None, digits: int = 2) -> str:
        return "–" if low is None or high is None else f"{low:.{digits}f}–{high:.{digits}f}"

    rows = [
        [
            _e(f"{c.field}: {c.b} vs {c.a}"), f"{c.items:,}", f"{c.reviews:,}", f"{c.wins_b:,}",
            f"{c.wins_a:,}", f"{c.ties:,}", f"{c.both_bad:,}", _share(c.win_rate),
            span(c.ci_low, c.ci_high), "–" if c.sign_test_p is None else f"{c.sign_test_p:.4f}",
        ]
        for c in p.comparisons
    ]  # fmt: skip
    head = ["Compared", "Pairs", "Reviews", "B wins", "A wins", "Ties", "Both bad",
            "Win rate of B", "95 %", "Sign test p"]  # fmt: skip
    html = ["<h2>Pairwise comparisons</h2>", _table(head, rows)]
    b = p.position_bias
    if b.left_share is not None:
        html.append(
            f'<p class="meta">Position bias: the left session was picked in'
            f" {_share(b.left_share)} (95 % {span(b.ci_low, b.ci_high)}) of"
            f" {b.decided:,} preferences that picked a side.</p>"
        )
    if p.agreement.kappa is not None:
        html.append(
            f'<p class="meta">Agreement on pairs reviewed twice ({p.agreement.items:,}):'
            f" kappa {p.agreement.kappa:.3f}.</p>"
        )
    for r in p.rankings:
        ranked = [
            [_e(v.value), f"{v.strength:+.3f}", span(v.ci_low, v.ci_high, 3)] for v in r.values
        ]
        html.append(f"<h3>Bradley–Terry ranking of {_e(r.field)}</h3>")
        html.append(_table(["Value", "Log-strength", "95 %"], ranked))
    return "".join(html)
