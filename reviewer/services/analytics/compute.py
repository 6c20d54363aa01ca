"""compute_stats: the figures of a :class:`StatsQuery` (see :mod:`reviewer.services.analytics`)."""

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
from reviewer.services.analytics.query import GOLD_STRATUM, NONE_LABEL, Selection, StatsQuery
from reviewer.services.analytics.reading import Reading
from reviewer.services.analytics.suggestions import suggestion_figures
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.store import analytics as store
from reviewer.store.workspace import Workspace


def compute_stats(
    ws: Workspace,
    query: StatsQuery = StatsQuery(),
    progress: Progress = NO_PROGRESS,
    reading: Reading | None = None,
) -> StatsReport:
    """Coverage, quality, agreement, gold accuracy and judge agreement for ``query``;
    through ``reading`` when its reads were started already (:func:`start_reading`).

    Raises :class:`AnalyticsError` for an unknown batch or baseline or a bad filter, and
    ``Cancelled`` when ``progress`` is cancelled.
    """
    data = load(ws, query, progress, reading)
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
    named: dict[int, set[str]] = {}
    for u, rv in zip(seen["u"].tolist(), seen["rv"].tolist(), strict=True):
        named.setdefault(u, set()).add(data.reviewers[rv])
    who = {u: sorted(names) for u, names in named.items()}
    keys = store.session_keys(ws, sorted({int(i) for i in listed["session_id"]}))
    return [
        Disagreement(
            batch=data.batch_names.get(int(b)),
            session_id=int(sid),
            session_key=keys.get(int(sid), ""),
            reviewers=who[u],
            dimensions=d,
            adjudicated=bool(adj),
        )
        for u, b, sid, adj, d in zip(
            listed["u"].tolist(), listed["batch_id"], listed["session_id"], listed["adjudicated"],
            dims,
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
