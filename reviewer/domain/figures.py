"""The figures of ``reviewer stats --json`` (and of the dashboard and the HTML report).

Shape documented by ``schemas/stats.schema.json``. Shares and rates are fractions (0…1);
times are seconds; every interval is 95 %.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reviewer.domain.pairwise_stats import PairwiseStats
from reviewer.domain.stats import Estimate as Estimate

STATS_FORMAT_VERSION: Literal[1] = 1

FAILURE = "failed"
"""The pseudo-dimension "at least one failure category tagged" (agreement, gold, judges)."""


class AnalyticsError(Exception):
    """The figures asked for cannot be computed as given; the message says why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def percent_text(e: Estimate | None, brackets: str = "()") -> str:
    """``12.3 % (8.1–17.0)``: a rate with its interval, as every view prints it."""
    if e is None:
        return "–"
    if e.low is None or e.high is None:
        return f"{100 * e.value:.1f} %"
    return f"{100 * e.value:.1f} % {brackets[0]}{100 * e.low:.1f}–{100 * e.high:.1f}{brackets[1]}"


def mean_text(e: Estimate | None, brackets: str = "()") -> str:
    """``4.20 (4.02–4.39)``: a mean with its interval."""
    if e is None:
        return "–"
    if e.low is None or e.high is None:
        return f"{e.value:.2f}"
    return f"{e.value:.2f} {brackets[0]}{e.low:.2f}–{e.high:.2f}{brackets[1]}"


def duration_text(seconds: float | None) -> str:
    """``45 s``, ``12 min`` or ``3.5 h``; ``–`` when unknown."""
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def coverage_cells(r: CoverageRow) -> list[str]:
    """The cells of a coverage row as every view prints it: what it covers, then assigned,
    submitted, skipped, flagged, remaining, done, per hour, median time and time to finish."""
    return [
        f"{r.batch} / {r.key}" if r.batch else r.key,
        f"{r.assigned:,}",
        f"{r.submitted:,}",
        f"{r.skipped:,}",
        f"{r.flagged:,}",
        f"{r.remaining:,}",
        f"{r.percent_done:.1f} %",
        "–" if r.reviews_per_hour is None else f"{r.reviews_per_hour:.1f}",
        duration_text(r.median_active_seconds),
        duration_text(r.expected_seconds_to_finish),
    ]


class CoverageRow(_Model):
    key: str
    """The batch name, stratum, reviewer or agent version ("all" for the total)."""
    batch: str | None = None
    """For strata: the batch the stratum belongs to."""
    assigned: int
    submitted: int
    skipped: int
    flagged: int
    remaining: int
    """Assigned items not yet submitted, skipped or flagged (drafts included)."""
    percent_done: float
    """100 · (assigned − remaining) / assigned."""
    reviews_per_hour: float | None = None
    """Submitted reviews per hour of active review time."""
    median_active_seconds: float | None = None
    """Median active time of a submitted review."""
    expected_seconds_to_finish: float | None = None
    """remaining × median active time (the overall median where the group has none)."""


class Coverage(_Model):
    total: CoverageRow
    by_batch: list[CoverageRow] = Field(default_factory=list)
    by_stratum: list[CoverageRow] = Field(default_factory=list)
    by_reviewer: list[CoverageRow] = Field(default_factory=list)
    by_version: list[CoverageRow] = Field(default_factory=list)


class OptionCount(_Model):
    value: str
    label: str
    count: int
    share: float


class Distribution(_Model):
    """How often each option of one rubric dimension was given (submitted reviews)."""

    dimension: str
    label: str
    kind: str
    reviews: int
    options: list[OptionCount]
    mean: float | None = None
    """Ordinal dimensions: the mean over reviews."""


class ParetoBar(_Model):
    tag: str
    label: str
    count: int
    """Submitted reviews carrying the tag."""
    share: float
    """Of all tag uses."""
    cumulative_share: float


class VersionQuality(_Model):
    version: str
    sessions: int
    reviews: int
    failure_rate: Estimate | None = None
    mean_quality: Estimate | None = None
    is_baseline: bool = False
    worse_than_baseline: bool = False
    """Failure rate above, or mean quality below, the baseline's with the intervals apart."""


class TimePoint(_Model):
    version: str
    period_start: date
    sessions: int
    failure_rate: Estimate | None = None
    mean_quality: Estimate | None = None
    worse_than_baseline: bool = False


class Quality(_Model):
    reviews: int
    """Submitted reviews (role reviewer) in scope."""
    sessions: int
    """Sampled sessions with at least one submitted review (gold items left out)."""
    weighted: bool
    """Estimates weighted back to the population by 1/inclusion probability."""
    weighting_note: str
    quality_dimension: str | None = None
    """The ordinal dimension behind "mean quality"."""
    baseline_version: str | None = None
    distributions: list[Distribution] = Field(default_factory=list)
    failure_categories: list[ParetoBar] = Field(default_factory=list)
    overall_failure_rate: Estimate | None = None
    overall_mean_quality: Estimate | None = None
    versions: list[VersionQuality] = Field(default_factory=list)
    period: Literal["day", "week", "month"] = "week"
    over_time: list[TimePoint] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class DimensionAlpha(_Model):
    dimension: str
    label: str
    level: Literal["nominal", "ordinal"]
    items: int
    """Items rated on this dimension by two or more reviewers."""
    alpha: float | None = None
    """Krippendorff's alpha; null where undefined (e.g. everyone gave the same value)."""


