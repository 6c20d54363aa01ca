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

from datetime import UTC, datetime

import pandas as pd

from reviewer import __version__
from reviewer.domain.figures import Disagreement, StatsReport
from reviewer.services.analytics.agreement import agreement, differing, gold_accuracy
from reviewer.services.analytics.coverage import coverage
from reviewer.services.analytics.judges import judges
from reviewer.services.analytics.load import Data, dimensions, load
from reviewer.services.analytics.pairwise import pairwise
from reviewer.services.analytics.quality import quality
from reviewer.services.analytics.query import (
    GOLD_STRATUM,
    NONE_LABEL,
    AnalyticsError,
    Selection,
    StatsQuery,
)
from reviewer.services.analytics.suggestions import suggestion_figures
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.store import analytics as store
from reviewer.store.workspace import Workspace

__all__ = [
    "GOLD_STRATUM",
    "NONE_LABEL",
    "AnalyticsError",
    "Selection",
    "StatsQuery",
    "compute_stats",
    "matching_sessions",
]


def compute_stats(
    ws: Workspace, query: StatsQuery = StatsQuery(), progress: Progress = NO_PROGRESS
) -> StatsReport:
    """Coverage, quality, agreement, gold accuracy and judge agreement for ``query``.

    Raises :class:`AnalyticsError` for an unknown batch or baseline or a bad filter, and
    ``Cancelled`` when ``progress`` is cancelled.
    """
    data = load(ws, query, progress)
    progress.update(0, 0, "Computing figures")
    agreed, found, overlapping = agreement(data)
    listed = found.head(query.disagreements)
    agreed.disagreements_total = len(found)
    agreed.disagreements_open = int((~found["adjudicated"].astype(bool)).sum())
    agreed.disagreements = _listed(ws, data, listed, overlapping)
    progress.check()
    suggested, suggestion_use = suggestion_figures(data)
    return StatsReport(
        generated_at=datetime.now(UTC),
        app_version=__version__,
        batch=query.batch,
        where=query.where or None,
        coverage=coverage(data),
        quality=quality(data, query.baseline, query.by),
        agreement=agreed,
        gold=gold_accuracy(data),
        judges=judges(data),
        judge_sample=data.judge_sample,
        suggestions=suggested,
        suggestion_use=suggestion_use,
        pairwise=pairwise(ws, query.batch),
    )


def _listed(
    ws: Workspace, data: Data, listed: pd.DataFrame, overlapping: pd.DataFrame
) -> list[Disagreement]:
    if listed.empty:
        return []
    dims = differing(listed, overlapping, data.dims)
    seen = overlapping[overlapping["u"].isin(listed["u"])]
    who = seen.groupby("u")["rv"].agg(lambda codes: sorted({data.reviewers[c] for c in codes}))
    keys = store.session_keys(ws, sorted({int(i) for i in listed["session_id"]}))
    return [
        Disagreement(
            batch=data.batch_names.get(int(b)),
            session_id=int(sid),
            session_key=keys.get(int(sid), ""),
            reviewers=who.loc[u],
            dimensions=d,
            adjudicated=bool(adj),
        )
        for u, b, sid, adj, d in zip(
            listed["u"], listed["batch_id"], listed["session_id"], listed["adjudicated"], dims,
            strict=True,
        )
    ]  # fmt: skip


def matching_sessions(ws: Workspace, query: StatsQuery, selection: Selection) -> list[int]:
    """Ids of the sessions behind one bar of a chart, in id order (within ``query``'s scope)."""
    option = None
    if selection.kind == "option":
        dims, _ = dimensions(store.rubric_definitions(ws))
        dim = next((d for d in dims if d.name == selection.dimension), None)
        if dim is None:
            return []
        option = dim.option
    return store.matching_session_ids(
        ws,
        query.batch,
        query.where,
        selection.kind,
        selection.value,
        of_batch=selection.batch,
        gold_stratum=GOLD_STRATUM,
        none_label=NONE_LABEL,
        option=option,
    )
