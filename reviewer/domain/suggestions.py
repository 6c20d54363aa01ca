"""Judges suggest, humans decide: judgements offered for rubric dimensions, and what became
of each offer in the saved review.

A judgement is shown beside a dimension when its name is the dimension's name or one the
dimension lists under ``judge``. It is *offered* (``Enter`` takes it) only when its value is
one the dimension accepts: an option value of a choice or ordinal dimension (a whole number
matches "5"), a yes/no for a boolean one. Text and tag dimensions show it without offering.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, JsonValue

from reviewer.domain.rubric import Dimension, DimensionKind, Rubric
from reviewer.domain.session import Judgement

Outcome = Literal["taken", "changed", "shown", "none"]
"""What the reviewer did with a dimension: took the suggestion unchanged, set another value,
left it unset while one was shown, or set it without any suggestion shown."""


class SuggestionRecord(BaseModel):
    """Per dimension of a saved review: the suggestion shown (if any) and what became of it."""

    model_config = ConfigDict(extra="forbid")

    outcome: Outcome
    judge: str | None = None
    """The judgement's name (and source, as ``name (source)``) when one was shown."""
    suggested: JsonValue = None
    """The value offered (null when shown but not offerable, or none shown)."""


@dataclass(frozen=True)
class Suggestion:
    """A judgement shown beside one dimension."""

    dimension: str
    judgement: Judgement
    offered: JsonValue
    """The dimension value ``Enter`` sets, or None when the value fits no option."""

    @property
    def judge(self) -> str:
        j = self.judgement
        return f"{j.name} ({j.source})" if j.source else j.name

    @property
    def shown_value(self) -> str:
        v = self.judgement.value
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)


def offered_value(dim: Dimension, value: bool | float | str) -> JsonValue:
    """The dimension value a judgement's ``value`` stands for, or None when it fits none."""
    kind = dim.kind
    if kind is DimensionKind.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        return {"true": True, "yes": True, "false": False, "no": False}.get(text)
    if kind not in (DimensionKind.ORDINAL, DimensionKind.CHOICE) or isinstance(value, bool):
        return None
    if isinstance(value, float | int):
        candidates = [str(int(value))] if float(value).is_integer() else []
        candidates.append(str(value))
    else:
        candidates = [value, value.strip().lower()]
    for c in candidates:
        if dim.option(c) is not None:
            return c
    if kind is DimensionKind.ORDINAL and isinstance(value, float | int):
        for o in dim.options:  # "4.0" and 4 both mean option "4"
            if float(o.value) == float(value):
                return o.value
    return None


def suggest(rubric: Rubric, judgements: list[Judgement]) -> dict[str, Suggestion]:
    """The suggestion shown for each dimension some judgement matches (an offerable one
    first, then the first in the session's order)."""
    out: dict[str, Suggestion] = {}
    for dim in rubric.dimensions:
        names = {dim.name, *dim.judge}
        matching = [j for j in judgements if j.name in names]
        if not matching:
            continue
        shown = [Suggestion(dim.name, j, offered_value(dim, j.value)) for j in matching]
        out[dim.name] = next((s for s in shown if s.offered is not None), shown[0])
    return out


def take_offered(
    values: dict[str, JsonValue], suggestions: dict[str, Suggestion]
) -> dict[str, JsonValue]:
    """``values`` with every offered suggestion set where the dimension is still unset."""
    out = dict(values)
    for name, s in suggestions.items():
        if s.offered is not None and out.get(name) in (None, "", []):
            out[name] = s.offered
    return out


def outcomes(
    rubric: Rubric, values: dict[str, JsonValue], suggestions: dict[str, Suggestion]
) -> dict[str, SuggestionRecord]:
    """Per dimension, what the reviewer did with what was shown (dimensions neither shown a
    suggestion nor set are left out)."""
    out: dict[str, SuggestionRecord] = {}
    for dim in rubric.dimensions:
        v = values.get(dim.name)
        is_set = v not in (None, "", [])
        s = suggestions.get(dim.name)
        if s is None:
            if is_set:
                out[dim.name] = SuggestionRecord(outcome="none")
            continue
        if not is_set:
            outcome: Outcome = "shown"
        elif s.offered is not None and v == s.offered:
            outcome = "taken"
        else:
            outcome = "changed"
        out[dim.name] = SuggestionRecord(outcome=outcome, judge=s.judge, suggested=s.offered)
    return out
