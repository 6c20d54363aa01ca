"""Rubrics: named, versioned sets of dimensions a reviewer scores."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

RUBRIC_SCHEMA_VERSION: Literal[1] = 1

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


class DimensionKind(StrEnum):
    ORDINAL = "ordinal"
    """An ordered scale; option values are the numbers on the scale."""
    CHOICE = "choice"
    """Exactly one of a set of options."""
    BOOLEAN = "boolean"
    MULTI_SELECT = "multi_select"
    """A taxonomy: any number of tags (failure categories)."""
    TEXT = "text"
    CORRECTED_RESPONSE = "corrected_response"
    """The answer the agent should have given; prefilled with its final answer."""


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1)
    label: str
    description: str = ""
    hotkey: str | None = Field(default=None, min_length=1, max_length=1)


class Dimension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    label: str
    kind: DimensionKind
    description: str = ""
    required: bool = False
    options: list[Option] = Field(default_factory=list)
    detail_label: str | None = None
    """For choice dimensions: a free-text detail asked alongside (e.g. "policy concerned")."""
    judge: list[str] = Field(default_factory=list)
    """Judgement names shown as suggestions for this dimension (besides its own name)."""

    @model_validator(mode="after")
    def _options_fit_kind(self) -> Dimension:
        needs_options = self.kind in (
            DimensionKind.ORDINAL,
            DimensionKind.CHOICE,
            DimensionKind.MULTI_SELECT,
        )
        if needs_options and not self.options:
            raise ValueError(f"dimension {self.name!r} of kind {self.kind} needs options")
        if not needs_options and self.options and self.kind is not DimensionKind.BOOLEAN:
            raise ValueError(f"dimension {self.name!r} of kind {self.kind} takes no options")
        values = [o.value for o in self.options]
        if len(set(values)) != len(values):
            raise ValueError(f"dimension {self.name!r} has repeated option values")
        if self.kind is DimensionKind.ORDINAL:
            for v in values:
                try:
                    float(v)
                except ValueError:
                    raise ValueError(
                        f"ordinal dimension {self.name!r}: option value {v!r} is not a number"
                    ) from None
        hotkeys = [o.hotkey.lower() for o in self.options if o.hotkey]
        if len(set(hotkeys)) != len(hotkeys):
            raise ValueError(f"dimension {self.name!r} has repeated hotkeys")
        return self

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def validate_value(self, value: JsonValue) -> str | None:
        """Return a one-line problem with ``value`` for this dimension, or None when it fits."""
        if value is None:
            return None
        kind = self.kind
        if kind in (DimensionKind.ORDINAL, DimensionKind.CHOICE):
            if not isinstance(value, str) or self.option(value) is None:
                allowed = ", ".join(o.value for o in self.options)
                return f"{self.label}: {value!r} is not one of {allowed}"
        elif kind is DimensionKind.BOOLEAN:
            if not isinstance(value, bool):
                return f"{self.label}: expected yes or no"
        elif kind is DimensionKind.MULTI_SELECT:
            if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
                return f"{self.label}: expected a list of tags"
            unknown = [v for v in value if isinstance(v, str) and self.option(v) is None]
            if unknown:
                return f"{self.label}: unknown tag(s) {', '.join(unknown)}"
        elif not isinstance(value, str):
            return f"{self.label}: expected text"
        return None


DEFAULT_VERDICTS = (
    ("correct", "Correct"),
    ("partly", "Partly correct"),
    ("wrong", "Wrong"),
)


class StepRubric(BaseModel):
    """Verdicts on each agent step (Ctrl+1/2/3 on the step cursor) and the error types a
    wrong step can be given: trajectory-level labels, beside the session's dimensions."""

    model_config = ConfigDict(extra="forbid")

    verdicts: list[Option] = Field(
        default_factory=lambda: [Option(value=v, label=label) for v, label in DEFAULT_VERDICTS],
        min_length=1,
        max_length=9,
    )
    """In key order: Ctrl+1 gives the first."""
    wrong: str = "wrong"
    """The verdict that marks a step as where it went wrong (the failure step by default)."""
    error_types: list[Option] = Field(default_factory=list)
    """The optional taxonomy of step errors."""

    @model_validator(mode="after")
    def _known_values(self) -> StepRubric:
        verdicts = [o.value for o in self.verdicts]
        if len(set(verdicts)) != len(verdicts):
            raise ValueError("step verdicts repeat a value")
        if self.wrong not in verdicts:
            raise ValueError(f"step verdict {self.wrong!r} (wrong) is not one of {verdicts}")
        errors = [o.value for o in self.error_types]
        if len(set(errors)) != len(errors):
            raise ValueError("step error types repeat a value")
        return self

    def verdict(self, value: str) -> Option | None:
        return next((o for o in self.verdicts if o.value == value), None)

    def error_type(self, value: str) -> Option | None:
        return next((o for o in self.error_types if o.value == value), None)


class Rubric(BaseModel):
    """A named, versioned scoring form. Editing a rubric makes a new version."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = RUBRIC_SCHEMA_VERSION
    name: str = Field(pattern=NAME_PATTERN)
    version: int = Field(default=1, ge=1)
    title: str = ""
    description: str = ""
    dimensions: list[Dimension] = Field(min_length=1)
    steps: StepRubric | None = None
    """Step dimensions: a verdict per agent step and an optional error type (None: the
    rubric asks for none)."""

    @model_validator(mode="after")
    def _unique_names(self) -> Rubric:
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names):
            raise ValueError("dimension names must be unique")
        tags = [
            o.hotkey.lower()
            for d in self.dimensions
            if d.kind is DimensionKind.MULTI_SELECT
            for o in d.options
            if o.hotkey
        ]
        if len(set(tags)) != len(tags):
            raise ValueError("failure-tag hotkeys must be unique across the rubric")
        if sum(d.kind is DimensionKind.CORRECTED_RESPONSE for d in self.dimensions) > 1:
            raise ValueError("a rubric has at most one corrected-response dimension")
        return self

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.name == name), None)

    @property
    def taxonomy(self) -> Dimension | None:
        """The failure-category dimension (the first multi-select), if any."""
        return next((d for d in self.dimensions if d.kind is DimensionKind.MULTI_SELECT), None)

    @property
    def corrected_response(self) -> Dimension | None:
        return next(
            (d for d in self.dimensions if d.kind is DimensionKind.CORRECTED_RESPONSE), None
        )

    def missing_required(self, values: dict[str, JsonValue]) -> list[Dimension]:
        """Required dimensions without a value (an empty list or blank text counts as none)."""
        missing = []
        for d in self.dimensions:
            if not d.required:
                continue
            v = values.get(d.name)
            if v is None or (isinstance(v, str | list) and not v):
                missing.append(d)
        return missing

    def problems(self, values: dict[str, JsonValue]) -> list[str]:
        """Every reason ``values`` does not fit this rubric (unknown names, wrong values)."""
        out = [f"unknown dimension {k!r}" for k in values if self.dimension(k) is None]
        for d in self.dimensions:
            p = d.validate_value(values.get(d.name))
            if p:
                out.append(p)
        return out

    def content_key(self) -> tuple[str, str]:
        """What identifies a rubric's content apart from its version number."""
        return self.name, self.model_dump_json(exclude={"version"})
