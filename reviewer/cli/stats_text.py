"""The text form of ``reviewer stats``: a few tables on stdout (no markup from content)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reviewer.domain.figures import (
    SUGGESTION_HEAD,
    SUGGESTION_USE_HEAD,
    CoverageRow,
    Estimate,
    StatsReport,
    coverage_cells,
    mean_text,
    percent_text,
    suggestion_cells,
    suggestion_use_cells,
)


def pct(e: Estimate | None) -> str:
    return percent_text(e, "[]")


def mean(e: Estimate | None) -> str:
    return mean_text(e, "[]")


def num(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _table(title: str, *columns: str) -> Table:
    t = Table(title=Text(title, style="bold"), title_justify="left", show_edge=False)
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i == 0 else "right", overflow="fold")
    return t


def _coverage(title: str, rows: list[CoverageRow]) -> Table:
    t = _table(
        title, "", "assigned", "submitted", "skipped", "flagged", "remaining", "done",
        "per hour", "median", "to finish",
    )  # fmt: skip
    for r in rows:
        label, *cells = coverage_cells(r)
        t.add_row(Text(label), *cells)
    return t


def print_report(report: StatsReport, console: Console | None = None) -> None:
    wide = None if sys.stdout.isatty() else 160  # piped: no need to fit a terminal
    out = console or Console(highlight=False, width=wide)
    scope = f"batch {report.batch}" if report.batch else "all reviews"
    if report.where:
        scope += f", sessions where {report.where}"
    out.print(Text(f"Scope: {scope}"))
    cov = report.coverage
    out.print(_coverage("Coverage", [cov.total, *cov.by_batch]))
    for title, rows in (
        ("By reviewer", cov.by_reviewer),
        ("By agent version", cov.by_version),
        ("By stratum", cov.by_stratum),
    ):
        if rows:
            out.print(_coverage(title, rows))

    q = report.quality
    if not q.reviews:
        out.print(Text("\nQuality: no reviews yet."))
    else:
        out.print(
            Text(
                f"\nQuality: {q.reviews:,} submitted reviews of {q.sessions:,} sampled sessions;"
                f" {q.weighting_note}. Baseline version: {q.baseline_version or '–'}."
            )
        )
    t = _table("Per agent version (95 % intervals)", "version", "sessions", "failure rate",
               f"mean {q.quality_dimension or 'quality'}", "")  # fmt: skip
    t.add_row(Text("all"), f"{q.sessions:,}", pct(q.overall_failure_rate),
              mean(q.overall_mean_quality), "")  # fmt: skip
    for v in q.versions:
        flag = "baseline" if v.is_baseline else ("WORSE" if v.worse_than_baseline else "")
        t.add_row(Text(v.version), f"{v.sessions:,}", pct(v.failure_rate), mean(v.mean_quality),
                  flag)  # fmt: skip
    out.print(t)
    for w in q.warnings:
        out.print(Text(f"warning: {w}", style="bold yellow"))
    if q.failure_categories:
        t = _table("Failure categories", "category", "reviews", "share", "cumulative")
        for bar in q.failure_categories:
            t.add_row(Text(bar.label), f"{bar.count:,}", f"{100 * bar.share:.1f} %",
                      f"{100 * bar.cumulative_share:.1f} %")  # fmt: skip
        out.print(t)
    for d in q.distributions:
        parts = ", ".join(f"{o.value} {100 * o.share:.0f} %" for o in d.options)
        extra = f" (mean {d.mean:.2f})" if d.mean is not None else ""
        out.print(Text(f"{d.label}: {parts}{extra}"))

    a = report.agreement
    out.print(Text(f"\nAgreement: {a.items:,} items seen by two or more reviewers."))
    if a.alpha:
        t = _table("Krippendorff's alpha", "dimension", "level", "items", "alpha")
        for al in a.alpha:
            t.add_row(Text(al.label), al.level, f"{al.items:,}", num(al.alpha, 3))
        out.print(t)
    if a.kappa:
        t = _table("Cohen's kappa per reviewer pair", "dimension", "pair", "items", "kappa",
                   "95 %", "agree")  # fmt: skip
        for k in a.kappa:
            span = f"{k.low:.2f}–{k.high:.2f}" if k.low is not None and k.high is not None else "–"
            t.add_row(Text(k.dimension), Text(f"{k.reviewer_a} · {k.reviewer_b}"),
                      f"{k.items:,}", num(k.kappa, 3), span,
                      f"{100 * k.observed_agreement:.0f} %")  # fmt: skip
        out.print(t)
    out.print(
        Text(f"Disagreements: {a.disagreements_total:,} ({a.disagreements_open:,} not adjudicated)")
    )
    for dis in a.disagreements[:20]:
        mark = "adjudicated" if dis.adjudicated else "open"
        out.print(
            Text(
                f"  {dis.session_key}  [{dis.batch or '–'}]  {', '.join(dis.reviewers)}:"
                f" {', '.join(dis.dimensions)}  ({mark})"
            )
        )
    if report.gold:
        t = _table("Gold items: accuracy against reference labels", "reviewer", "items",
                   "accuracy")  # fmt: skip
        for g in report.gold:
            t.add_row(Text(g.reviewer), f"{g.items:,}", pct(g.accuracy))
        out.print(t)
    if report.judges:
        sample = f" (sample of {report.judge_sample:,} sessions)" if report.judge_sample else ""
        t = _table(f"Human vs automated judge{sample}", "judge", "dimension", "reviews",
                   "spearman", "AUC", "agree@thr")  # fmt: skip
        for j in report.judges:
            agree = (
                f"{100 * j.agreement_at_threshold:.0f} %"
                if j.agreement_at_threshold is not None
                else "–"
            )
            t.add_row(Text(j.judge), Text(j.dimension), f"{j.reviews:,}", num(j.spearman, 3),
                      num(j.auc, 3), agree)  # fmt: skip
        out.print(t)
    if report.suggestions:
        t = _table("Judges' suggestions: did reviewers keep them", *SUGGESTION_HEAD)
        for sg in report.suggestions:
            t.add_row(*(Text(c) for c in suggestion_cells(sg)))
        out.print(t)
    if any(u.offered for u in report.suggestion_use):
        t = _table("Suggestions per reviewer (a rubber-stamping signal)", *SUGGESTION_USE_HEAD)
        for use in report.suggestion_use:
            t.add_row(*(Text(c) for c in suggestion_use_cells(use)))
        out.print(t)
    _pairwise(report, out)


def _pairwise(report: StatsReport, out: Console) -> None:
    p = report.pairwise
    if p is None:
        return
    t = _table("Pairwise: win rate of B over A (ties split)", "compared", "items", "reviews",
               "B wins", "A wins", "ties", "both bad", "win rate", "95 %", "sign p")  # fmt: skip
    for c in p.comparisons:
        span = f"{c.ci_low:.2f}–{c.ci_high:.2f}" if c.ci_low is not None and c.ci_high else "–"
        t.add_row(Text(f"{c.field}: {c.b} vs {c.a}"), f"{c.items:,}", f"{c.reviews:,}",
                  f"{c.wins_b:,}", f"{c.wins_a:,}", f"{c.ties:,}", f"{c.both_bad:,}",
                  f"{100 * c.win_rate:.1f} %", span, num(c.sign_test_p, 4))  # fmt: skip
    out.print(t)
    b = p.position_bias
    if b.left_share is not None:
        span = (
            f" (95 % {b.ci_low:.2f}–{b.ci_high:.2f})" if b.ci_low is not None and b.ci_high else ""
        )
        p_text = num(b.sign_test_p, 4)
        out.print(Text(f"Position bias: left picked in {100 * b.left_share:.1f} %{span} of"
                       f" {b.decided:,} decided preferences, sign test p {p_text}"))  # fmt: skip
    if p.agreement.kappa is not None:
        out.print(Text(f"Agreement on pairs: kappa {p.agreement.kappa:.3f} over"
                       f" {p.agreement.items:,} pairs reviewed twice"))  # fmt: skip
