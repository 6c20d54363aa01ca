"""Shapes of the pairwise exports: a preference row (``--level pair``) and a TRL line."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reviewer.export.shapes import Timestamp, TrlMessage


class PairRow(BaseModel):
    """``--level pair``: one preference between the two sessions of a pair item."""

    model_config = ConfigDict(extra="forbid")

    pair_id: str
    """``<batch>#<position>``: the same for every reviewer of the pair."""
    batch: str
    position: int
    task_key: str | None
    compared_field: str
    left_session: str
    left_revision: int
    left_value: str
    """The compared value (e.g. the version) of the left session."""
    right_session: str
    right_revision: int
    right_value: str
    left_is: Literal["A", "B"]
    """Which compared value was shown on the left (the recorded position)."""
    winner: Literal["left", "right", "tie", "both_bad"] | None
    winning_session: str | None
    winning_value: str | None
    dimensions: list[str]
    """Per-dimension preferences as ``name=choice``."""
    rationale: str | None
    reviewer: str
    review_uid: str
    status: str
    submitted_at: Timestamp | None
    active_seconds: float
    simulated: bool


class TrlPairDpoLine(BaseModel):
    """``trl-pair-dpo``: the shared prompt, the winner's and the loser's agent turns."""

    model_config = ConfigDict(extra="forbid")

    prompt: list[TrlMessage] = Field(min_length=1)
    chosen: list[TrlMessage] = Field(min_length=1)
    rejected: list[TrlMessage] = Field(min_length=1)


class LangsmithPairFeedback(BaseModel):
    """``langsmith-pairwise``: keyword arguments of LangSmith's ``Client.create_feedback``
    for one run of a compared pair; the two runs share ``feedback_group_id`` (as LangSmith's
    own pairwise evaluations group their feedback)."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    trace_id: str | None
    key: Literal["preference"]
    score: float
    """1 for the preferred run, 0 for the other, ½ each for a tie, 0 each when both are bad."""
    value: Literal["preferred", "not_preferred", "tie", "both_bad"]
    comment: str | None
    feedback_id: str
    feedback_group_id: str
    feedback_source_type: Literal["api"]
    source_info: dict[str, Any]
