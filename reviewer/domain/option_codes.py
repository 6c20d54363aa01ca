"""A review's categorical values as one integer, stored beside them (``reviews.option_codes``)
so that the analytics read one number per review instead of extracting JSON.

The code is positional in the review's own rubric: its ordinal, choice and boolean
dimensions in rubric order, each as a digit of radix *options + 1* — 0 when unset, else
1 + the index of the option (booleans: 1 no, 2 yes). Rubric versions never change, so a
stored code keeps its meaning; the analytics translate it to the options of every rubric
merged (:func:`option_text`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reviewer.domain.rubric import Dimension, DimensionKind, Rubric

CODED = (DimensionKind.ORDINAL, DimensionKind.CHOICE, DimensionKind.BOOLEAN)
"""The kinds of dimension a code holds."""
CODES_LIMIT = 1 << 49
"""Codes stay below this (none is stored for a rubric whose codes could reach it): the
analytics move them eight times over as exact doubles (below 2**53)."""


def coded_dimensions(rubric: Rubric) -> list[Dimension]:
    """The dimensions a code of ``rubric`` holds, in digit order."""
    return [d for d in rubric.dimensions if d.kind in CODED]


def option_values(d: Dimension) -> tuple[str, ...]:
    """What digit 1, 2, … of ``d`` stand for (booleans: "false", "true")."""
    if d.kind is DimensionKind.BOOLEAN:
        return ("false", "true")
    return tuple(o.value for o in d.options)


def radix(d: Dimension) -> int:
    return len(option_values(d)) + 1


def encode(rubric: Rubric, values: Mapping[str, Any]) -> int | None:
    """The code of ``values`` in ``rubric``; None when they do not fit it (a name it does not
    have, a value that is not one of the options) or the code could reach
    :data:`CODES_LIMIT` — then the analytics read the values themselves."""
    names = {d.name for d in rubric.dimensions}
    if any(k not in names for k in values):
        return None
    code, weight = 0, 1
    for d in coded_dimensions(rubric):
        v = values.get(d.name)
        if v is None:
            digit = 0
        elif d.kind is DimensionKind.BOOLEAN:
            if not isinstance(v, bool):
                return None
            digit = 2 if v else 1
        else:
            options = option_values(d)
            if not isinstance(v, str) or v not in options:
                return None
            digit = 1 + options.index(v)
        code += weight * digit
        weight *= radix(d)
    return code if weight <= CODES_LIMIT else None


def option_text(d: Dimension, digit: int, dialect: str) -> str | None:
    """The value behind ``digit`` of ``d`` as SQL gives a JSON value as text (None: unset):
    a boolean is "1"/"0" in SQLite and "true"/"false" in PostgreSQL."""
    if digit == 0:
        return None
    if d.kind is DimensionKind.BOOLEAN:
        yes = digit == 2
        if dialect == "sqlite":
            return "1" if yes else "0"
        return "true" if yes else "false"
    return option_values(d)[digit - 1]
