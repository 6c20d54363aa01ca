"""Reading what the figures need: a few narrow column sets, filtered in SQL, coded as numbers.

Every text that figures group by (reviewer, agent version, stratum) arrives as an integer
code with a list of names, and dates as days since 1970-01-01, so that pandas merges and
groups on integers only.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    case,
    cast,
    exists,
    func,
    select,
    union_all,
)
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.filters import FilterError, FilterSpec
from reviewer.domain.rubric import DimensionKind, Rubric
from reviewer.services.analytics.query import NO_BATCH, AnalyticsError, StatsQuery
from reviewer.services.filters import apply_filter, parse_where
from reviewer.services.progress import Progress
from reviewer.store.reviews import live_review
from reviewer.store.tables import (
    AssignmentRow,
    BatchItemRow,
    BatchRow,
    PreferenceReviewRow,
    ReviewRow,
    ReviewTag,
    RubricRow,
    SessionRow,
    SessionScore,
)
from reviewer.store.workspace import Workspace

AnySelect: TypeAlias = Select[*tuple[Any, ...]]
"""A SELECT of any columns."""

STATUS_CODES = {"submitted": 1, "skipped": 2, "flagged": 3}
"""Review status → code in the frames (0: draft, or no review yet)."""
SUBMITTED = 1
JUDGE_SAMPLE = 20_000
"""Above this many submitted reviews, judge agreement is estimated on a uniform sample (by a
hash of the session id) of at most about this many reviewed sessions: reading every judge
score of 200,000 reviewed sessions takes longer than the rest of the figures, and 20,000 pin
a correlation to about ±0.01."""
_HASH_MULTIPLIER = 2_654_435_761
_HASH_MODULUS = 1 << 32


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
    def level(self) -> Literal["nominal", "ordinal"]:
        return "ordinal" if self.kind is DimensionKind.ORDINAL else "nominal"

    @property
    def numeric(self) -> np.ndarray:
        """The number each code stands for (ordinal scales), else the code itself."""
        if self.kind is DimensionKind.ORDINAL:
            return np.array([float(v) for v in self.values])
        return np.arange(len(self.values), dtype=float)

    def numbers(self, codes: pd.Series) -> np.ndarray:
        """The number behind each code (NaN where there is none)."""
        raw = codes.to_numpy(dtype=float)
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


def code(dim: Dim) -> ColumnElement[Any]:
    """The option index of ``dim`` in a review's values, in SQL (NULL when unset)."""
    raw = ReviewRow.values[dim.name].as_string()
    if dim.kind is DimensionKind.BOOLEAN:  # SQLite gives JSON true as 1, PostgreSQL as 'true'
        return case({"1": 1, "true": 1, "0": 0, "false": 0}, value=raw, else_=None)
    return case({v: i for i, v in enumerate(dim.values)}, value=raw, else_=None)


def frame(s: OrmSession, stmt: AnySelect) -> pd.DataFrame:
    """The rows of ``stmt`` as a DataFrame, moved one JSON array per column.

    The DB-API builds a Python tuple per row, which at 200,000 rows costs more than the
    query; an array per column parses in milliseconds (orjson) and pandas takes columns
    whole. All aggregates of one SELECT see its rows in the same order, so the arrays line
    up. Databases other than SQLite and PostgreSQL get plain rows.
    """
    names = [c.name for c in stmt.selected_columns]
    conn = s.connection()
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        rows = conn.execute(stmt).all()
        return pd.DataFrame([tuple(r) for r in rows], columns=names)
    sub = stmt.subquery()
    arrays: list[ColumnElement[Any]]
    if dialect == "sqlite":
        arrays = [func.json_group_array(sub.c[n]) for n in names]
    else:
        arrays = [cast(func.json_agg(sub.c[n]), Text) for n in names]
    row = conn.execute(select(*arrays)).one()
    return pd.DataFrame(
        {
            n: _column(orjson.loads(v) if v is not None else [])
            for n, v in zip(names, row, strict=True)
        }
    )


