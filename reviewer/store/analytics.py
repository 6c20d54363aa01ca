"""The read side of the analytics: every SQL statement behind the figures, in one place.

:mod:`reviewer.services.analytics` computes the figures from what this module reads and
issues no SQL of its own. The reads are narrow column sets, filtered in SQL by the batch and
the ``--where`` filter, handed over as DataFrames (:func:`frame`): every text the figures
group by arrives as it is stored, dates as days since 1970-01-01, and the options of rubric
dimensions as their index (:func:`option_code`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.figures import AnalyticsError
from reviewer.domain.filters import FilterError, FilterSpec, parse_where
from reviewer.domain.option_codes import CODED, coded_dimensions, option_text, radix
from reviewer.domain.rubric import DimensionKind, Rubric
from reviewer.store.filters import apply_filter
from reviewer.store.reviews import live_review
from reviewer.store.tables import (
    LEAD_REVIEW,
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

if TYPE_CHECKING:  # numpy and pandas load with the figures: the reads start before them
    import numpy as np
    import pandas as pd

AnySelect: TypeAlias = Select[*tuple[Any, ...]]
"""A SELECT of any columns."""

NO_BATCH = -1
"""Batch id of reviews made outside any batch."""
STATUS_CODES = {"submitted": 1, "skipped": 2, "flagged": 3}
"""Review status → code in the frames (0: draft, or no review yet)."""
JUDGE_SAMPLE = 20_000
"""Above this many submitted reviews, judge agreement is estimated on a uniform sample (by a
hash of the session id) of at most about this many reviewed sessions: reading every judge
score of 200,000 reviewed sessions takes longer than the rest of the figures, and 20,000 pin
a correlation to about ±0.01."""
_HASH_MULTIPLIER = 2_654_435_761
_HASH_MODULUS = 1 << 32


@dataclass(frozen=True)
class Option:
    """A categorical rubric dimension as SQL codes it: ``column`` holds the index of the
    option in ``values`` (NULL when unset)."""

    name: str
    kind: DimensionKind
    values: tuple[str, ...]
    column: str


def option_code(dim: Option) -> ColumnElement[Any]:
    """The option index of ``dim`` in a review's values, in SQL (NULL when unset)."""
    raw = ReviewRow.values[dim.name].as_string()
    if dim.kind is DimensionKind.BOOLEAN:  # SQLite gives JSON true as 1, PostgreSQL as 'true'
        return case({"1": 1, "true": 1, "0": 0, "false": 0}, value=raw, else_=None)
    return case({v: i for i, v in enumerate(dim.values)}, value=raw, else_=None)


@dataclass(frozen=True)
class Fetched:
    """What one read fetched (:func:`fetch`), before it becomes a DataFrame (:func:`to_frame`):
    per group of rows sharing the values of the ``keys`` columns (one group when there
    are none), those values and a JSON array per other column (None: no rows), or
    comma-separated numbers for the ``whole`` columns — or, from other databases, plain
    rows."""

    names: list[str]
    groups: list[tuple[Any, ...]] | None
    """Per group: the values of ``keys``, then one array per other column of ``names``."""
    rows: list[tuple[Any, ...]] | None = None
    whole: frozenset[str] = frozenset()
    keys: tuple[str, ...] = ()

    @property
    def moved(self) -> list[str]:
        """The columns moved as arrays, in the order each group holds them."""
        return [n for n in self.names if n not in self.keys]


