"""Review analytics: coverage, quality, agreement, gold accuracy and judge agreement.

:func:`compute_stats` reads a handful of narrow column sets once (reviews, batch items with
their sessions, assignments, adjudications, gold labels, judge scores), each filtered in SQL
by the batch and the ``--where`` filter, and aggregates them with pandas — never a Python
loop over rows. The statistics themselves live in :mod:`reviewer.domain.stats`.

Units: an *item* is one session in one batch (reviews outside any batch make items of their
own). Quality is estimated per item — the adjudicated label where a lead recorded one, else
the mean over its reviewers — and, when the scope is one batch, weighted by 1 / inclusion
probability back to the population the batch was drawn from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reviewer.services.analytics.query import (
    GOLD_STRATUM,
    NONE_LABEL,
    AnalyticsError,
    Selection,
    StatsQuery,
)
from reviewer.services.analytics.reading import Reading, start_reading

if TYPE_CHECKING:
    from reviewer.services.analytics.compute import compute_stats, matching_sessions

__all__ = [
    "GOLD_STRATUM",
    "NONE_LABEL",
    "AnalyticsError",
    "Reading",
    "Selection",
    "StatsQuery",
    "compute_stats",
    "matching_sessions",
    "start_reading",
]


def __getattr__(name: str) -> Any:
    # The figures load pandas (half a second): only when first asked for, so that
    # ``reviewer stats`` can start its reads (start_reading) before.
    if name in ("compute_stats", "matching_sessions"):
        from reviewer.services.analytics import compute

        value = getattr(compute, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
