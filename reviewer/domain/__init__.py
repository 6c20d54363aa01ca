"""Domain model: pydantic types for sessions, rubrics, reviews and batches. No I/O, no Qt.

The names below load on first use: importing one module of the package (say
``reviewer.domain.rubric``) does not build every model of the others, which would cost each
command a tenth of a second before it does anything.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reviewer.domain.batch import Assignment, Batch, BatchItem, SamplingSpec
    from reviewer.domain.review import Review, ReviewRole, ReviewStatus
    from reviewer.domain.rubric import Dimension, DimensionKind, Option, Rubric
    from reviewer.domain.session import (
        Agent,
        Metrics,
        Role,
        Session,
        Signals,
        Source,
        Span,
        Step,
        ToolCall,
    )

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

__all__ = [
    "Agent",
    "Assignment",
    "Batch",
    "BatchItem",
    "Dimension",
    "DimensionKind",
    "Metrics",
    "Option",
    "Review",
    "ReviewRole",
    "ReviewStatus",
    "Role",
    "Rubric",
    "SamplingSpec",
    "Session",
    "Signals",
    "Source",
    "Span",
    "Step",
    "ToolCall",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