def fetch(
    s: OrmSession, stmt: AnySelect, whole: Collection[str] = (), keys: Collection[str] = ()
) -> Fetched:
    """Run ``stmt`` and fetch its rows moved one JSON array per column.

    The DB-API builds a Python tuple per row, which at 200,000 rows costs more than the
    query; an array per column parses in milliseconds (orjson) and pandas takes columns
    whole. All aggregates of one SELECT see its rows in the same order, so the arrays line
    up. ``whole``: integer columns never NULL, moved as comma-separated text, which numpy
    reads a few times faster than a JSON array (no Python number per value). ``keys``: text
    columns of few distinct values (reviewer, stratum, version), which the rows are grouped
    by: each value moves once per group, not once per row (a million names cost a third of
    a second to parse and code). Databases other than SQLite and PostgreSQL give plain rows.

    Needs neither numpy nor pandas: a read can run while they load.
    """
    names = [c.name for c in stmt.selected_columns]
    conn = s.connection()
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return Fetched(names, None, [tuple(r) for r in conn.execute(stmt).all()])
    sub = stmt.subquery()
    keys = tuple(n for n in names if n in keys)
    arrays: list[ColumnElement[Any]]
    moved = [n for n in names if n not in keys]
    if dialect == "sqlite":
        arrays = [
            func.group_concat(sub.c[n]) if n in whole else func.json_group_array(sub.c[n])
            for n in moved
        ]
    else:
        arrays = [
            func.string_agg(cast(sub.c[n], Text), ",")
            if n in whole
            else cast(func.json_agg(sub.c[n]), Text)
            for n in moved
        ]
    grouped = select(*(sub.c[k] for k in keys), *arrays)
    if keys:
        grouped = grouped.group_by(*(sub.c[k] for k in keys))
    groups = [tuple(r) for r in conn.execute(grouped).all()]
    if keys and not groups:  # no rows: one empty group, as without keys
        groups = [(*(None for _ in keys), *(None for _ in moved))]
    return Fetched(names, groups, whole=frozenset(whole).intersection(names), keys=keys)


def to_frame(fetched: Fetched) -> pd.DataFrame:
    """The DataFrame of what :func:`fetch` fetched: numbers as float64 (NaN for NULL), text
    as Python objects — the ``keys`` as categoricals, their categories in sorted order."""
    import numpy as np
    import pandas as pd

    if fetched.groups is None:
        return pd.DataFrame(fetched.rows or [], columns=fetched.names)
    columns = {}
    sizes = [0] * len(fetched.groups)  # rows per group
    for n in fetched.moved:
        parts = _parts(fetched, n)
        sizes = [len(p) for p in parts]
        if n in fetched.whole:
            columns[n] = pd.Series(np.concatenate(parts).astype(np.float64), copy=False)
        else:
            columns[n] = _column(parts[0] if len(parts) == 1 else list(chain.from_iterable(parts)))
    for i, n in enumerate(fetched.keys):
        values = [g[i] for g in fetched.groups]
        names = sorted({v for v in values if v is not None})
        where = {v: c for c, v in enumerate(names)}
        codes = np.array([where.get(v, -1) for v in values], dtype=np.int64)
        columns[n] = pd.Series(
            pd.Categorical.from_codes(np.repeat(codes, sizes), pd.Index(names, dtype=object)),
            copy=False,
        )
    return pd.DataFrame({n: columns[n] for n in fetched.names})


def _parts(fetched: Fetched, name: str) -> list[Any]:
    """Column ``name`` of each group :func:`fetch` fetched: the integers of a ``whole``
    column (int64 first: numpy reads integers four times faster than floats), else the
    values of its JSON array."""
    import numpy as np
    import orjson

    at = len(fetched.keys) + fetched.moved.index(name)
    texts = [g[at] for g in fetched.groups or []]
    if name in fetched.whole:
        return [
            np.fromstring(t, dtype=np.int64, sep=",") if t else np.empty(0, dtype=np.int64)
            for t in texts
        ]
    return [orjson.loads(t) if t is not None else [] for t in texts]


def frame(s: OrmSession, stmt: AnySelect) -> pd.DataFrame:
    """The rows of ``stmt`` as a DataFrame (:func:`fetch`, then :func:`to_frame`)."""
    return to_frame(fetch(s, stmt))


def _column(values: list[Any]) -> pd.Series:
    """A numeric column as float64 (NaN for NULL), any other as Python objects: pandas'
    own inference (and its Arrow strings) would cost more than the query. Text stays
    text, even text that reads as a number (a reviewer called "7")."""
    import numpy as np
    import pandas as pd

    first = next((v for v in values if v is not None), None)
    if first is None:  # all NULL: numpy would take a while to make NaN of each None
        return pd.Series(np.full(len(values), np.nan), copy=False)
    if isinstance(first, str):
        return pd.Series(np.asarray(values, dtype=object), dtype=object, copy=False)
    try:
        return pd.Series(np.asarray(values, dtype=np.float64), copy=False)
    except (TypeError, ValueError):
        return pd.Series(np.asarray(values, dtype=object), dtype=object, copy=False)


