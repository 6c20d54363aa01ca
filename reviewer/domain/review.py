"""A reviewer's label for one session revision."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from reviewer.domain.rubric import DimensionKind, Rubric
from reviewer.domain.suggestions import SuggestionRecord


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SKIPPED = "skipped"
    FLAGGED = "flagged"


class ReviewRole(StrEnum):
    REVIEWER = "reviewer"
    ADJUDICATOR = "adjudicator"
    GOLD = "gold"
    """A lead's reference label for a gold item."""


def new_review_uid() -> str:
    return uuid.uuid4().hex


class CorrectedToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    arguments: dict[str, JsonValue] = Field(default_factory=dict)


class StepCorrection(BaseModel):
    """An agent step as it should have been: its text, or its tool calls (or both)."""

    model_config = ConfigDict(extra="forbid")

    content: str | None = None
    tool_calls: list[CorrectedToolCall] = Field(default_factory=list)


class StepLabel(BaseModel):
    """A reviewer's label for one step: verdict, error type, the step as it should have been."""

    model_config = ConfigDict(extra="forbid")

    verdict: str | None = None
    error_type: str | None = None
    corrected: StepCorrection | None = None


class Review(BaseModel):
    """Values keyed by dimension name: ordinal/choice → option value, boolean → bool,
    multi-select → list of tags, text and corrected response → str."""

    model_config = ConfigDict(extra="forbid")

    uid: str = Field(default_factory=new_review_uid)
    """Stable identity across workspaces and packs (merging is keyed on it)."""
    session_key: str
    session_revision: int = 1
    batch: str | None = None
    reviewer: str = Field(min_length=1)
    role: ReviewRole = ReviewRole.REVIEWER
    rubric_name: str
    rubric_version: int
    values: dict[str, JsonValue] = Field(default_factory=dict)
    details: dict[str, str] = Field(default_factory=dict)
    """Free-text detail per choice dimension (e.g. the policy concerned)."""
    failure_step: int | None = Field(default=None, ge=0)
    """Index of the step where it went wrong."""
    status: ReviewStatus = ReviewStatus.DRAFT
    status_reason: str | None = None
    """Why it was skipped or flagged."""
    started_at: datetime | None = None
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    active_seconds: float = Field(default=0.0, ge=0)
    simulated: bool = False
    steps: dict[int, StepLabel] = Field(default_factory=dict)
    """Per step index: the verdict, error type and correction the rubric's step dimensions
    ask for (empty when none was given)."""
    suggestions: dict[str, SuggestionRecord] = Field(default_factory=dict)
    """Per dimension: the judge's suggestion shown and whether it was taken, changed, left,
    or the value set without one (empty for reviews made before suggestions existed)."""

    def step_problems(self, rubric: Rubric, steps: int | None = None) -> list[str]:
        """Why the step labels do not fit the rubric's step dimensions (or the session)."""
        spec = rubric.steps
        if spec is None:
            return ["this rubric has no step verdicts"] if self.steps else []
        out = []
        for i, label in sorted(self.steps.items()):
            if i < 0 or (steps is not None and i >= steps):
                out.append(f"step #{i} is not in the session")
            if label.verdict is not None and spec.verdict(label.verdict) is None:
                out.append(f"step #{i}: {label.verdict!r} is not a step verdict")
            if label.error_type is not None and spec.error_type(label.error_type) is None:
                out.append(f"step #{i}: {label.error_type!r} is not a step error type")
        return out

    def first_wrong_step(self, rubric: Rubric) -> int | None:
        """The first step given the rubric's "wrong" verdict (the failure step by default)."""
        wrong = rubric.steps.wrong if rubric.steps is not None else None
        return next((i for i, s in sorted(self.steps.items()) if s.verdict == wrong), None)

    def failure_tags(self, rubric: Rubric) -> list[str]:
        tax = rubric.taxonomy
        if tax is None:
            return []
        v = self.values.get(tax.name)
        return [t for t in v if isinstance(t, str)] if isinstance(v, list) else []

    def corrected_response(self, rubric: Rubric) -> str | None:
        dim = rubric.corrected_response
        if dim is None:
            return None
        v = self.values.get(dim.name)
        return v if isinstance(v, str) and v.strip() else None

    def rationale(self, rubric: Rubric) -> str | None:
        for d in rubric.dimensions:
            if d.kind is DimensionKind.TEXT:
                v = self.values.get(d.name)
                if isinstance(v, str) and v.strip():
                    return v
        return None
