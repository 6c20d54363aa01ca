"""A reviewer's preference between the two sessions of a pair item."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from reviewer.domain.review import new_review_uid


class Winner(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    TIE = "tie"
    BOTH_BAD = "both_bad"


WINNER_KEYS: dict[str, Winner] = {
    "1": Winner.LEFT,
    "2": Winner.RIGHT,
    "3": Winner.TIE,
    "4": Winner.BOTH_BAD,
}
"""The workbench's keys for each choice."""


class Preference(BaseModel):
    """What a reviewer said about a pair; ``winner`` is None only in a draft."""

    model_config = ConfigDict(extra="forbid")

    uid: str = Field(default_factory=new_review_uid)
    batch: str
    position: int = Field(ge=0)
    """The pair item's position in its batch."""
    reviewer: str = Field(min_length=1)
    winner: Winner | None = None
    dimensions: dict[str, Winner] = Field(default_factory=dict)
    """Optional per rubric dimension preferences."""
    rationale: str | None = None
    status: str = "draft"
    started_at: datetime | None = None
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    active_seconds: float = Field(default=0.0, ge=0)
    simulated: bool = False