def _days(column: Any, dialect: str) -> ColumnElement[Any]:
    """A UTC timestamp as whole days since 1970-01-01."""
    if dialect == "postgresql":
        # the date in UTC minus a date: an integer (extract(epoch …) makes a numeric of
        # every row: at a million rows 0.37 s against 0.15 s)
        day = cast(func.timezone("UTC", column), Date) - literal_column("DATE '1970-01-01'")
        return type_coerce(day, Integer)
    return cast(func.julianday(column) - 2440587.5, Integer)


@dataclass
class Scope:
    """The batch and the session filter every read is narrowed by."""

    batch_id: int | None
    spec: FilterSpec | None

    @property
    def filtered(self) -> bool:
        return self.spec is not None and bool(self.spec.clauses)

    def conditions(self, batch_col: Any, session_col: Any) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.batch_id is not None:
            out.append(batch_col == self.batch_id)
        if self.spec is not None and self.spec.clauses:
            sessions = apply_filter(select(SessionRow.id), self.spec, latest_only=False)
            out.append(session_col.in_(sessions))
        return out

    def on(self, q: AnySelect, batch_col: Any, session_col: Any) -> AnySelect:
        conditions = self.conditions(batch_col, session_col)
        return q.where(*conditions) if conditions else q

    def reviews(self, q: AnySelect) -> AnySelect:
        return self.on(q, ReviewRow.batch_id, ReviewRow.session_id)

    def items(self, q: AnySelect) -> AnySelect:
        return self.on(q, BatchItemRow.batch_id, BatchItemRow.session_id)


def resolve(s: OrmSession, batch: str | None, where: str | None) -> Scope:
    """The scope of ``batch`` (None: every batch) and the ``--where`` filter text."""
    spec: FilterSpec | None = None
    if where and where.strip():
        try:
            spec = parse_where(where)
        except FilterError as exc:
            raise AnalyticsError(f"--where: {exc}") from None
    batch_id = None
    if batch is not None:
        batch_id = s.scalar(select(BatchRow.id).where(BatchRow.name == batch))
        if batch_id is None:
            known = s.scalars(select(BatchRow.name).order_by(BatchRow.name).limit(10)).all()
            hint = f"; batches: {', '.join(known)}" if known else " (it has none yet)"
            raise AnalyticsError(f"no batch named {batch!r} in this workspace{hint}")
    return Scope(batch_id, spec)


def main_reviews(role: str, dialect: str = "sqlite") -> list[ColumnElement[bool]]:
    """Reviews of ``role`` that count (a version a merge kept aside does not), worded for
    ``dialect``'s planner: a scan on SQLite (see :func:`live_review`); on PostgreSQL
    ``conflict_of IS NULL``, whose share it knows from its statistics — of the other
    wording it guessed 0.2 % of the rows, and so sorted a million reviews on disk to group
    them by reviewer rather than hashing them."""
    return [ReviewRow.role == role, live_review(scan=dialect != "postgresql")]


def review_columns(dims: Sequence[Option], *, with_id: bool = True) -> list[ColumnElement[Any]]:
    failed = _failed()
    return [
        *([ReviewRow.id.label("review_id")] if with_id else []),
        func.coalesce(ReviewRow.batch_id, NO_BATCH).label("batch_id"),
        ReviewRow.session_id.label("session_id"),
        failed.label("failed"),
        *(option_code(d).label(d.column) for d in dims),
    ]


@dataclass
class Catalogue:
    """What the reads are shaped by: the scope, the rubrics by id and the batch names."""

    scope: Scope
    dialect: str
    rubrics: dict[int, Rubric]
    batch_names: dict[int, str]


def catalogue(ws: Workspace, batch: str | None, where: str | None) -> Catalogue:
    with ws.read() as s:
        scope = resolve(s, batch, where)
        rubrics = {
            int(i): Rubric.model_validate(d)
            for i, d in s.execute(select(RubricRow.id, RubricRow.definition))
        }
        names = {int(i): str(n) for i, n in s.execute(select(BatchRow.id, BatchRow.name))}
        return Catalogue(scope, s.connection().dialect.name, rubrics, names)