def _column(values: list[Any]) -> pd.Series:
    """A numeric column as float64 (NaN for NULL), any other as Python objects: pandas'
    own inference (and its Arrow strings) would cost more than the query. Text stays
    text, even text that reads as a number (a reviewer called "7")."""
    if isinstance(next((v for v in values if v is not None), None), str):
        return pd.Series(np.asarray(values, dtype=object), dtype=object, copy=False)
    try:
        return pd.Series(np.asarray(values, dtype=np.float64), copy=False)
    except (TypeError, ValueError):
        return pd.Series(np.asarray(values, dtype=object), dtype=object, copy=False)


def _days(column: Any, dialect: str) -> ColumnElement[Any]:
    """A UTC timestamp as whole days since 1970-01-01."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", column) / 86400), Integer)
    return cast(func.julianday(column) - 2440587.5, Integer)


@dataclass
class Scope:
    """The batch and the session filter every read is narrowed by."""

    batch_id: int | None
    spec: FilterSpec | None

    @property
    def filtered(self) -> bool:
        return self.spec is not None and bool(self.spec.clauses)

    def on(self, q: AnySelect, batch_col: Any, session_col: Any) -> AnySelect:
        if self.batch_id is not None:
            q = q.where(batch_col == self.batch_id)
        if self.spec is not None and self.spec.clauses:
            sessions = apply_filter(select(SessionRow.id), self.spec, latest_only=False)
            q = q.where(session_col.in_(sessions))
        return q

    def reviews(self, q: AnySelect) -> AnySelect:
        return self.on(q, ReviewRow.batch_id, ReviewRow.session_id)

    def items(self, q: AnySelect) -> AnySelect:
        return self.on(q, BatchItemRow.batch_id, BatchItemRow.session_id)


def resolve(s: OrmSession, query: StatsQuery) -> Scope:
    spec: FilterSpec | None = None
    if query.where and query.where.strip():
        try:
            spec = parse_where(query.where)
        except FilterError as exc:
            raise AnalyticsError(f"--where: {exc}") from None
    batch_id = None
    if query.batch is not None:
        batch_id = s.scalar(select(BatchRow.id).where(BatchRow.name == query.batch))
        if batch_id is None:
            known = s.scalars(select(BatchRow.name).order_by(BatchRow.name).limit(10)).all()
            hint = f"; batches: {', '.join(known)}" if known else " (it has none yet)"
            raise AnalyticsError(f"no batch named {query.batch!r} in this workspace{hint}")
    return Scope(batch_id, spec)


def main_reviews(role: str) -> list[ColumnElement[bool]]:
    """Reviews of ``role`` that count (a version a merge kept aside does not)."""
    return [ReviewRow.role == role, live_review(scan=True)]


def review_columns(dims: list[Dim], *, with_id: bool = True) -> list[ColumnElement[Any]]:
    failed = exists().where(ReviewTag.review_id == ReviewRow.id)
    return [
        *([ReviewRow.id.label("review_id")] if with_id else []),
        func.coalesce(ReviewRow.batch_id, NO_BATCH).label("batch_id"),
        ReviewRow.session_id.label("session_id"),
        failed.label("failed"),
        *(code(d).label(d.column) for d in dims),
    ]


@dataclass
class Data:
    """Everything the figures are computed from."""

    dims: list[Dim]
    tag_labels: dict[str, str]
    has_taxonomy: bool
    batch_names: dict[int, str]
    reviewers: list[str]
    versions: list[str | None]
    strata: list[str | None]
    reviews: pd.DataFrame
    """batch_id, session_id, failed, d0…, rv (reviewer code), status, active, ix."""
    items: pd.DataFrame
    """Every item: item_id, batch_id, session_id, stratum (code), pi, gold, version (code),
    day, key — batch items, then one per session reviewed outside any batch (item_id -1,
    batch_id -1, pi 1). ``ix`` in the other frames is a row position here (-1: none)."""
    assignments: pd.DataFrame
    """item_id, rv, ix."""
    preferences: pd.DataFrame
    """Preferences between the two sessions of pair items: item_id, rv, status, active, ix."""
    adjudications: pd.DataFrame
    gold: pd.DataFrame
    tags: pd.DataFrame
    """tag, count: failure tags of submitted reviews."""
    scores: pd.DataFrame
    """session_id, judge, score: for a uniform sample of the reviewed sessions."""
    judge_sample: int | None = None
    """Sessions in the judge sample when it is one (None: every reviewed session)."""


_SESSION_BITS = 40


def item_key(df: pd.DataFrame) -> np.ndarray:
    """One int64 per (batch_id, session_id): merges and groups on one integer column."""
    session = df["session_id"].to_numpy(dtype=np.int64)
    if len(session) and int(session.max()) >= 1 << _SESSION_BITS:
        raise AnalyticsError("session ids beyond 2**40 are not supported by the analytics")
    batch = df["batch_id"].to_numpy(dtype=np.int64) + 1
    return np.left_shift(batch, _SESSION_BITS) | session


def _codes(values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Integer codes of a text column (-1 for missing) and the names they stand for."""
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    return codes.astype("int64"), [str(u) for u in uniques]


