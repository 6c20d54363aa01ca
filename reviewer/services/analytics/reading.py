"""Starting the reads behind the figures: the SQL runs on threads and needs no pandas.

:func:`start_reading` resolves the scope, builds every read and sets them running, each on a
reader thread in a read transaction of its own; :func:`reviewer.services.analytics.load.load`
turns what they fetch into frames as they finish. Neither this module nor what it imports
loads pandas, so ``reviewer stats`` starts the reads first and imports the figures' modules
(pandas, half a second) while SQLite works.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from reviewer.domain.rubric import DimensionKind, Rubric
from reviewer.services.analytics.query import StatsQuery
from reviewer.store import analytics as store
from reviewer.store.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

READERS = 2
"""Threads reading at once: SQLite and PostgreSQL run a query without holding the GIL, so
one thread's query overlaps another's parsing."""


@dataclass(frozen=True)
class Dim:
    """A categorical rubric dimension as the frames hold it: option index codes."""

    name: str
    label: str
    kind: DimensionKind
    values: tuple[str, ...]
    labels: tuple[str, ...]
    column: str

    @property
    def option(self) -> store.Option:
        """The dimension as the store codes it in SQL."""
        return store.Option(self.name, self.kind, self.values, self.column)

    @property
    def level(self) -> Literal["nominal", "ordinal"]:
        return "ordinal" if self.kind is DimensionKind.ORDINAL else "nominal"

    @property
    def numeric(self) -> np.ndarray:
        """The number each code stands for (ordinal scales), else the code itself."""
        if self.kind is DimensionKind.ORDINAL:
            return np.array([float(v) for v in self.values])
        return np.arange(len(self.values), dtype=float)

    def numbers(self, codes: pd.Series | np.ndarray) -> np.ndarray:
        """The number behind each code (NaN where there is none)."""
        raw = np.asarray(codes, dtype=float)
        out = np.full(len(raw), np.nan)
        ok = ~np.isnan(raw)
        out[ok] = self.numeric[raw[ok].astype(int)]
        return out


_CATEGORICAL = (DimensionKind.ORDINAL, DimensionKind.CHOICE, DimensionKind.BOOLEAN)


def dimensions(rubrics: list[Rubric]) -> tuple[list[Dim], dict[str, str]]:
    """Categorical dimensions over every rubric (the latest version's kind and labels win,
    options of older versions are kept) and the failure-tag labels."""
    merged: dict[str, tuple[Any, list[str], dict[str, str]]] = {}
    tags: dict[str, str] = {}
    for rubric in sorted(rubrics, key=lambda r: (r.name, r.version)):
        taxonomy = rubric.taxonomy
        if taxonomy is not None:
            tags.update({o.value: o.label for o in taxonomy.options})
        for d in rubric.dimensions:
            if d.kind not in _CATEGORICAL:
                continue
            if d.kind is DimensionKind.BOOLEAN:
                options = [("false", "no"), ("true", "yes")]
            else:
                options = [(o.value, o.label) for o in d.options]
            _, values, labels = merged.get(d.name, (d, [], {}))
            for v, lab in options:
                if v not in labels:
                    values.append(v)
                labels[v] = lab
            merged[d.name] = (d, values, labels)
    dims = [
        Dim(d.name, d.label, d.kind, tuple(vs), tuple(ls[v] for v in vs), f"d{i}")
        for i, (d, vs, ls) in enumerate(merged.values())
    ]
    return dims, tags


class Reading:
    """The reads of one :class:`StatsQuery`, running (see :func:`start_reading`).

    ``pending`` maps each read to its name: a :class:`store.Fetched` for a column set of
    :func:`store.reads`, a :class:`store.JudgeScores` for "judge scores". Close it
    (or use it as a context manager) to cancel the reads not yet started and wait for the
    others.
    """

    def __init__(self, ws: Workspace, query: StatsQuery) -> None:
        self.query = query
        self.catalogue = store.catalogue(ws, query.batch, query.where)
        self.dims, self.tag_labels = dimensions(list(self.catalogue.rubrics.values()))
        self.options = [d.option for d in self.dims]
        reads = store.reads(self.catalogue, self.options)
        self._pool = ThreadPoolExecutor(READERS, thread_name_prefix="analytics")
        # The reviews first, then on the same thread the judge scores of their sessions
        # (a future each): the reviews tell which sessions, so the judges' read does not
        # read the reviews again. The other reads run on the other thread meanwhile.
        reviews: Future[store.Fetched] = Future()
        scores: Future[store.JudgeScores] = Future()
        self.pending: dict[Future[Any], str] = {reviews: "reviews", scores: "judge scores"}
        scope = self.catalogue.scope

        def reviews_then_scores() -> None:
            for future in (reviews, scores):
                if not future.set_running_or_notify_cancel():
                    return
            try:
                fetched = _reader(ws, "reviews", reads["reviews"])()
            except BaseException as exc:
                reviews.set_exception(exc)
                scores.set_exception(exc)
                return
            reviews.set_result(fetched)
            try:
                sessions = store.submitted_sessions(fetched)
                scores.set_result(store.fetch_judge_scores(ws, scope, sessions))
            except BaseException as exc:
                scores.set_exception(exc)

        try:
            self._pool.submit(reviews_then_scores)
            for name, stmt in reads.items():
                if name != "reviews":
                    self.pending[self._pool.submit(_reader(ws, name, stmt))] = name
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for future in self.pending:  # reads that never started (those futures are ours)
            future.cancel()

    def __enter__(self) -> Reading:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _reader(ws: Workspace, name: str, stmt: store.AnySelect) -> Callable[[], store.Fetched]:
    def read() -> store.Fetched:
        with ws.read() as s:
            return store.fetch(s, stmt, store.WHOLE.get(name, ()), store.KEYS.get(name, ()))

    return read


def start_reading(ws: Workspace, query: StatsQuery) -> Reading:
    """Resolve ``query``'s scope and start every read behind its figures (on
    :data:`READERS` threads); raises :class:`AnalyticsError` for an unknown batch or a bad
    filter."""
    return Reading(ws, query)
