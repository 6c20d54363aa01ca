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

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import exists, select

from reviewer import __version__
from reviewer.domain.figures import Disagreement, StatsReport
from reviewer.domain.rubric import Rubric
from reviewer.services.analytics.agreement import agreement, differing, gold_accuracy
from reviewer.services.analytics.coverage import coverage
from reviewer.services.analytics.judges import judges
from reviewer.services.analytics.load import (
    Data,
    dimensions,
    load,
    main_reviews,
    resolve,
)
from reviewer.services.analytics.load import code as option_code
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
from reviewer.store.tables import (
    AssignmentRow,
    BatchItemRow,
    BatchRow,
    ReviewRow,
    ReviewTag,
    RubricRow,
    SessionRow,
)
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
    # the suggestion figures read the reviews on a thread of their own, beside the rest
    with ThreadPoolExecutor(1, thread_name_prefix="analytics-suggestions") as pool:
        suggestions = pool.submit(suggestion_figures, ws, query)
        data = load(ws, query, progress)
        progress.update(7, 7, "Computing figures")
        agreed, found, overlapping = agreement(data)
        listed = found.head(query.disagreements)
        agreed.disagreements_total = len(found)
        agreed.disagreements_open = int((~found["adjudicated"].astype(bool)).sum())
        agreed.disagreements = _listed(ws, data, listed, overlapping)
        progress.check()
        suggested, suggestion_use = suggestions.result()
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
    ids = sorted({int(i) for i in listed["session_id"]})
    with ws.read() as s:
        found = s.execute(
            select(SessionRow.id, SessionRow.session_key).where(SessionRow.id.in_(ids))
        )
        keys = {int(i): str(k) for i, k in found}
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
    with ws.read() as s:
        scope = resolve(s, query)
        kind = selection.kind
        if kind in ("reviewer", "batch", "stratum"):
            q = select(BatchItemRow.session_id).distinct()
            if kind == "reviewer":
                q = q.join(AssignmentRow, AssignmentRow.item_id == BatchItemRow.id).where(
                    AssignmentRow.reviewer == selection.value
                )
            else:
                batch = selection.value if kind == "batch" else selection.batch
                q = q.join(BatchRow, BatchRow.id == BatchItemRow.batch_id).where(
                    BatchRow.name == batch
                )
            if kind == "stratum":
                if selection.value == GOLD_STRATUM:
                    q = q.where(BatchItemRow.is_gold.is_(True))
                elif selection.value in (None, NONE_LABEL):
                    q = q.where(BatchItemRow.stratum.is_(None), BatchItemRow.is_gold.is_(False))
                else:
                    q = q.where(BatchItemRow.stratum == selection.value)
            return list(s.scalars(scope.items(q).order_by(BatchItemRow.session_id)))
        q = (
            select(ReviewRow.session_id)
            .distinct()
            .where(*main_reviews("reviewer"), ReviewRow.status == "submitted")
        )
        if kind == "tag":
            q = q.join(ReviewTag, ReviewTag.review_id == ReviewRow.id).where(
                ReviewTag.tag == selection.value
            )
        elif kind == "failed":
            q = q.where(exists().where(ReviewTag.review_id == ReviewRow.id))
        elif kind == "version":
            q = q.join(SessionRow, SessionRow.id == ReviewRow.session_id).where(
                SessionRow.agent_version.is_(None)
                if selection.value in (None, NONE_LABEL)
                else SessionRow.agent_version == selection.value
            )
        elif kind == "option":
            rubrics = [Rubric.model_validate(d) for d in s.scalars(select(RubricRow.definition))]
            dims, _ = dimensions(rubrics)
            dim = next((d for d in dims if d.name == selection.dimension), None)
            if dim is None or selection.value not in dim.values:
                return []
            q = q.where(option_code(dim) == dim.values.index(selection.value))
        return list(s.scalars(scope.reviews(q).order_by(ReviewRow.session_id)))
