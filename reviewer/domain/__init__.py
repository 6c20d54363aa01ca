"""Domain model: pydantic types for sessions, rubrics, reviews and batches. No I/O, no Qt.

The names below load on first use: importing one module of the package (say
``reviewer.domain.rubric``) does not build every model of the others, which would cost each
command a tenth of a second before it does anything.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what each name is, for type checkers (``as``: re-exported)
    from reviewer.domain.batch import Assignment as Assignment
    from reviewer.domain.batch import Batch as Batch
    from reviewer.domain.batch import BatchItem as BatchItem
    from reviewer.domain.batch import SamplingSpec as SamplingSpec
    from reviewer.domain.review import Review as Review
    from reviewer.domain.review import ReviewRole as ReviewRole
    from reviewer.domain.review import ReviewStatus as ReviewStatus
    from reviewer.domain.rubric import Dimension as Dimension
    from reviewer.domain.rubric import DimensionKind as DimensionKind
    from reviewer.domain.rubric import Option as Option
    from reviewer.domain.rubric import Rubric as Rubric
    from reviewer.domain.session import Agent as Agent
    from reviewer.domain.session import Metrics as Metrics
    from reviewer.domain.session import Role as Role
    from reviewer.domain.session import Session as Session
    from reviewer.domain.session import Signals as Signals
    from reviewer.domain.session import Source as Source
    from reviewer.domain.session import Span as Span
    from reviewer.domain.session import Step as Step
    from reviewer.domain.session import ToolCall as ToolCall

_HOMES = {
    "batch": ("Assignment", "Batch", "BatchItem", "SamplingSpec"),
    "review": ("Review", "ReviewRole", "ReviewStatus"),
    "rubric": ("Dimension", "DimensionKind", "Option", "Rubric"),
    "session": (
        "Agent",
        "Metrics",
        "Role",
        "Session",
        "Signals",
        "Source",
        "Span",
        "Step",
        "ToolCall",
    ),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