def _ints(df: pd.DataFrame, *columns: str) -> None:
    for c in columns:
        df[c] = df[c].astype("int64") if len(df) else pd.Series(dtype="int64")


def _floats(df: pd.DataFrame, *columns: str) -> None:
    for c in columns:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)


READERS = 2
"""Threads reading at once: SQLite and PostgreSQL run a query without holding the GIL, so
one thread's query overlaps another's parsing."""


def _read(ws: Workspace, stmt: AnySelect) -> pd.DataFrame:
    with ws.read() as s:
        return frame(s, stmt)


def load(ws: Workspace, query: StatsQuery, progress: Progress) -> Data:
    """Read the columns behind every figure for ``query``.

    The reads run on :data:`READERS` threads, each in a read transaction of its own (a
    review saved meanwhile may be counted in one figure and not yet in another).
    """
    with ws.read() as s:
        scope = resolve(s, query)
        dialect = s.connection().dialect.name
        rubrics = {
            int(i): Rubric.model_validate(d)
            for i, d in s.execute(select(RubricRow.id, RubricRow.definition))
        }
        batch_names = {int(i): str(n) for i, n in s.execute(select(BatchRow.id, BatchRow.name))}
    dims, tag_labels = dimensions(list(rubrics.values()))
    dim_columns = [d.column for d in dims]
    submitted = ReviewRow.status == "submitted"
    status = case(STATUS_CODES, value=ReviewRow.status, else_=0)
    reads: dict[str, AnySelect] = {
        "reviews": scope.reviews(
            select(
                *review_columns(dims, with_id=False),
                ReviewRow.reviewer.label("reviewer"),
                status.label("status"),
                # tenths of a second as an integer: cheaper to move than a float
                cast(func.round(ReviewRow.active_seconds * 10), Integer).label("active"),
            ).where(*main_reviews("reviewer"))
        ),
        "items": scope.items(
            select(
                BatchItemRow.id.label("item_id"),
                BatchItemRow.batch_id.label("batch_id"),
                BatchItemRow.session_id.label("session_id"),
                BatchItemRow.stratum.label("stratum"),
                BatchItemRow.inclusion_probability.label("pi"),
                BatchItemRow.is_gold.label("gold"),
            )
        ),
        "sessions": _sessions_query(scope, dialect),
        "assignments": _assignments_query(scope),
        "preferences": _preferences_query(scope),
        "adjudications": scope.reviews(
            select(*review_columns(dims)).where(*main_reviews("adjudicator"), submitted)
        ),
        # few; merging with the reviews keeps those in scope
        "gold": select(*review_columns(dims)).where(*main_reviews("gold"), submitted),
        "rubrics": scope.reviews(
            select(ReviewRow.rubric_id.label("rubric_id"))
            .where(ReviewRow.role.in_(("reviewer", "adjudicator")))
            .distinct()
        ),
        "tags": scope.reviews(
            select(ReviewTag.tag.label("tag"), func.count().label("count"))
            .join(ReviewRow, ReviewRow.id == ReviewTag.review_id)
            .where(*main_reviews("reviewer"), submitted)
            .group_by(ReviewTag.tag)
        ),
    }
    reviewed = scope.reviews(
        select(ReviewRow.session_id).where(*main_reviews("reviewer"), submitted)
    )
    frames: dict[str, Any] = {}
    total = len(reads) + 1
    with ThreadPoolExecutor(READERS, thread_name_prefix="analytics") as pool:
        pending: dict[Future[Any], str] = {
            pool.submit(_read, ws, stmt): name for name, stmt in reads.items()
        }
        pending[pool.submit(_scores, ws, reviewed)] = "judge scores"
        try:
            for done, future in enumerate(as_completed(pending), start=1):
                frames[pending[future]] = future.result()
                progress.update(done, total, f"Read {pending[future]}")
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    scores, sample = frames["judge scores"]
    used = [rubrics[int(i)] for i in frames["rubrics"]["rubric_id"] if int(i) in rubrics]
    names = {d.name for r in used for d in r.dimensions}
    dims = [d for d in dims if d.name in names]  # the dimensions of the rubrics reviewed with
    reviews, items, sessions = frames["reviews"], frames["items"], frames["sessions"]
    assignments, preferences = frames["assignments"], frames["preferences"]
    adjudications, gold, tags = frames["adjudications"], frames["gold"], frames["tags"]
    reviews["active"] = reviews["active"].astype(float) / 10

    _ints(reviews, "batch_id", "session_id", "status")
    _floats(reviews, "failed", *dim_columns)
    for df in (adjudications, gold):
        _ints(df, "review_id", "batch_id", "session_id")
        _floats(df, "failed", *dim_columns)
    _ints(items, "item_id", "batch_id", "session_id")
    _floats(items, "pi")
    items["gold"] = items["gold"].astype(bool)
    _ints(sessions, "session_id")
    _floats(sessions, "day")
    sessions = sessions.drop_duplicates("session_id")
    loose_ids = reviews.loc[reviews["batch_id"] == NO_BATCH, "session_id"].unique()
    loose = sessions[sessions["session_id"].isin(loose_ids)]
    loose = pd.DataFrame(
        {
            "item_id": -1,
            "batch_id": NO_BATCH,
            "session_id": loose["session_id"].to_numpy(),
            "stratum": None,
            "pi": 1.0,
            "gold": False,
        }
    )
    batch_items = len(items)
    items = pd.concat([items, loose], ignore_index=True)
    where = pd.Index(sessions["session_id"]).get_indexer(items["session_id"])
    found = where >= 0
    items["version"] = pd.Series(sessions["version"].to_numpy()[where], dtype=object).where(
        found, None
    )
    items["day"] = np.where(found, sessions["day"].to_numpy()[where], np.nan)
    items["key"] = item_key(items)
    _ints(assignments, "item_id")
    _ints(preferences, "item_id", "status")
    _floats(preferences, "active")
    _ints(tags, "count")
    by_key = pd.Index(items["key"])
    for df in (reviews, adjudications):
        df["ix"] = by_key.get_indexer(item_key(df))
    # batch items come first and have ids of their own (every loose item has id -1)
    in_batches = pd.Index(items["item_id"].iloc[:batch_items])
    assignments["ix"] = in_batches.get_indexer(assignments["item_id"])
    preferences["ix"] = in_batches.get_indexer(preferences["item_id"])

    named = [reviews["reviewer"], assignments["reviewer"], preferences["reviewer"]]
    rv, reviewers = _codes(pd.concat(named))
    cut = np.cumsum([len(x) for x in named])
    reviews["rv"] = rv[: cut[0]]
    assignments["rv"] = rv[cut[0] : cut[1]]
    preferences["rv"] = rv[cut[1] :]
    items["version"], versions = _codes(items["version"])
    items["stratum"], strata = _codes(items["stratum"])
    return Data(
        dims=dims,
        tag_labels=tag_labels,
        has_taxonomy=any(r.taxonomy is not None for r in used),
        batch_names=batch_names,
        reviewers=reviewers,
        versions=list(versions),
        strata=list(strata),
        reviews=reviews.drop(columns="reviewer"),
        items=items,
        assignments=assignments.drop(columns="reviewer"),
        preferences=preferences.drop(columns="reviewer"),
        adjudications=adjudications,
        gold=gold,
        tags=tags,
        scores=scores,
        judge_sample=sample,
    )


