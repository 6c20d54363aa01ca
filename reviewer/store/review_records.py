"""Reading the reviews an export selects: counts, records in chunks, step labels, contents.

Records are laid out as :class:`~reviewer.domain.review_record.ReviewRecord`: each SQL
column is labelled with the field it fills and put in the place the record gives it, so
the layout is stated once. Everything is read in one read transaction (a consistent
snapshot), ordered by session id, revision, reviewer and review uid.

Rows are fetched from the driver's cursor directly: SQLAlchemy's per-row processing is
skipped (the shaper reads SQLite's text times and JSON text, or PostgreSQL's datetimes and
parsed JSON, as they come). On SQLite, table exports may read records as lines instead
(:mod:`reviewer.store.record_lines`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, String, Text, cast, distinct, func, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.filters import FilterSpec
from reviewer.domain.review_record import RECORD, RECORD_KINDS, RECORD_TIMES
from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Session
from reviewer.store.content import content_json, decode_content
from reviewer.store.filters import apply_filter
from reviewer.store.record_lines import LineChunk, LineReader, PlainReadNeeded
from reviewer.store.reviews import live_review
from reviewer.store.rubrics import get_rubric
from reviewer.store.tables import BatchRow, ReviewRow, SessionContent, SessionRow
from reviewer.store.workspace import Workspace

__all__ = [
    "LineChunk",
    "NoSuchBatch",
    "PlainReadNeeded",
    "ReviewRecords",
    "Selection",
    "StepRecord",
    "load_sessions",
    "reading",
    "record_columns",
    "session_contents",
]

FETCH = 10_000
"""Records fetched per chunk, unless the reader is told otherwise."""


class NoSuchBatch(LookupError):
    """The selection names a batch the workspace does not have."""


@dataclass(frozen=True)
class Selection:
    """Which reviews: only submitted live ones or all, of one batch or any, whose session
    revision passes the filter."""

    submitted_only: bool
    batch: str | None
    spec: FilterSpec


class StepRecord(NamedTuple):
    """A review's step labels, as the step exports read them."""

    uid: str
    reviewer: str
    session_db_id: int
    revision: int
    rubric_id: int
    steps: Any
    """JSON (as text or parsed): step index (as text) → stored step label."""


def _when(col: Any, iso: bool) -> Any:
    if not iso:
        return col
    # SQLite keeps UTC as "YYYY-MM-DD HH:MM:SS.ffffff": make it ISO-8601 in SQL.
    return func.replace(type_coerce(col, String), " ", "T", type_=String) + "Z"


def record_columns(*, sqlite: bool, iso: bool = True) -> tuple[Any, ...]:
    """The SQL expressions of the record's fields, labelled with their names, in the
    record's order. On SQLite, times come as ISO-8601 text (``iso``) or as stored
    (``"YYYY-MM-DD HH:MM:SS.ffffff"``, UTC); JSON comes as text everywhere (psycopg would
    parse it; the shaper caches by the text)."""
    iso = sqlite and iso
    by_field: dict[str, Any] = {
        "uid": ReviewRow.uid,
        "session_key": SessionRow.session_key,
        "revision": SessionRow.revision,
        "batch_id": ReviewRow.batch_id,
        "reviewer": ReviewRow.reviewer,
        "role": ReviewRow.role,
        "status": ReviewRow.status,
        "status_reason": ReviewRow.status_reason,
        "rubric_id": ReviewRow.rubric_id,
        "values": ReviewRow.values if sqlite else cast(ReviewRow.values, Text),
        "details": ReviewRow.details if sqlite else cast(ReviewRow.details, Text),
        "failure_step": ReviewRow.failure_step,
        "started_at": _when(ReviewRow.started_at, iso),
        "submitted_at": _when(ReviewRow.submitted_at, iso),
        "updated_at": _when(ReviewRow.updated_at, iso),
        "active_seconds": ReviewRow.active_seconds,
        "simulated": ReviewRow.simulated,
        "origin": ReviewRow.origin,
        "conflict_of": ReviewRow.conflict_of,
        "agent_name": SessionRow.agent_name,
        "agent_version": SessionRow.agent_version,
        "model": SessionRow.model,
        "session_started_at": _when(SessionRow.started_at, iso),
        "source_format": SessionRow.source_format,
        "session_db_id": SessionRow.id,
    }
    if set(by_field) != set(RECORD):
        raise AssertionError(f"record columns differ: {sorted(set(by_field) ^ set(RECORD))}")
    return tuple(by_field[name].label(name) for name in RECORD)


_ORDER = (SessionRow.session_key, SessionRow.revision, ReviewRow.reviewer, ReviewRow.uid)
"""The order reviews are exported in (uids are unique: one order, whatever the plan)."""


@contextmanager
def reading(ws: Workspace, selection: Selection) -> Iterator[ReviewRecords]:
    """The selected reviews, read in one read transaction. Raises :class:`NoSuchBatch`."""
    with ws.read() as s:
        batch_id = None
        if selection.batch is not None:
            batch_id = s.scalar(select(BatchRow.id).where(BatchRow.name == selection.batch))
            if batch_id is None:
                raise NoSuchBatch(selection.batch)
        yield ReviewRecords(s, selection, batch_id)


