"""What the analytics are asked for: the scope of the figures and the sessions behind a bar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reviewer.domain.figures import AnalyticsError
from reviewer.store.analytics import NO_BATCH

NONE_LABEL = "(none)"
"""Shown for a missing agent version or stratum."""
GOLD_STRATUM = "(gold items)"
"""The stratum column of gold items, which are not part of the sample."""


__all__ = ["GOLD_STRATUM", "NONE_LABEL", "NO_BATCH", "AnalyticsError", "Selection", "StatsQuery"]


@dataclass(frozen=True)
class StatsQuery:
    batch: str | None = None
    """Only this batch (None: every review in the workspace)."""
    where: str | None = None
    """Only sessions matching this ``--where`` filter."""
    baseline: str | None = None
    """The agent version others are compared with (default: the lowest version number)."""
    disagreements: int = 100
    """How many disagreements to list (all are counted)."""
    by: str = "auto"
    """Period of the figures over time: day, week, month, or auto (days over three weeks
    or less, else weeks)."""


SelectionKind = Literal["tag", "failed", "version", "option", "reviewer", "batch", "stratum"]


@dataclass(frozen=True)
class Selection:
    """The sessions behind one bar of a chart: what a click on it asks to see.

    - ``tag``: submitted reviews carrying the failure tag ``value``; ``failed``: any tag;
    - ``version``: submitted reviews of sessions of agent version ``value``;
    - ``option``: submitted reviews giving ``value`` on ``dimension``;
    - ``reviewer``, ``batch``, ``stratum`` (of ``batch``): the assigned items.
    """

    kind: SelectionKind
    value: str | None
    dimension: str | None = None
    batch: str | None = None
    title: str = ""

    def describe(self) -> str:
        shown = self.value if self.value is not None else NONE_LABEL
        return self.title or f"{self.kind} {shown}"