class PairKappa(_Model):
    dimension: str
    reviewer_a: str
    reviewer_b: str
    items: int
    kappa: float | None = None
    low: float | None = None
    high: float | None = None
    observed_agreement: float


class Disagreement(_Model):
    batch: str | None = None
    session_id: int
    session_key: str
    reviewers: list[str]
    dimensions: list[str]
    """Dimensions on which the submitted reviews differ."""
    adjudicated: bool = False


class Agreement(_Model):
    items: int
    """Items with submitted reviews from two or more reviewers."""
    alpha: list[DimensionAlpha] = Field(default_factory=list)
    kappa: list[PairKappa] = Field(default_factory=list)
    disagreements_total: int = 0
    disagreements_open: int = 0
    """Disagreements without an adjudicated final label."""
    disagreements: list[Disagreement] = Field(default_factory=list)
    """Open ones first, then by how many dimensions differ; cut at the requested limit."""


class GoldAccuracy(_Model):
    reviewer: str
    items: int
    """Gold items this reviewer submitted."""
    accuracy: Estimate | None = None
    """Share of compared dimension values equal to the reference, with a Wilson interval."""
    by_dimension: dict[str, float] = Field(default_factory=dict)


class CalibrationPoint(_Model):
    human: str
    """A value of the human dimension (for "failed": "yes"/"no")."""
    reviews: int
    mean_judge: float


class JudgeAgreement(_Model):
    judge: str
    dimension: str
    reviews: int
    """Submitted reviews of sessions that carry this judge's score."""
    spearman: float | None = None
    pearson: float | None = None
    auc: float | None = None
    """For "failed": how well the judge score separates passes from failures."""
    threshold: float | None = None
    agreement_at_threshold: float | None = None
    """For "failed": share where (score ≥ threshold) equals the human's pass."""
    kappa_at_threshold: float | None = None
    calibration: list[CalibrationPoint] = Field(default_factory=list)


class ConfusionCell(_Model):
    judge: str
    """The value the judge suggested."""
    human: str
    """The value the reviewer submitted."""
    count: int


class SuggestionAgreement(_Model):
    """How often reviewers kept one judge's suggestions for one dimension (from the record
    each saved review keeps of the suggestions it was shown)."""

    judge: str
    dimension: str
    reviews: int
    """Submitted reviews shown an offered suggestion that set the dimension."""
    agreement: float | None = None
    """Share where the reviewer's value equals the suggestion."""
    kappa: float | None = None
    kappa_low: float | None = None
    kappa_high: float | None = None
    """Cohen's kappa of judge vs human with its 95 % interval (null when undefined)."""
    confusion: list[ConfusionCell] = Field(default_factory=list)


class SuggestionUse(_Model):
    """Per reviewer: how suggestions were used (a rubber-stamping signal)."""

    reviewer: str
    offered: int
    """Offered suggestions in the reviewer's submitted reviews."""
    taken_unchanged: int
    share_taken_unchanged: float | None = None
    reviews_with: int
    """Submitted reviews that were shown at least one suggestion."""
    reviews_without: int
    median_seconds_with: float | None = None
    median_seconds_without: float | None = None


class StatsReport(_Model):
    """Everything ``reviewer stats`` prints and the dashboard and report show."""

    format_version: Literal[1] = STATS_FORMAT_VERSION
    generated_at: datetime
    app_version: str
    batch: str | None = None
    where: str | None = None
    coverage: Coverage
    quality: Quality
    agreement: Agreement
    gold: list[GoldAccuracy] = Field(default_factory=list)
    judges: list[JudgeAgreement] = Field(default_factory=list)
    judge_sample: int | None = None
    """Sessions of the uniform sample judge agreement was estimated on (null: all of them)."""
    suggestions: list[SuggestionAgreement] = Field(default_factory=list)
    """Per judge and dimension: reviewers' agreement with the suggestions they were shown."""
    suggestion_use: list[SuggestionUse] = Field(default_factory=list)

    pairwise: PairwiseStats | None = None
    """Win rates, position bias and agreement of pairwise batches (null: none in scope)."""


SUGGESTION_HEAD = ["judge", "dimension", "reviews", "agreement", "kappa (95 % CI)",
                   "judge → human"]  # fmt: skip
"""Columns of the judges'-suggestions table in the stats text, the report and the dashboard."""
SUGGESTION_USE_HEAD = ["reviewer", "offered", "taken unchanged", "reviews with / without",
                       "median time with", "median time without"]  # fmt: skip


def _share_text(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f} %"


def suggestion_cells(a: SuggestionAgreement) -> list[str]:
    """A judge × dimension row: reviewers' agreement with its suggestions."""
    kappa = "–"
    if a.kappa is not None:
        kappa = f"{a.kappa:.2f} ({a.kappa_low or 0:.2f}–{a.kappa_high or 0:.2f})"
    confusion = ", ".join(f"{c.judge}→{c.human}: {c.count}" for c in a.confusion)
    return [a.judge, a.dimension, f"{a.reviews:,}", _share_text(a.agreement), kappa, confusion]


def suggestion_use_cells(u: SuggestionUse) -> list[str]:
    """A reviewer's row: suggestions taken unchanged and time with and without them."""
    return [
        u.reviewer,
        f"{u.offered:,}",
        _share_text(u.share_taken_unchanged),
        f"{u.reviews_with:,} / {u.reviews_without:,}",
        duration_text(u.median_seconds_with),
        duration_text(u.median_seconds_without),
    ]
