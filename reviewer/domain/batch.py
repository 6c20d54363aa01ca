"""Review batches: a reproducible sample of sessions, assigned to reviewers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SamplingSpec(BaseModel):
    """Everything needed to draw the same batch again."""

    model_config = ConfigDict(extra="forbid")

    size: int = Field(ge=1)
    seed: int = 0
    where: str | None = None
    stratify_by: list[str] = Field(default_factory=list)
    allocation: Literal["proportional", "equal"] = "proportional"
    priority: dict[str, float] = Field(default_factory=dict)
    reviewers: list[str] = Field(default_factory=list)
    overlap: float = Field(default=0.0, ge=0.0, le=1.0)
    gold: int = Field(default=0, ge=0)
    include_reviewed: bool = False
    blind: bool = False
    rubric_name: str = "default"
    rubric_version: int = 1


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str
    claimed_at: datetime | None = None


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: int
    session_key: str
    session_revision: int = 1
    stratum: str | None = None
    inclusion_probability: float = Field(gt=0.0, le=1.0)
    is_gold: bool = False
    reviewers: list[str] = Field(default_factory=list)


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    spec: SamplingSpec
    created_at: datetime | None = None
    population: int = 0
    """Sessions that matched the filter when the batch was drawn."""
    strata: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Per stratum: its population and how many it got (for weighting back)."""
    items: list[BatchItem] = Field(default_factory=list)
