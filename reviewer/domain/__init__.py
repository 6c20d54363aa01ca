"""Domain model: pydantic types for sessions, rubrics, reviews and batches. No I/O, no Qt."""

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