def _sessions_query(scope: Scope, dialect: str) -> AnySelect:
    # Sessions by id from a list (SQLite walks it in order) rather than joined to each
    # item: random lookups into a million-row table cost three times as much.
    wanted: Any = scope.items(select(BatchItemRow.session_id))
    if scope.batch_id is None:
        outside = select(ReviewRow.session_id).where(
            ReviewRow.batch_id.is_(None), *main_reviews("reviewer")
        )
        wanted = union_all(wanted, scope.reviews(outside))
    return select(
        SessionRow.id.label("session_id"),
        SessionRow.agent_version.label("version"),
        _days(SessionRow.started_at, dialect).label("day"),
    ).where(SessionRow.id.in_(wanted))


def _assignments_query(scope: Scope) -> AnySelect:
    q = select(AssignmentRow.item_id.label("item_id"), AssignmentRow.reviewer.label("reviewer"))
    if scope.batch_id is not None or scope.filtered:
        q = scope.items(q.join(BatchItemRow, BatchItemRow.id == AssignmentRow.item_id))
    return q


def _preferences_query(scope: Scope) -> AnySelect:
    status = case(STATUS_CODES, value=PreferenceReviewRow.status, else_=0)
    q = select(
        PreferenceReviewRow.item_id.label("item_id"),
        PreferenceReviewRow.reviewer.label("reviewer"),
        status.label("status"),
        PreferenceReviewRow.active_seconds.label("active"),
    )
    if scope.batch_id is not None or scope.filtered:
        q = scope.items(q.join(BatchItemRow, BatchItemRow.id == PreferenceReviewRow.item_id))
    return q