def reads(cat: Catalogue, dims: Sequence[Option]) -> dict[str, AnySelect]:
    """Every column set the figures are computed from, by name (each read with
    :func:`frame`; judge scores come from :func:`judge_scores`).

    One pass over the reviews in scope serves coverage, quality, agreement and the judges'
    suggestions: the suggestion records (text, and the values beside them) come only where
    a review holds some, so the pass costs little more for them.
    """
    scope = cat.scope
    submitted = ReviewRow.status == "submitted"
    status = case(STATUS_CODES, value=ReviewRow.status, else_=0)
    records = cast(ReviewRow.suggestions, Text)
    has_records = records.is_not(None) & (records != "{}") & (records != "null")
    reviews = select(
        *_small_columns(dims, status, cat),
        ReviewRow.reviewer.label("reviewer"),
        # tenths of a second as an integer: cheaper to move than a float
        cast(func.round(ReviewRow.active_seconds * 10), Integer).label("active"),
        ReviewRow.rubric_id.label("rubric_id"),
        case((has_records, records), else_=None).label("records"),
        case((has_records, cast(ReviewRow.values, Text)), else_=None).label("values"),
    ).where(*main_reviews("reviewer", cat.dialect))
    out = {
        "reviews": scope.reviews(reviews),
        "items": scope.items(
            select(
                BatchItemRow.id.label("item_id"),
                BatchItemRow.batch_id.label("batch_id"),
                BatchItemRow.session_id.label("session_id"),
                BatchItemRow.stratum.label("stratum"),
                BatchItemRow.inclusion_probability.label("pi"),
                BatchItemRow.is_gold.label("gold"),
                BatchItemRow.agent_version.label("version"),
                _days(BatchItemRow.started_at, cat.dialect).label("day"),
            )
        ),
        "assignments": _assignments_query(scope),
        "preferences": _preferences_query(scope),
        # The lead's labels, few: adjudications in scope, and every gold label (merging with
        # the reviews keeps those in scope) — in one read, through the index of leads' reviews.
        "labels": select(
            *review_columns(dims),
            ReviewRow.rubric_id.label("rubric_id"),
            (ReviewRow.role == "gold").label("gold"),
        ).where(
            text(LEAD_REVIEW),
            live_review(scan=True),
            submitted,
            or_(
                ReviewRow.role == "gold",
                and_(
                    ReviewRow.role == "adjudicator",
                    *scope.conditions(ReviewRow.batch_id, ReviewRow.session_id),
                ),
            ),
        ),
        "tags": scope.reviews(
            select(ReviewTag.tag.label("tag"), func.count().label("count"))
            .join(ReviewRow, ReviewRow.id == ReviewTag.review_id)
            # only the reviews whose stored flag does not say "no tags" are looked up
            .where(
                *main_reviews("reviewer", cat.dialect),
                submitted,
                func.coalesce(ReviewRow.failed, true()),
            )
            .group_by(ReviewTag.tag)
        ),
    }
    if scope.batch_id is None:
        # items carry their session's version and start (migration 0012); the sessions of
        # reviews outside any batch are read for theirs
        out["sessions"] = _loose_sessions_query(scope, cat.dialect)
    return out


WHOLE: dict[str, frozenset[str]] = {
    "reviews": frozenset({"batch_id", "session_id", "coded", "packed", "status", "active",
                          "rubric_id"}),
    "items": frozenset({"item_id", "batch_id", "session_id"}),
    "sessions": frozenset({"session_id"}),
    "assignments": frozenset({"item_id"}),
}  # fmt: skip
"""Per read of :func:`reads`: its integer columns that are never NULL (see :func:`fetch`)."""

KEYS: dict[str, tuple[str, ...]] = {
    "reviews": ("reviewer",),
    "items": ("stratum", "version"),
    "assignments": ("reviewer",),
}
"""Per read of :func:`reads`: its text columns of few distinct values, moved once per group
of rows (see :func:`fetch`) and framed as categoricals."""