class ReviewRecords:
    """The reviews a :class:`Selection` lets through, in one read transaction."""

    def __init__(self, s: OrmSession, selection: Selection, batch_id: int | None) -> None:
        self.session = s
        self.selection = selection
        self.batch_id = batch_id
        self.conn: Connection = s.connection()
        self.sqlite = self.conn.dialect.name == "sqlite"

    def _narrow(self, q: Any) -> Select[Any]:
        """``q`` over reviews joined to their sessions, narrowed to the selection."""
        q = q.select_from(ReviewRow).join(SessionRow, SessionRow.id == ReviewRow.session_id)
        if self.selection.submitted_only:
            q = q.where(ReviewRow.status == "submitted", live_review(scan=True))
        if self.batch_id is not None:
            q = q.where(ReviewRow.batch_id == self.batch_id)
        # Reviews keep the revision they were made on: the filter applies to that revision.
        return apply_filter(q, self.selection.spec, latest_only=False)

    def per_rubric(self) -> dict[int, int]:
        """How many reviews were made with each rubric version (by rubric id)."""
        q = self._narrow(select(ReviewRow.rubric_id, func.count())).group_by(ReviewRow.rubric_id)
        return {rid: n for rid, n in self.conn.execute(q).all()}

    def rubric(self, rubric_id: int) -> Rubric:
        return get_rubric(self.session, rubric_id)

    def session_count(self) -> int:
        """How many session revisions the selected reviews are about."""
        q = self._narrow(select(func.count(distinct(ReviewRow.session_id))))
        return int(self.conn.execute(q).scalar() or 0)

    def batch_names(self) -> dict[int, str]:
        return {i: n for i, n in self.conn.execute(select(BatchRow.id, BatchRow.name)).all()}

    def records(self, *, fetch: int = FETCH) -> Generator[list[tuple[Any, ...]]]:
        """The records (plain DBAPI tuples laid out as ``ReviewRecord``), in chunks of
        ``fetch``; on SQLite, times come as ISO-8601 text."""
        query = self._narrow(select(*record_columns(sqlite=self.sqlite))).order_by(*_ORDER)
        if not self.sqlite:
            result = self.conn.execution_options(yield_per=fetch).execute(query)
            try:
                for part in result.partitions(fetch):
                    yield [tuple(r) for r in part]
            finally:
                result.close()
            return
        result = self.conn.execute(query)  # no stream_results: it would buffer rows ahead
        try:
            cursor = result.cursor
            while chunk := cursor.fetchmany(fetch):
                yield list(chunk)
        finally:
            result.close()

    def record_lines(self, types: dict[str, Any], *, fetch: int = FETCH) -> Generator[LineChunk]:
        """SQLite: the records as :class:`LineChunk` s of ``fetch`` records, whose
        ``table()`` is an Arrow table of the records (``types``: the Arrow type of each
        field) or raises :class:`PlainReadNeeded` for records that cannot be read that way
        exactly. Each chunk counts the sessions whose first record it holds.

        Only the ids go through SQLite's sort, so the first chunk comes at once and SQLite
        makes each chunk's lines while the chunk before is shaped and written. Parsing is
        left to the consumer: SQLite keeps this thread busy enough.
        """
        reader = LineReader(
            [c.element for c in record_columns(sqlite=True, iso=False)],
            RECORD,
            RECORD_KINDS,
            types,
            source=lambda q, ids: (
                q.select_from(ids)
                .join(ReviewRow, ReviewRow.id == ids.c.value)
                .join(SessionRow, SessionRow.id == ReviewRow.session_id)
            ),
            row_id=ReviewRow.id,
            times=RECORD_TIMES,
        )
        pairs: Any = select(ReviewRow.id, ReviewRow.session_id)
        result = self.conn.execute(self._narrow(pairs).order_by(*_ORDER))
        try:
            cursor = result.cursor
            read = reader.bind(self.conn)
            session = None
            while chunk := cursor.fetchmany(fetch):
                lines = read([r[0] for r in chunk])
                # A session's reviews come one after another: count where a new one starts.
                for _, sid in chunk:
                    if sid != session:
                        lines.sessions += 1
                        session = sid
                yield lines
        finally:
            result.close()

    def step_records(self) -> list[StepRecord]:
        """The selected reviews' step labels, in export order."""
        fields = {
            "uid": ReviewRow.uid,
            "reviewer": ReviewRow.reviewer,
            "session_db_id": ReviewRow.session_id,
            "revision": SessionRow.revision,
            "rubric_id": ReviewRow.rubric_id,
            "steps": ReviewRow.steps,
        }
        query = self._narrow(select(*(fields[n].label(n) for n in StepRecord._fields)))
        rows = self.conn.execute(query.order_by(*_ORDER)).all()
        return [StepRecord(*r) for r in rows]

    def contents(self, session_ids: list[int]) -> dict[int, bytes]:
        """The canonical JSON of these sessions (by session id)."""
        return session_contents(self.session, session_ids)


def session_contents(s: OrmSession, session_ids: list[int]) -> dict[int, bytes]:
    """The canonical JSON of these sessions (by session id)."""
    rows = s.execute(
        select(SessionContent.session_id, SessionContent.data).where(
            SessionContent.session_id.in_(session_ids)
        )
    )
    return {sid: content_json(data) for sid, data in rows}


def load_sessions(ws: Workspace, session_ids: set[int]) -> dict[int, Session]:
    """These sessions (by session id), read in a read transaction of their own."""
    with ws.read() as s:
        rows = s.execute(
            select(SessionContent.session_id, SessionContent.data).where(
                SessionContent.session_id.in_(sorted(session_ids))
            )
        )
        return {sid: decode_content(data) for sid, data in rows}
