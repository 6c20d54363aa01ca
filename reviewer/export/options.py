"""What an export was asked for: format, filters, level and the dataset thresholds."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reviewer.export.formats import FORMATS

DEFAULT_REQUIRE = {"correctness": "correct", "policy": "compliant"}


class ExportOptions(BaseModel):
    """Options of one export; recorded in its manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str
    level: Literal["review", "session", "step", "pair"] = "review"
    """review: one row per review; session: one row per session revision with the
    consensus or adjudicated label; step: one row per labelled step of a review; pair: one
    row per preference of a pairwise batch. Dataset formats are per session, the step
    datasets per review, the pair DPO formats per preference."""
    status: Literal["submitted", "all"] = "submitted"
    """submitted: submitted reviews in use; all: drafts, skipped, flagged and the copies a
    merge kept aside too."""
    batch: str | None = None
    where: str | None = None
    redact_pii: bool = False
    neutralise_formulas: bool = True
    """CSV: prefix cells starting with = + - @ tab CR LF with a quote (formula injection)."""
    min_quality: float = 4.0
    """Dataset formats: an uncorrected session is kept when its ``quality`` is at least this."""
    require: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_REQUIRE))
    """Dataset formats: and when each of these dimensions has this value."""

    @field_validator("format")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in FORMATS:
            raise ValueError(f"unknown export format {value!r}; formats: {', '.join(FORMATS)}")
        return value
