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
    suggestions: dict[str, SuggestionRecord] = Field(default_factory=dict)
    """Per dimension: the judge's suggestion shown and whether it was taken, changed, left,
    or the value set without one (empty for reviews made before suggestions existed)."""

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
