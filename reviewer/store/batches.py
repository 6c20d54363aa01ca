"""Batch repository: batches, their items in order and who reviews each; the populations
batches are drawn from."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    exists,
    func,
    insert,
    null,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import aliased

from reviewer.domain.batch import Batch, BatchItem, BatchSummary, PairSide, SamplingSpec
from reviewer.domain.filters import FilterSpec
from reviewer.store.filters import apply_filter
from reviewer.store.tables import (
    POPULATION_BLOCK,
    AssignmentRow,
    BatchItemRow,
    BatchRow,
    PopulationCount,
    ReviewRow,
    RubricRow,
    SessionRow,
    SessionScore,
)

STRATUM_COLUMNS: dict[str, Any] = {
    "agent": SessionRow.agent_name,
    "version": SessionRow.agent_version,
    "model": SessionRow.model,
    "tool_error": SessionRow.has_tool_error,
    "escalated": SessionRow.escalated,
}
"""Fields a batch can be stratified by, and their columns."""

PAIR_COLUMNS: dict[str, Any] = {
    "agent": SessionRow.agent_name,
    "version": SessionRow.agent_version,
    "model": SessionRow.model,
    "first_user_text": SessionRow.first_user_text,
}
"""Fields a pairwise batch can pair on or compare that are read from indexed columns."""


class BatchNameTaken(Exception):
    """A batch of that name exists already (the database refused a second one)."""


@dataclass(frozen=True)
class BatchRef:
    """What use cases need to know of a stored batch to work in it."""

    id: int
    name: str
    blind: bool
    rubric_id: int
    spec: dict[str, Any]

    @property
    def pairs(self) -> bool:
        """Whether the batch holds pairs of sessions."""
        return bool(self.spec.get("pairs"))


def batch_row(s: OrmSession, name: str) -> BatchRow | None:
    """The batch named ``name`` (None when there is none): the one lookup by name."""
    return s.scalar(select(BatchRow).where(BatchRow.name == name))


def find_batch(s: OrmSession, name: str) -> BatchRef | None:
    row = batch_row(s, name)
    if row is None:
        return None
    return BatchRef(row.id, row.name, row.blind, row.rubric_id, row.spec)


def batch_id(s: OrmSession, name: str) -> int | None:
    return s.scalar(select(BatchRow.id).where(BatchRow.name == name))


def batch_names(s: OrmSession, limit: int) -> list[str]:
    """The first ``limit`` batch names, in name order."""
    return list(s.scalars(select(BatchRow.name).order_by(BatchRow.name).limit(limit)))


def _eligible(
    q: Select[Any], where: FilterSpec, include_reviewed: bool, within: tuple[Any, Any] | None = None
) -> Select[Any]:
    """``q`` narrowed to the sessions a batch may draw: latest revisions matching the filter,
    without a submitted review unless ``include_reviewed``. ``within``: the range of session
    ids ``q`` reads, told to the look-up of reviews too (the planner does not carry a range
    across the join)."""
    q = apply_filter(q, where)
    if not include_reviewed:
        reviewed = exists().where(
            ReviewRow.session_id == SessionRow.id, ReviewRow.status == "submitted"
        )
        if within is not None:
            reviewed = reviewed.where(ReviewRow.session_id.between(*within)).correlate_except(
                ReviewRow
            )
        q = q.where(~reviewed)
    return q


def population_rows(
    s: OrmSession,
    where: FilterSpec,
    stratify_by: list[str],
    *,
    low_judge: bool,
    include_reviewed: bool,
) -> list[Any]:
    """The sessions a batch may draw, in id order, each as (id, user feedback, escalated,
    tool error, lowest judge score (None unless ``low_judge``), *stratum values)."""
    cols = [STRATUM_COLUMNS[f] for f in stratify_by]
    judge = (
        select(SessionScore.session_id, func.min(SessionScore.value).label("low"))
        .group_by(SessionScore.session_id)
        .subquery()
    )
    q = select(
        SessionRow.id,
        SessionRow.user_feedback,
        SessionRow.escalated,
        SessionRow.has_tool_error,
        judge.c.low if low_judge else null(),
        *cols,
    )
    if low_judge:  # each session's lowest judge score
        q = q.outerjoin(judge, judge.c.session_id == SessionRow.id)
    q = _eligible(q, where, include_reviewed).order_by(SessionRow.id)
    return list(s.connection().execute(q).all())


def strata_counts(
    s: OrmSession, where: FilterSpec, stratify_by: list[str], *, include_reviewed: bool
) -> list[Any]:
    """(sessions, *stratum values) of each stratum of the sessions a batch may draw,
    counted in the database."""
    cols = [STRATUM_COLUMNS[f] for f in stratify_by]
    q = _eligible(select(func.count(SessionRow.id), *cols), where, include_reviewed)
    if cols:
        q = q.group_by(*cols)
    return list(s.connection().execute(q).all())


def population_chunk(s: OrmSession) -> int:
    """Width, in session ids, of the id ranges :func:`strata_chunk_counts` counts by: a power
    of two that cuts the id space into about 16,000 ranges (at least 16 ids each).

    Call it first in a unit of work: on PostgreSQL the statements after it then see one
    snapshot (they count, then look up by position)."""
    _stable_read(s)
    top = int(s.scalar(select(func.max(SessionRow.id))) or 0)
    width = 16
    while width * 16_384 < top:
        width *= 2
    return width


def _stable_read(s: OrmSession) -> None:
    """On PostgreSQL: the statements that follow see one snapshot and may hash in memory
    what they group."""
    if s.get_bind().dialect.name == "postgresql":
        s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        s.execute(text("SET LOCAL work_mem = '64MB'"))


def strata_chunk_counts(
    s: OrmSession, where: FilterSpec, stratify_by: list[str], *, include_reviewed: bool, width: int
) -> list[tuple[list[int], list[int], tuple[Any, ...]]]:
    """For each stratum of the sessions a batch may draw: (id ranges, sessions in each,
    stratum values), counted in the database per range of ``width`` ids (range r: ids
    r·width … r·width + width − 1), ranges in no particular order."""
    cols = [STRATUM_COLUMNS[f] for f in stratify_by]
    chunk = (SessionRow.id // width).label("chunk")
    counted = (
        _eligible(
            select(func.count(SessionRow.id).label("n"), chunk, *cols), where, include_reviewed
        )
        .group_by(chunk, *cols)
        .subquery()
    )
    return _per_stratum(s, counted, [c.key for c in cols])


KEPT_WIDTH = POPULATION_BLOCK
"""Width, in session ids, of the ranges :func:`kept_chunk_counts` counts by."""


def kept_chunk_counts(
    s: OrmSession, stratify_by: list[str], *, include_reviewed: bool
) -> list[tuple[list[int], list[int], tuple[Any, ...]]]:
    """:func:`strata_chunk_counts` of a batch without ``--where``, per range of
    :data:`KEPT_WIDTH` ids, read from the counts kept on write (``population_counts``)
    instead of counted over the sessions. Call :func:`population_chunk` first (one snapshot)."""
    keys = [STRATUM_COLUMNS[f].key for f in stratify_by]
    cols = [getattr(PopulationCount, k) for k in keys]
    n = func.sum(
        PopulationCount.latest
        if include_reviewed
        else PopulationCount.latest - PopulationCount.reviewed
    )
    counted = (
        select(n.label("n"), PopulationCount.block.label("chunk"), *cols)
        .group_by(PopulationCount.block, *cols)
        .having(n > 0)
        .subquery()
    )
    return _per_stratum(s, counted, keys)


def _per_stratum(
    s: OrmSession, counted: Any, keys: list[str]
) -> list[tuple[list[int], list[int], tuple[Any, ...]]]:
    """The (chunk, n, *stratum values) rows of ``counted`` gathered per stratum: (chunks,
    counts, values). They arrive as two JSON arrays (one row per stratum, not tens of
    thousands of rows: building a row costs more than counting it)."""
    import orjson

    values = [counted.c[k] for k in keys]
    arrays: list[ColumnElement[Any]]
    if s.get_bind().dialect.name == "postgresql":
        arrays = [
            cast(func.json_agg(counted.c.chunk), Text),
            cast(func.json_agg(counted.c.n), Text),
        ]
    else:
        arrays = [func.json_group_array(counted.c.chunk), func.json_group_array(counted.c.n)]
    q = select(*arrays, *values)
    if values:
        q = q.group_by(*values)
    return [
        (orjson.loads(chunks), orjson.loads(counts), tuple(key))
        for chunks, counts, *key in s.connection().execute(q)
        if chunks is not None
    ]


def ids_at_positions(
    s: OrmSession,
    where: FilterSpec,
    stratify_by: list[str],
    *,
    include_reviewed: bool,
    width: int,
    places: list[tuple[int, int]],
) -> list[Any]:
    """(id, id range, offset, *stratum values) of the sessions a batch may draw at the
    ``places`` (id range as :func:`strata_chunk_counts` cuts them, offset): the offset of
    a session is its place in id order among those of its stratum in its range. A place
    can match one session of each stratum."""
    cols = [STRATUM_COLUMNS[f] for f in stratify_by]
    chunk = SessionRow.id // width
    spans: list[list[int]] = []
    for c in sorted({c for c, _ in places}):  # neighbouring ranges as one span of ids
        if spans and spans[-1][1] == c:
            spans[-1][1] = c + 1
        else:
            spans.append([c, c + 1])
    offset = func.row_number().over(partition_by=[chunk, *cols], order_by=SessionRow.id) - 1
    # offset < width, so chunk·width + offset names one place
    keys = sorted({c * width + o for c, o in places})
    columns = [SessionRow.id, chunk.label("chunk"), offset.label("offset"), *cols]
    if s.get_bind().dialect.name == "postgresql":
        # the spans as a table of (lo, hi): a thousand ranges planned in a millisecond (an
        # OR of as many: 10-20 ms, which grows with the indexes considered). Each span's
        # sessions are numbered in a LATERAL subquery of their own — a span holds whole id
        # ranges, so the offsets are those over all sessions — which leaves the planner one
        # way: an index range scan per span. Joined to the spans instead, at 10M sessions
        # it at times chose to test every session against every span (minutes).
        ranges = (
            func.unnest(
                bindparam("span_lo", [lo * width for lo, _ in spans], type_=ARRAY(Integer)),
                bindparam("span_hi", [hi * width - 1 for _, hi in spans], type_=ARRAY(Integer)),
            )
            .table_valued("lo", "hi")
            .render_derived()
        )
        span = (ranges.c.lo, ranges.c.hi)
        q = select(*columns).where(SessionRow.id.between(*span))
        per_span = _eligible(q, where, include_reviewed, span).lateral()
        picked = (
            select(*per_span.c)
            .select_from(ranges)
            .join(per_span, true())
            .where((per_span.c.chunk * width + per_span.c.offset).in_(keys))
        )
        return list(s.connection().execute(picked).all())
    # SQLite nests an OR of n terms n deep and refuses beyond 1,000: spans a few hundred at a
    # time there (a range lies in one statement whole, so the offsets are the same).
    found: list[Any] = []
    for at in range(0, len(spans), SQLITE_SPANS):
        group = spans[at : at + SQLITE_SPANS]
        inside = or_(*(SessionRow.id.between(lo * width, hi * width - 1) for lo, hi in group))
        first, last = group[0][0] * width, group[-1][1] * width
        wanted = keys[bisect_left(keys, first) : bisect_left(keys, last)]
        sub = _eligible(select(*columns), where, include_reviewed).where(inside).subquery()
        picked = select(*sub.c).where((sub.c.chunk * width + sub.c.offset).in_(wanted))
        found += s.connection().execute(picked).all()
    return found


SQLITE_SPANS = 400
"""Id spans per look-up statement on SQLite (see :func:`ids_at_positions`)."""


def pair_candidate_rows(s: OrmSession, where: FilterSpec, fields: list[str]) -> list[Any]:
    """(id, *values of ``fields``, names of :data:`PAIR_COLUMNS`) of the latest revision of
    every session matching ``where``, in id order."""
    cols = [PAIR_COLUMNS[n] for n in fields]
    q = apply_filter(select(SessionRow.id, *cols), where).order_by(SessionRow.id)
    return list(s.connection().execute(q).all())


def gold_session_ids(s: OrmSession) -> list[int]:
    """Sessions with reference labels (a submitted review with role gold), in id order."""
    return list(
        s.scalars(
            select(ReviewRow.session_id)
            .where(ReviewRow.role == "gold", ReviewRow.status == "submitted")
            .distinct()
            .order_by(ReviewRow.session_id)
        )
    )


def add_batch(
    s: OrmSession,
    *,
    name: str,
    spec: dict[str, Any],
    rubric_id: int,
    blind: bool,
    created_at: datetime,
    population: int,
    strata: dict[str, Any],
    items: list[dict[str, Any]],
    reviewers: list[tuple[int, str]],
) -> int:
    """Store a batch with its ``items`` (``batch_items`` columns, each with its
    ``position``) and ``reviewers`` (position, reviewer); return its id.
    :class:`BatchNameTaken` when a batch of that name exists."""
    row = BatchRow(
        name=name,
        spec=spec,
        rubric_id=rubric_id,
        blind=blind,
        created_at=created_at,
        population=population,
        strata=strata,
    )
    s.add(row)
    try:
        s.flush()
    except IntegrityError:
        raise BatchNameTaken(name) from None
    s.execute(insert(BatchItemRow), [{"batch_id": row.id, **item} for item in items])
    positions = select(BatchItemRow.position, BatchItemRow.id).where(
        BatchItemRow.batch_id == row.id
    )
    item_ids = {pos: item_id for pos, item_id in s.execute(positions)}
    who = [{"item_id": item_ids[pos], "reviewer": r} for pos, r in reviewers]
    if who:
        s.execute(insert(AssignmentRow), who)
    return row.id


def load_batch(s: OrmSession, name: str) -> Batch | None:
    """A stored batch with its items in order and who reviews each."""
    row = batch_row(s, name)
    if row is None:
        return None
    right = aliased(SessionRow)
    items = s.execute(
        select(
            BatchItemRow.id, BatchItemRow.position, SessionRow.session_key,
            SessionRow.revision, BatchItemRow.stratum, BatchItemRow.inclusion_probability,
            BatchItemRow.is_gold, BatchItemRow.pair_left, BatchItemRow.pair_key,
            right.session_key.label("right_key"), right.revision.label("right_revision"),
        )
        .join(SessionRow, SessionRow.id == BatchItemRow.session_id)
        .outerjoin(right, right.id == BatchItemRow.pair_session_id)
        .where(BatchItemRow.batch_id == row.id)
        .order_by(BatchItemRow.position)
    ).all()  # fmt: skip
    who: dict[int, list[str]] = {}
    for item_id, reviewer in s.execute(
        select(AssignmentRow.item_id, AssignmentRow.reviewer)
        .join(BatchItemRow, BatchItemRow.id == AssignmentRow.item_id)
        .where(BatchItemRow.batch_id == row.id)
        .order_by(AssignmentRow.reviewer)
    ):
        who.setdefault(item_id, []).append(reviewer)
    spec = SamplingSpec.model_validate(
        {k: v for k, v in row.spec.items() if k in SamplingSpec.model_fields}
    )
    return Batch(
        name=row.name,
        spec=spec,
        created_at=row.created_at,
        app_version=row.spec.get("app_version"),
        population=row.population,
        strata=row.strata or {},
        items=[
            BatchItem(
                position=i.position,
                session_key=i.session_key,
                session_revision=i.revision,
                stratum=i.stratum,
                inclusion_probability=i.inclusion_probability,
                is_gold=i.is_gold,
                reviewers=who.get(i.id, []),
                pair=None
                if i.pair_left is None
                else PairSide(
                    session_key=i.right_key,
                    session_revision=i.right_revision,
                    left=i.pair_left,
                    task_key=i.pair_key,
                ),
            )
            for i in items
        ],
    )


def batch_summaries(s: OrmSession) -> list[BatchSummary]:
    """Every batch of the workspace, oldest first."""
    rows = s.execute(
        select(
            BatchRow.id, BatchRow.name, BatchRow.created_at, BatchRow.population,
            BatchRow.blind, RubricRow.name.label("rubric_name"),
            RubricRow.version.label("rubric_version"),
        )
        .join(RubricRow, RubricRow.id == BatchRow.rubric_id)
        .order_by(BatchRow.created_at, BatchRow.id)
    ).all()  # fmt: skip
    counts = {
        batch_id: n
        for batch_id, n in s.execute(
            select(BatchItemRow.batch_id, func.count()).group_by(BatchItemRow.batch_id)
        )
    }
    reviewers: dict[int, list[str]] = {}
    for batch_id, reviewer in s.execute(
        select(BatchItemRow.batch_id, AssignmentRow.reviewer)
        .join(AssignmentRow, AssignmentRow.item_id == BatchItemRow.id)
        .distinct()
        .order_by(BatchItemRow.batch_id, AssignmentRow.reviewer)
    ):
        reviewers.setdefault(batch_id, []).append(reviewer)
    return [
        BatchSummary(
            name=r.name,
            created_at=r.created_at,
            population=r.population,
            items=counts.get(r.id, 0),
            reviewers=reviewers.get(r.id, []),
            rubric_name=r.rubric_name,
            rubric_version=r.rubric_version,
            blind=r.blind,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Assigned:
    """One item of a batch as assigned to one reviewer."""

    reviewer: str
    position: int
    session_id: int
    pair_session_id: int | None
    pair_left: str | None


def assignments(s: OrmSession, batch_id: int | None) -> list[Assigned]:
    """Every reviewer's items of a batch, by reviewer then in batch order."""
    rows = s.execute(
        select(
            AssignmentRow.reviewer, BatchItemRow.position, BatchItemRow.session_id,
            BatchItemRow.pair_session_id, BatchItemRow.pair_left,
        )
        .join(BatchItemRow, BatchItemRow.id == AssignmentRow.item_id)
        .where(BatchItemRow.batch_id == batch_id)
        .order_by(AssignmentRow.reviewer, BatchItemRow.position)
    )  # fmt: skip
    return [Assigned(*r) for r in rows]
