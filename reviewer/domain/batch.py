"""Review batches: a reproducible sample of sessions, assigned to reviewers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class PairSpec(BaseModel):
    """What a pairwise batch compares: sessions sharing ``key``, one with ``field`` = ``a``
    and one with ``field`` = ``b``."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1)
    """The task key: ``first_user_text``, ``agent``, ``version``, ``model`` or
    ``metadata.NAME``."""
    field: str = Field(min_length=1)
    """The compared field: ``version``, ``model``, ``agent`` or ``metadata.NAME``."""
    a: str
    b: str


class SamplingSpec(BaseModel):
    """Everything needed to draw the same batch again."""

    model_config = ConfigDict(extra="forbid")

    size: int = Field(ge=1)
    seed: int = Field(default=0, ge=0)
    where: str | None = None
    stratify_by: list[str] = Field(default_factory=list)
    allocation: Literal["proportional", "equal"] = "proportional"
    priority: dict[str, float] = Field(default_factory=dict)
    """Signal → weight (> 0): a session's size measure is 1 + Σ weight · signal."""
    reviewers: list[str] = Field(default_factory=list)
    overlap: float = Field(default=0.0, ge=0.0, le=1.0)
    """Fraction of the drawn items given to two reviewers (rounded half up)."""
    gold: int = Field(default=0, ge=0)
    """Gold items (sessions with a lead's reference labels) given to every reviewer."""
    include_reviewed: bool = False
    blind: bool = False
    rubric_name: str = "default"
    rubric_version: int = 1
    pairs: PairSpec | None = None
    """Set on a pairwise batch: ``size`` is then a number of pairs."""

    @field_validator("priority")
    @classmethod
    def _positive_weights(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, w in v.items() if not w > 0 or w == float("inf")]
        if bad:
            raise ValueError(f"priority weights must be positive numbers ({', '.join(bad)})")
        return v


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str
    claimed_at: datetime | None = None


class PairSide(BaseModel):
    """The second session of a pair item and where each compared value sits."""

    model_config = ConfigDict(extra="forbid")

    session_key: str
    """The session on the right (the item's own ``session_key`` is on the left)."""
    session_revision: int = 1
    left: Literal["A", "B"]
    """Which compared value the left session has."""
    task_key: str | None = None


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: int
    session_key: str
    session_revision: int = 1
    stratum: str | None = None
    inclusion_probability: float = Field(gt=0.0, le=1.0)
    is_gold: bool = False
    reviewers: list[str] = Field(default_factory=list)
    pair: PairSide | None = None
    """Set on the items of a pairwise batch."""


class Batch(BaseModel):
    """A stored batch: what ``reviewer sample --json`` and ``reviewer batch show --json`` print.

    ``items`` are in review order. ``inclusion_probability`` is the chance the design gave
    the session of being drawn; weighting results by 1/π estimates population figures.
    Gold items are not part of the sample: their stratum is null and they carry π = 1.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    spec: SamplingSpec
    created_at: datetime | None = None
    app_version: str | None = None
    """The version of the app that drew the batch."""
    population: int = 0
    """Sessions that matched the filter when the batch was drawn."""
    strata: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Per stratum: its population and how many it got (for weighting back)."""
    items: list[BatchItem] = Field(default_factory=list)


class BatchSummary(BaseModel):
    """One line of ``reviewer batch list --json``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    created_at: datetime
    population: int
    items: int
    """Items including gold items."""
    reviewers: list[str] = Field(default_factory=list)
    rubric_name: str
    rubric_version: int
    blind: bool = False


class StratumPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stratum: str
    population: int
    """Sessions of the stratum that match the filter (and are not yet reviewed)."""
    needed: int
    """Sample size for the margin at the confidence, with the finite population correction."""
    allocated: int | None = None
    """What a batch of the planned ``size`` would give this stratum."""


class Plan(BaseModel):
    """``reviewer sample --plan --json``: sample sizes to estimate a failure rate.

    Per stratum, n0 = z² · p(1 − p) / e² (worst case p = 0.5), corrected for the stratum's
    finite size N: n = n0 / (1 + (n0 − 1) / N), rounded up.
    """

    model_config = ConfigDict(extra="forbid")

    margin: float
    confidence: float
    z: float
    population: int
    strata: list[StratumPlan]
    total: int
    """Sum of what every stratum needs (to report each stratum within the margin)."""
    overall: int
    """What the whole population needs (to report only the overall rate)."""
    size: int | None = None
    """The batch size the allocation column is for, if one was given."""