def _judge_names(s: OrmSession) -> list[str]:
    """Every judge's name, one index seek each (DISTINCT would read the whole index)."""
    names: list[str] = []
    while True:
        q = select(func.min(SessionScore.name))
        if names:
            q = q.where(SessionScore.name > names[-1])
        name = s.scalar(q)
        if name is None:
            return names
        names.append(name)


def _scores(ws: Workspace, reviewed: AnySelect) -> tuple[pd.DataFrame, int | None]:
    """Judge scores of (a uniform sample of at most about :data:`JUDGE_SAMPLE` of) the
    sessions ``reviewed`` selects, long form: session_id, judge, score."""
    empty = pd.DataFrame({"session_id": [], "judge": [], "score": []})
    with ws.read() as s:
        names = _judge_names(s)
        if not names:
            return empty, None
        # reviews, not distinct sessions: as good a bound and no sort to count it
        count = s.scalar(select(func.count()).select_from(reviewed.subquery()))
        sampled = int(count or 0) > JUDGE_SAMPLE
        if sampled:
            bucket = (ReviewRow.session_id * _HASH_MULTIPLIER) % _HASH_MODULUS
            reviewed = reviewed.where(bucket < _HASH_MODULUS * JUDGE_SAMPLE // int(count or 1))
        columns = [
            func.max(case((SessionScore.name == n, SessionScore.value))).label(f"j{i}")
            for i, n in enumerate(names)
        ]
        wide = frame(
            s,
            select(SessionScore.session_id.label("session_id"), *columns)
            .where(SessionScore.session_id.in_(reviewed))
            .group_by(SessionScore.session_id),
        )
    long = wide.melt(id_vars="session_id", var_name="judge", value_name="score")
    long["judge"] = long["judge"].map({f"j{i}": n for i, n in enumerate(names)})
    long = long[long["score"].notna()].reset_index(drop=True)
    _ints(long, "session_id")
    _floats(long, "score")
    return (long if len(long) else empty), (len(wide) if sampled else None)