_PACK_LIMIT = 1 << 52
"""Packed codes stay below this: JSON numbers are exact doubles up to 2**53."""


def _radices(dims: Sequence[Option]) -> list[int] | None:
    """The radix of each small code packed into one integer — status (4), failed (2), then
    each dimension's option index + 1 (0: unset) — or None when they would not fit."""
    radices = [4, 2, *(len(d.values) + 1 for d in dims)]
    total = 1
    for r in radices:
        total *= r
    return radices if total < _PACK_LIMIT else None


def _small_columns(dims: Sequence[Option], status: ColumnElement[Any], cat: Catalogue) -> list[Any]:
    """batch_id, session_id and the small codes of a review: status, failed and one per
    dimension, packed into one integer column where they fit (moving one column of 200,000
    numbers costs a tenth of moving six); see :func:`unpack_reviews`.

    Column ``coded`` where every rubric's stored codes translate to ``dims``
    (:func:`_translations`): status + 4 × failed + 8 × the stored ``option_codes`` — or,
    for a review without them, 8 × −(1 + its codes packed as in ``packed``, from its JSON
    values). Else column ``packed``: status, failed and the option indexes of ``dims``,
    from the JSON values and the tags of every review.
    """
    columns = review_columns(dims, with_id=False)
    failed = cast(_failed(), Integer)
    radices = _radices(dims)
    if radices is None:
        return [*columns, status.label("status")]
    legacy: ColumnElement[Any] = literal_column("0")
    weight = 1
    for d, r in zip(dims, radices[2:], strict=True):
        legacy = legacy + weight * (func.coalesce(option_code(d), -1) + 1)
        weight *= r
    if _translations(dims, cat.rubrics, cat.dialect) is not None:
        codes = func.coalesce(ReviewRow.option_codes, -1 - legacy)
        coded = status + 4 * failed + 8 * codes
        return [columns[0], columns[1], coded.label("coded")]
    packed = status + 4 * failed + 8 * legacy
    return [columns[0], columns[1], packed.label("packed")]


def _failed() -> ColumnElement[bool]:
    """Whether a review has a failure tag: its stored flag, looked up in ``review_tags``
    only where there is none (COALESCE evaluates its second argument only where the first
    is NULL: a review stored before revision 0010 filled the flags in)."""
    return func.coalesce(ReviewRow.failed, exists().where(ReviewTag.review_id == ReviewRow.id))


Translation: TypeAlias = "dict[int, list[tuple[int, int, int, np.ndarray]]]"
"""Per rubric id: (position in dims, weight, radix, option index in dims by digit — NaN for
none) for each dimension of ``dims`` its stored codes hold."""


def _translations(
    dims: Sequence[Option], rubrics: dict[int, Rubric], dialect: str
) -> Translation | None:
    """How to read each rubric's stored codes as option indexes of ``dims``; None when a
    rubric has a dimension of a name in ``dims`` that its codes do not hold (a text
    dimension named like another rubric's choice): then only the values themselves tell."""
    import numpy as np

    out: Translation = {}
    by_name = {d.name: j for j, d in enumerate(dims)}
    for rubric_id, rubric in rubrics.items():
        if any(d.name in by_name and d.kind not in CODED for d in rubric.dimensions):
            return None
        parts = []
        weight = 1
        for d in coded_dimensions(rubric):
            r = radix(d)
            j = by_name.get(d.name)
            if j is not None:
                table = np.full(r, np.nan)
                for digit in range(1, r):
                    table[digit] = _index(dims[j], option_text(d, digit, dialect))
                parts.append((j, weight, r, table))
            weight *= r
        out[rubric_id] = parts
    return out


def _index(dim: Option, text: str | None) -> float:
    """The option index SQL gives ``text`` in ``dim`` (:func:`option_code`), NaN for none."""
    import numpy as np

    if dim.kind is DimensionKind.BOOLEAN:
        return {"1": 1.0, "true": 1.0, "0": 0.0, "false": 0.0}.get(text or "", np.nan)
    return float(dim.values.index(text)) if text in dim.values else np.nan


def unpack_reviews(df: pd.DataFrame, dims: Sequence[Option], cat: Catalogue) -> None:
    """Turn the ``coded`` or ``packed`` column of a reviews read back into status (int),
    failed (0/1) and one column per dimension (the option index, NaN when unset), in place."""
    import numpy as np

    if "coded" not in df.columns and "packed" not in df.columns:
        return
    radices = _radices(dims)
    assert radices is not None
    coded = "coded" in df.columns
    whole = df.pop("coded" if coded else "packed").to_numpy(dtype=np.int64)
    df["status"] = whole % 4
    df["failed"] = (whole // 4 % 2).astype(float)
    rest = whole // 8  # floor division: negative where the codes came from the values
    out = np.full((len(dims), len(rest)), np.nan)
    legacy = rest < 0 if coded else np.ones(len(rest), dtype=bool)
    if legacy.any():
        packed = np.where(legacy, -1 - rest, 0) if coded else rest
        for j, r in enumerate(radices[2:]):
            code = (packed % r).astype(float) - 1
            code[code < 0] = np.nan
            out[j, legacy] = code[legacy]
            packed = packed // r
    if coded:
        translations = _translations(dims, cat.rubrics, cat.dialect)
        assert translations is not None
        rubric_ids = df["rubric_id"].to_numpy(dtype=np.int64)
        for rubric_id in np.unique(rubric_ids[~legacy]).tolist():
            rows = (rubric_ids == rubric_id) & ~legacy
            codes = rest[rows]
            # a rubric stored after the catalogue was read: its reviews count as unset, as
            # its options are not among the dimensions
            for j, weight, r, table in translations.get(rubric_id, []):
                out[j, rows] = table[codes // weight % r]
    for j, d in enumerate(dims):
        df[d.column] = out[j]


def reviewed_sessions(scope: Scope) -> AnySelect:
    """Sessions of the submitted reviews in scope (one row per review)."""
    submitted = ReviewRow.status == "submitted"
    return scope.reviews(select(ReviewRow.session_id).where(*main_reviews("reviewer"), submitted))


def _loose_sessions_query(scope: Scope, dialect: str) -> AnySelect:
    """Version and day of the sessions reviewed outside any batch."""
    wanted = scope.reviews(
        select(ReviewRow.session_id).where(
            ReviewRow.batch_id.is_(None), *main_reviews("reviewer", dialect)
        )
    )
    chosen: ColumnElement[bool] = SessionRow.id.in_(wanted)
    if dialect == "postgresql":
        # id = ANY(ARRAY(…)): PostgreSQL then walks the primary key in id order once; with
        # IN it guessed 200 sessions and looked each one up (a million: 4× slower).
        chosen = SessionRow.id == any_(func.array(wanted.scalar_subquery()))
    return select(
        SessionRow.id.label("session_id"),
        SessionRow.agent_version.label("version"),
        _days(SessionRow.started_at, dialect).label("day"),
    ).where(chosen)


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


@dataclass(frozen=True)
class JudgeScores:
    """What :func:`fetch_judge_scores` fetched: the judges' names, their scores one column
    each per session (None: no judge), and whether the sessions are a sample."""

    names: list[str]
    wide: Fetched | None
    sampled: bool


def fetch_judge_scores(
    ws: Workspace, scope: Scope, reviewed: np.ndarray | None = None
) -> JudgeScores:
    """Judge scores of (a uniform sample of at most about :data:`JUDGE_SAMPLE` of) the
    sessions reviewed in ``scope``, one row per session (see :func:`judge_frame`).

    ``reviewed``: the session of each submitted review in ``scope`` when the reviews read
    has them already (:func:`submitted_sessions`) — then neither counting them nor choosing
    the sample reads the reviews again.
    """
    with ws.read() as s:
        names = _judge_names(s)
        if not names:
            return JudgeScores(names, None, False)
        dialect = s.connection().dialect.name
        chosen: ColumnElement[bool]
        if reviewed is not None and dialect in ("sqlite", "postgresql"):
            # the same sample as the SQL below: these ids are far from overflowing the hash
            sampled = len(reviewed) > JUDGE_SAMPLE
            if sampled:
                bound = _HASH_MODULUS * JUDGE_SAMPLE // len(reviewed)
                reviewed = reviewed[(reviewed * _HASH_MULTIPLIER) % _HASH_MODULUS < bound]
            ids = reviewed.tolist()
            if dialect == "sqlite":
                listed = func.json_each(bindparam("ids", _json_ids(ids))).table_valued("value")
                chosen = SessionScore.session_id.in_(select(listed.c.value))
            else:
                chosen = SessionScore.session_id == any_(
                    bindparam("ids", ids, type_=ARRAY(BigInteger))
                )
        else:
            query = reviewed_sessions(scope)
            # reviews, not distinct sessions: as good a bound and no sort to count it
            count = s.scalar(select(func.count()).select_from(query.subquery()))
            sampled = int(count or 0) > JUDGE_SAMPLE
            if sampled:
                bucket = (ReviewRow.session_id * _HASH_MULTIPLIER) % _HASH_MODULUS
                query = query.where(bucket < _HASH_MODULUS * JUDGE_SAMPLE // int(count or 1))
            chosen = SessionScore.session_id.in_(query)
        columns = [
            func.max(case((SessionScore.name == n, SessionScore.value))).label(f"j{i}")
            for i, n in enumerate(names)
        ]
        wide = fetch(
            s,
            select(SessionScore.session_id.label("session_id"), *columns)
            .where(chosen)
            .group_by(SessionScore.session_id),
            whole={"session_id"},
        )
    return JudgeScores(names, wide, sampled)


def _json_ids(ids: list[int]) -> str:
    import orjson

    text: str = orjson.dumps(ids).decode()
    return text


_HASHED_BELOW = (1 << 63) // _HASH_MULTIPLIER
"""Session ids below this hash without overflowing 64 bits (as SQL computes the hash)."""


def submitted_sessions(fetched: Fetched) -> np.ndarray | None:
    """The session of each submitted review of a reviews read (:func:`reads`), from what it
    fetched; None when it came as rows or holds a session id the hash would overflow on (or
    a negative one, which SQL's remainder would hash otherwise)."""
    import numpy as np

    if fetched.groups is None:
        return None

    def column(name: str) -> np.ndarray:
        parts = [np.asarray(p, dtype=np.int64) for p in _parts(fetched, name)]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    sessions = column("session_id")
    if "status" in fetched.names:
        submitted = column("status") == STATUS_CODES["submitted"]
    else:  # status is the lowest digit of the packed codes (see _small_columns)
        whole = column("coded" if "coded" in fetched.names else "packed")
        submitted = whole % 4 == STATUS_CODES["submitted"]
    if len(sessions) and not 0 <= int(sessions.min()) <= int(sessions.max()) < _HASHED_BELOW:
        return None
    chosen: np.ndarray = sessions[submitted]
    return chosen


def judge_frame(fetched: JudgeScores) -> tuple[pd.DataFrame, int | None]:
    """The judge scores of :func:`fetch_judge_scores` in long form: session_id, judge,
    score; and the number of sessions in the sample when it is one (None: every reviewed
    session)."""
    import pandas as pd

    empty = pd.DataFrame({"session_id": [], "judge": [], "score": []})
    if fetched.wide is None:
        return empty, None
    names = fetched.names
    wide = to_frame(fetched.wide)
    long = wide.melt(id_vars="session_id", var_name="judge", value_name="score")
    long["judge"] = long["judge"].map({f"j{i}": n for i, n in enumerate(names)})
    long = long[long["score"].notna()].reset_index(drop=True)
    if len(long):
        long["session_id"] = long["session_id"].astype("int64")
        long["score"] = pd.to_numeric(long["score"], errors="coerce").astype(float)
    return (long if len(long) else empty), (len(wide) if fetched.sampled else None)


def judge_scores(ws: Workspace, scope: Scope) -> tuple[pd.DataFrame, int | None]:
    """:func:`judge_frame` of :func:`fetch_judge_scores`."""
    return judge_frame(fetch_judge_scores(ws, scope))


def session_keys(ws: Workspace, ids: Sequence[int]) -> dict[int, str]:
    """The key of each session id."""
    with ws.read() as s:
        found = s.execute(
            select(SessionRow.id, SessionRow.session_key).where(SessionRow.id.in_(list(ids)))
        )
        return {int(i): str(k) for i, k in found}


def rubric_definitions(ws: Workspace) -> list[Rubric]:
    with ws.read() as s:
        return [Rubric.model_validate(d) for d in s.scalars(select(RubricRow.definition))]


def matching_session_ids(
    ws: Workspace,
    batch: str | None,
    where: str | None,
    kind: str,
    value: str | None,
    *,
    of_batch: str | None = None,
    gold_stratum: str = "",
    none_label: str = "",
    option: Option | None = None,
) -> list[int]:
    """Ids of the sessions behind one bar of a chart, in id order, within ``batch`` and
    ``where`` (see :class:`reviewer.services.analytics.Selection` for the kinds; ``option``:
    the dimension an ``option`` bar counts, ``value`` its option)."""
    with ws.read() as s:
        scope = resolve(s, batch, where)
        if kind in ("reviewer", "batch", "stratum"):
            q = select(BatchItemRow.session_id).distinct()
            if kind == "reviewer":
                q = q.join(AssignmentRow, AssignmentRow.item_id == BatchItemRow.id).where(
                    AssignmentRow.reviewer == value
                )
            else:
                name = value if kind == "batch" else of_batch
                q = q.join(BatchRow, BatchRow.id == BatchItemRow.batch_id).where(
                    BatchRow.name == name
                )
            if kind == "stratum":
                if value == gold_stratum:
                    q = q.where(BatchItemRow.is_gold.is_(True))
                elif value in (None, none_label):
                    q = q.where(BatchItemRow.stratum.is_(None), BatchItemRow.is_gold.is_(False))
                else:
                    q = q.where(BatchItemRow.stratum == value)
            return list(s.scalars(scope.items(q).order_by(BatchItemRow.session_id)))
        q = (
            select(ReviewRow.session_id)
            .distinct()
            .where(*main_reviews("reviewer"), ReviewRow.status == "submitted")
        )
        if kind == "tag":
            q = q.join(ReviewTag, ReviewTag.review_id == ReviewRow.id).where(ReviewTag.tag == value)
        elif kind == "failed":
            q = q.where(exists().where(ReviewTag.review_id == ReviewRow.id))
        elif kind == "version":
            q = q.join(SessionRow, SessionRow.id == ReviewRow.session_id).where(
                SessionRow.agent_version.is_(None)
                if value in (None, none_label)
                else SessionRow.agent_version == value
            )
        elif kind == "option":
            if option is None or value not in option.values:
                return []
            q = q.where(option_code(option) == option.values.index(value))
        return list(s.scalars(scope.reviews(q).order_by(ReviewRow.session_id)))


def preference_rows(ws: Workspace, batch: str | None = None) -> list[tuple[Any, ...]]:
    """Every submitted preference (of ``batch`` only, when given), in item order: item id,
    reviewer, winner, which side is on the left, batch name and batch spec."""
    q = (
        select(
            PreferenceReviewRow.item_id,
            PreferenceReviewRow.reviewer,
            PreferenceReviewRow.winner,
            BatchItemRow.pair_left,
            BatchRow.name,
            BatchRow.spec,
        )
        .join(BatchItemRow, BatchItemRow.id == PreferenceReviewRow.item_id)
        .join(BatchRow, BatchRow.id == BatchItemRow.batch_id)
        .where(PreferenceReviewRow.status == "submitted", PreferenceReviewRow.winner.is_not(None))
        .order_by(PreferenceReviewRow.item_id, PreferenceReviewRow.reviewer)
    )
    if batch is not None:
        q = q.where(BatchRow.name == batch)
    with ws.read() as s:
        return [tuple(r) for r in s.execute(q)]


def has_pair_batch(ws: Workspace, batch: str | None = None) -> bool:
    """Whether the scope (``batch``, or every batch) holds a pairwise batch."""
    q = select(BatchRow.spec)
    if batch is not None:
        q = q.where(BatchRow.name == batch)
    with ws.read() as s:
        return any((spec or {}).get("pairs") for spec in s.scalars(q))
