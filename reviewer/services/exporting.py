"""Exporting labels: read the selected reviews in chunks, shape them, write the file.

The data goes to a temporary file beside the target and is renamed over it only once it is
complete, with its manifest (``<file>.manifest.json``); a failed or cancelled export leaves
the target as it was. Reviews are read in one read transaction (a consistent snapshot),
ordered by session id, revision, reviewer and review uid, so the same workspace and options
give byte-identical data.
"""

from __future__ import annotations

import gc
import hashlib
import io
import os
import queue
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence, Sized
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, TypeVar

import orjson
from sqlalchemy import Select, String, Text, cast, distinct, func, select, type_coerce
from sqlalchemy.engine import Connection

from reviewer import __version__
from reviewer.domain.rubric import Rubric
from reviewer.export.columns import Column, LabelPlan
from reviewer.export.consensus import SessionLabeller
from reviewer.export.formats import FORMAT_VERSION, ExportFormat, get_format, row_schema
from reviewer.export.manifest import (
    MANIFEST_SUFFIX,
    ColumnInfo,
    Counts,
    DataFile,
    ExportManifest,
    RubricVersion,
    Thresholds,
)
from reviewer.export.options import ExportOptions
from reviewer.export.rows import RECORD, RECORD_KINDS, R, ReviewShaper
from reviewer.export.tables import CsvWriter, JsonlWriter, ParquetWriter, TableWriter
from reviewer.services import partials
from reviewer.services.filters import FilterError, FilterSpec, apply_filter, parse_where
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.services.record_lines import LineReader, PlainReadNeeded
from reviewer.store.reviews import live_review
from reviewer.store.rubrics import get_rubric
from reviewer.store.tables import BatchRow, ReviewRow, SessionContent, SessionRow
from reviewer.store.workspace import Workspace

__all__ = ["ExportError", "ExportOptions", "export", "manifest_path_for"]

FETCH = 10_000
"""Reviews fetched (and rows written) per chunk."""
READ_AHEAD = True
LINES = True
"""Review tables from SQLite read records as lines and shape them column by column
(``record_lines``, ``export.columnar``); False: as plain rows, one tuple per review."""
SESSIONS_PER_CHUNK = 500
"""Sessions whose content is loaded at once for dataset and feedback formats."""

Record = tuple[Any, ...]
Chunk = TypeVar("Chunk", bound=Sized)
"""A chunk of records: a list of tuples, or lines (``record_lines.LineChunk``)."""


class ExportError(Exception):
    """The export cannot be made as asked; the message says why, for a person."""


def manifest_path_for(out: Path) -> Path:
    return out.with_name(out.name + MANIFEST_SUFFIX)


def _selection(options: ExportOptions, batch_id: int | None, spec: FilterSpec) -> Any:
    """Narrows a select over reviews (joined to their sessions) to what the options ask."""

    def narrow(q: Select[Any]) -> Select[Any]:
        q = q.select_from(ReviewRow).join(SessionRow, SessionRow.id == ReviewRow.session_id)
        if options.status == "submitted":
            q = q.where(ReviewRow.status == "submitted", live_review(scan=True))
        if batch_id is not None:
            q = q.where(ReviewRow.batch_id == batch_id)
        # Reviews keep the revision they were made on: the filter applies to that revision.
        return apply_filter(q, spec, latest_only=False)

    return narrow


_ORDER = (SessionRow.session_key, SessionRow.revision, ReviewRow.reviewer, ReviewRow.uid)
"""The order reviews are exported in (uids are unique: one order, whatever the plan)."""


def _record_fields(*, sqlite: bool, iso: bool = True) -> tuple[Any, ...]:
    """The review record fields (``rows.RECORD``) as SQL expressions. On SQLite, times come
    as ISO-8601 text (``iso``) or as stored (``"YYYY-MM-DD HH:MM:SS.ffffff"``, UTC)."""

    def when(col: Any) -> Any:
        if not sqlite or not iso:
            return col
        # SQLite keeps UTC as "YYYY-MM-DD HH:MM:SS.ffffff": make it ISO-8601 in SQL.
        return func.replace(type_coerce(col, String), " ", "T", type_=String) + "Z"

    def json_text(col: Any) -> Any:
        # JSON as text everywhere (psycopg would parse it): the shaper caches by the text.
        return col if sqlite else cast(col, Text)

    return (
        ReviewRow.uid,
        SessionRow.session_key,
        SessionRow.revision,
        ReviewRow.batch_id,
        ReviewRow.reviewer,
        ReviewRow.role,
        ReviewRow.status,
        ReviewRow.status_reason,
        ReviewRow.rubric_id,
        json_text(ReviewRow.values),
        json_text(ReviewRow.details),
        ReviewRow.failure_step,
        when(ReviewRow.started_at),
        when(ReviewRow.submitted_at),
        when(ReviewRow.updated_at),
        ReviewRow.active_seconds,
        ReviewRow.simulated,
        ReviewRow.origin,
        ReviewRow.conflict_of,
        SessionRow.agent_name,
        SessionRow.agent_version,
        SessionRow.model,
        when(SessionRow.started_at),
        SessionRow.source_format,
        SessionRow.id,
    )


_TIMES = ("started_at", "submitted_at", "updated_at", "session_started_at")
"""The record fields that are times."""


def _record_query(narrow: Callable[[Select[Any]], Select[Any]], *, sqlite: bool) -> Select[Any]:
    """The review records (``rows.RECORD``); on SQLite, times come as ISO-8601 text."""
    return narrow(select(*_record_fields(sqlite=sqlite))).order_by(*_ORDER)


def _line_queries(narrow: Callable[[Select[Any]], Select[Any]]) -> tuple[Select[Any], LineReader]:
    """SQLite: the ids of the selected reviews in export order, and the reader of the
    records of a chunk of them as lines (``record_lines``).

    Only the ids go through SQLite's sort, so the first chunk comes at once and SQLite
    makes each chunk's lines while the chunk before is shaped and written.
    """
    from reviewer.export.columnar import RECORD_TYPES

    pairs: Any = select(ReviewRow.id, ReviewRow.session_id)
    ids = narrow(pairs).order_by(*_ORDER)
    reader = LineReader(
        _record_fields(sqlite=True, iso=False),
        RECORD,
        RECORD_KINDS,
        RECORD_TYPES,
        source=lambda q, ids: (
            q.select_from(ids)
            .join(ReviewRow, ReviewRow.id == ids.c.value)
            .join(SessionRow, SessionRow.id == ReviewRow.session_id)
        ),
        row_id=ReviewRow.id,
        times=_TIMES,
    )
    return ids, reader


def _records(
    conn: Connection, query: Select[Any], lines: LineReader | None = None
) -> Generator[Any]:
    """The selected reviews as plain DBAPI tuples (laid out as ``rows.RECORD``), in chunks.

    Rows are fetched from the driver's cursor directly: SQLAlchemy's per-row processing is
    skipped (the shaper reads SQLite's text times and JSON text, or PostgreSQL's datetimes
    and parsed JSON, as they come).

    With ``lines`` (SQLite; ``query`` selects review and session ids, see
    :func:`_line_queries`), each chunk is a ``LineChunk`` instead, whose ``table()`` is an
    Arrow table of the records (``columnar.RECORD_TYPES``) or raises ``PlainReadNeeded``
    for records that cannot be read that way exactly. Parsing is left to the consumer:
    SQLite keeps this thread busy enough.
    """
    if lines is not None:
        result = conn.execute(query)
        try:
            cursor = result.cursor
            read = lines.bind(conn)
            session = None
            while chunk := cursor.fetchmany(FETCH):
                lines_chunk = read([r[0] for r in chunk])
                # A session's reviews come one after another: count where a new one starts.
                for _, sid in chunk:
                    if sid != session:
                        lines_chunk.sessions += 1
                        session = sid
                yield lines_chunk
        finally:
            result.close()
        return
    if conn.dialect.name != "sqlite":
        result = conn.execution_options(yield_per=FETCH).execute(query)
        try:
            for part in result.partitions(FETCH):
                yield [tuple(r) for r in part]
        finally:
            result.close()
        return
    result = conn.execute(query)  # no stream_results: that would buffer rows ahead of us
    try:
        cursor = result.cursor
        while chunk := cursor.fetchmany(FETCH):
            yield list(chunk)
    finally:
        result.close()


def _counted(chunks: Iterator[Chunk], total: int) -> Generator[Chunk]:
    """The chunks, checking at the end that every counted review was read."""
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        yield chunk
    if seen != total:
        raise ExportError(f"read {seen} reviews of the {total} counted; nothing was written")


_END = object()


def _read_ahead(chunks: Iterator[Chunk], depth: int = 2) -> Generator[Chunk]:
    """The chunks, read on a helper thread up to ``depth`` ahead: the database works
    (without holding the GIL) while this thread shapes and writes the previous chunk."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                ready.put(chunk)
            ready.put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put(exc)

    reader = threading.Thread(target=read, name="export-reader", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting to put, then let it end
            with suppress(queue.Empty):
                ready.get_nowait()
            reader.join(0.01)


def _groups(chunks: Iterator[list[Record]]) -> Iterator[list[Record]]:
    """The records of one session revision at a time (they arrive ordered by it)."""
    current: list[Record] = []
    key: tuple[Any, Any] | None = None
    kix, rix = R["session_key"], R["revision"]
    for chunk in chunks:
        for rec in chunk:
            k = (rec[kix], rec[rix])
            if k != key and current:
                yield current
                current = []
            key = k
            current.append(rec)
    if current:
        yield current


def _batched(groups: Iterator[list[Record]], size: int) -> Iterator[list[list[Record]]]:
    batch: list[list[Record]] = []
    for g in groups:
        batch.append(g)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _temp_beside(path: Path) -> Path:
    """A new empty file beside ``path``, created with the usual permissions (umask)."""
    name = partials.create_beside(path)
    if name is None:
        raise ExportError(f"cannot create a temporary file in {path.parent}")
    return name


class _HashingFile(io.RawIOBase):
    """A write-only file that hashes (SHA-256) and counts what goes through to ``raw``."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.sha256.update(view)
        self.size += len(view)
        self.raw.write(view)
        return len(view)

    def tell(self) -> int:
        return self.size

    def restart(self) -> None:
        """Empty the file: what was written is forgotten."""
        self.raw.seek(0)
        self.raw.truncate()
        self.sha256 = hashlib.sha256()
        self.size = 0

    def flush(self) -> None:
        self.raw.flush()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while rows stream through (it would walk every chunk
    again and again; the rows hold no cycles, reference counting frees them)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not every platform opens folders
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Tally:
    def __init__(self) -> None:
        self.rows = 0
        self.reviews = 0
        self.sessions = 0
        self.left_out: Counter[str] = Counter()
        self.notes: list[str] = []


def check_target(out: Path) -> Path:
    """``out`` as a path an export may write (its folder exists, it is no folder), with
    what an export killed earlier left beside it cleaned away."""
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"{out} is a folder; give the file to write")
    if not out.parent.is_dir():
        raise ExportError(f"no folder {out.parent} to write {out.name} in")
    partials.clean_stale(out.parent)
    return out


def publish(
    out: Path,
    write: Callable[[_HashingFile], None],
    describe: Callable[[DataFile], ExportManifest],
) -> ExportManifest:
    """Write the data with ``write`` to a temporary file beside ``out``, then its manifest
    (``describe`` gets the data file's size and digest), and put both in place only once
    both are complete; on any failure neither is left behind."""
    manifest_path = manifest_path_for(out)
    tmp = _temp_beside(out)
    manifest_tmp: Path | None = None
    try:
        with tmp.open("wb") as raw, _gc_paused():
            partials.hold(raw)
            f = _HashingFile(raw)
            write(f)
            raw.flush()
            os.fsync(raw.fileno())
        manifest = describe(DataFile(file=out.name, bytes=f.size, sha256=f.sha256.hexdigest()))
        manifest_tmp = _temp_beside(manifest_path)
        with manifest_tmp.open("wb") as m:
            m.write(
                orjson.dumps(
                    manifest.model_dump(mode="json", by_alias=True),
                    option=orjson.OPT_INDENT_2,
                )
                + b"\n"
            )
            m.flush()
            os.fsync(m.fileno())
        # Old manifest first: at no point does a manifest describe data it does not match.
        manifest_path.unlink(missing_ok=True)
        os.replace(tmp, out)
        os.replace(manifest_tmp, manifest_path)
        _fsync_dir(out.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if manifest_tmp is not None:
            manifest_tmp.unlink(missing_ok=True)
        raise
    return manifest


def export(
    ws: Workspace,
    options: ExportOptions,
    out: Path,
    *,
    progress: Progress = NO_PROGRESS,
) -> ExportManifest:
    """Export the reviews the options select to ``out`` and write its manifest beside it.

    Raises :class:`ExportError` for options that cannot work (bad filter, unknown batch,
    no such folder) and ``Cancelled`` when ``progress`` was cancelled; either way nothing
    is left at ``out`` that was not there before.
    """
    fmt = get_format(options.format)
    if fmt.pairs or options.level == "pair":
        from reviewer.services.pair_export import export_pairs

        return export_pairs(ws, options, out, progress=progress)
    try:
        spec = parse_where(options.where)
    except FilterError as exc:
        raise ExportError(f"filter: {exc}") from None
    out = check_target(out)
    lines = _reads_lines(ws.is_sqlite, fmt, options)
    with _warming_arrow(fmt.name if lines else None), ws.read() as s:
        batch_id = None
        if options.batch is not None:
            batch_id = s.scalar(select(BatchRow.id).where(BatchRow.name == options.batch))
            if batch_id is None:
                raise ExportError(f"no batch named {options.batch!r} in this workspace")
        narrow = _selection(options, batch_id, spec)
        conn = s.connection()
        per_rubric = dict(
            conn.execute(
                narrow(select(ReviewRow.rubric_id, func.count())).group_by(ReviewRow.rubric_id)
            ).all()
        )
        total = sum(per_rubric.values())
        rubrics: dict[int, Rubric] = {rid: get_rubric(s, rid) for rid in per_rubric}
        plan = LabelPlan.from_rubrics(rubrics)
        tally = _Tally()
        tally.reviews = total
        columns: list[Column] | None = None

        def write(f: _HashingFile) -> None:
            nonlocal columns
            columns = _write(conn, s, fmt, options, plan, narrow, f, total, progress, tally)

        def describe(data: DataFile) -> ExportManifest:
            return ExportManifest(
                app_version=__version__,
                created_at=datetime.now(UTC),
                workspace=ws.display_name,
                workspace_id=ws.workspace_id,
                format=fmt.name,
                format_version=FORMAT_VERSION,
                schema_file=row_schema(fmt, _level(fmt, options)),
                level=_level(fmt, options),
                status=options.status,
                where=options.where,
                batch=options.batch,
                redact_pii=options.redact_pii,
                neutralise_formulas=options.neutralise_formulas if fmt.name == "csv" else None,
                thresholds=Thresholds(min_quality=options.min_quality, require=options.require)
                if fmt.kind == "dataset"
                else None,
                rubrics=[
                    RubricVersion(name=r.name, version=r.version)
                    for r in sorted(rubrics.values(), key=lambda r: (r.name, r.version))
                ],
                counts=Counts(rows=tally.rows, reviews=tally.reviews, sessions=tally.sessions),
                left_out=dict(sorted(tally.left_out.items())),
                notes=tally.notes,
                columns=[ColumnInfo(name=c.name, type=c.kind) for c in columns]
                if columns is not None
                else None,
                data=data,
            )

        manifest = publish(out, write, describe)
    return manifest


def _level(fmt: ExportFormat, options: ExportOptions) -> Literal["review", "session", "step"]:
    from reviewer.export.steps import STEP_FORMATS

    assert options.level != "pair"  # pair exports go through services.pair_export
    if fmt.name in STEP_FORMATS:
        return "step"
    return "session" if fmt.kind == "dataset" else options.level


def _reads_lines(sqlite: bool, fmt: ExportFormat, options: ExportOptions) -> bool:
    """Whether the records are read as lines and shaped column by column."""
    return LINES and sqlite and fmt.kind == "table" and options.level == "review"


@contextmanager
def _warming_arrow(fmt: str | None) -> Iterator[None]:
    """Arrow's modules loaded on a helper thread meanwhile (for ``fmt``; None: nothing).

    They take a few tenths of a second to load, holding the GIL; SQLite counts the reviews
    and sorts them without it, so both go on at once.
    """
    if fmt is None:
        yield
        return
    loader = threading.Thread(target=_load_arrow, args=(fmt,), name="export-loader")
    loader.start()
    try:
        yield
    finally:
        loader.join()


def _load_arrow(fmt: str) -> None:
    with suppress(Exception):  # the export imports them again, and raises there
        import importlib

        import pyarrow as pa

        modules = ["pyarrow.csv", "reviewer.export.columnar", "reviewer.export.jsontext"]
        if fmt == "parquet":
            modules.append("pyarrow.parquet")
        for name in modules:
            importlib.import_module(name)
        pa.array([0])  # pyarrow loads pandas (when installed) at its first array of a list


def _write(
    conn: Connection,
    s: Any,
    fmt: ExportFormat,
    options: ExportOptions,
    plan: LabelPlan,
    narrow: Callable[[Select[Any]], Select[Any]],
    f: Any,
    total: int,
    progress: Progress,
    tally: _Tally,
) -> list[Column] | None:
    """Write the data; return the columns for tables (None for line formats)."""
    if _level(fmt, options) == "step":
        return _write_steps(conn, s, fmt, options, narrow, f, total, progress, tally)
    args = (conn, s, fmt, options, plan, narrow, f, total, progress, tally)
    if _reads_lines(conn.dialect.name == "sqlite", fmt, options):
        try:
            return _write_once(*args, lines=True)
        except PlainReadNeeded:
            # Text with a NUL, or a value the app never stores: start again, plain rows.
            f.restart()
            tally.rows = 0
    return _write_once(*args, lines=False)


def _write_steps(
    conn: Connection,
    s: Any,
    fmt: ExportFormat,
    options: ExportOptions,
    narrow: Callable[[Select[Any]], Select[Any]],
    f: Any,
    total: int,
    progress: Progress,
    tally: _Tally,
) -> list[Column] | None:
    """Step rows (``--level step``) or step datasets, review by review (``export.steps``)."""
    from reviewer.domain.review import StepLabel
    from reviewer.domain.session import Session
    from reviewer.export.steps import STEP_COLUMNS, step_lines, step_rows

    query = narrow(
        select(
            ReviewRow.uid,
            ReviewRow.reviewer,
            ReviewRow.session_id,
            SessionRow.revision,
            ReviewRow.rubric_id,
            ReviewRow.steps,
        )
    ).order_by(*_ORDER)
    rows = conn.execute(query).all()
    tally.sessions = len({r[2] for r in rows})
    spec = {rid: get_rubric(s, rid).steps for rid in {r[4] for r in rows}}
    writer = (
        _table_writer(fmt, f, STEP_COLUMNS, LabelPlan(), options) if fmt.kind == "table" else None
    )
    done = 0
    progress.update(0, total, "exporting")
    for start in range(0, len(rows), SESSIONS_PER_CHUNK):
        part = rows[start : start + SESSIONS_PER_CHUNK]
        contents = _contents(s, list({r[2] for r in part}))
        out: list[Any] = []
        for uid, reviewer, sid, revision, rid, raw in part:
            labels = {
                int(k): StepLabel.model_validate(v) for k, v in (_json_value(raw) or {}).items()
            }
            session = Session.model_validate_json(contents[sid])
            if writer is not None:
                out.extend(step_rows(session, revision, uid, reviewer, labels,
                                     redact=options.redact_pii))  # fmt: skip
                continue
            steps = spec.get(rid)
            if steps is None:
                tally.left_out["rubric_without_step_verdicts"] += 1
                continue
            result = step_lines(fmt.name, session, labels, correct=steps.verdicts[0].value,
                                wrong=steps.wrong, redact=options.redact_pii)  # fmt: skip
            if isinstance(result, str):
                tally.left_out[result] += 1
                continue
            out.extend(orjson.dumps(line) + b"\n" for line in result)
        if writer is not None:
            writer.write(out)
        else:
            f.write(b"".join(out))
        tally.rows += len(out)
        done += len(part)
        progress.update(done, total, "exporting")
    if writer is not None:
        writer.close()
        return list(STEP_COLUMNS)
    return None


def _json_value(raw: Any) -> Any:
    """A JSON column as Python: PostgreSQL gives it parsed, SQLite as text or parsed."""
    return orjson.loads(raw) if isinstance(raw, str | bytes) else raw


def _write_once(
    conn: Connection,
    s: Any,
    fmt: ExportFormat,
    options: ExportOptions,
    plan: LabelPlan,
    narrow: Callable[[Select[Any]], Select[Any]],
    f: Any,
    total: int,
    progress: Progress,
    tally: _Tally,
    *,
    lines: bool,
) -> list[Column] | None:
    sqlite = conn.dialect.name == "sqlite"
    batch_names = dict(conn.execute(select(BatchRow.id, BatchRow.name)).all())
    shaper = ReviewShaper(
        plan, redact=options.redact_pii, iso_times=sqlite, batch_names=batch_names
    )
    records: Generator[Any]
    if lines:
        ids, reader = _line_queries(narrow)
        records = _records(conn, ids, reader)
        tally.sessions = 0  # counted as the reviews come
    else:
        count = select(func.count(distinct(ReviewRow.session_id)))
        tally.sessions = int(conn.execute(narrow(count)).scalar() or 0)
        records = _records(conn, _record_query(narrow, sqlite=sqlite))
    counted = _counted(records, total)
    # Tables read ahead on a helper thread; line formats also load session content on
    # this connection as they go, so they read in step.
    chunks = _read_ahead(counted) if fmt.kind == "table" and READ_AHEAD else counted
    progress.update(0, total, "exporting")
    try:
        if fmt.kind == "table":
            return _write_table(
                fmt, options, plan, shaper, chunks, f, total, progress, tally, columnar=lines
            )
        _write_lines(s, fmt, options, plan, shaper, chunks, f, total, progress, tally)
        return None
    finally:
        chunks.close()  # the reader stops and the cursor closes now, while the connection is open
        counted.close()
        records.close()


def _write_table(
    fmt: ExportFormat,
    options: ExportOptions,
    plan: LabelPlan,
    shaper: ReviewShaper,
    chunks: Iterator[Any],
    f: Any,
    total: int,
    progress: Progress,
    tally: _Tally,
    *,
    columnar: bool = False,
) -> list[Column]:
    """``columnar``: the chunks are ``record_lines.LineChunk`` s (review level)."""
    columns = plan.columns(options.level)
    writer = _table_writer(fmt, f, columns, plan, options)
    done = 0
    try:
        if columnar:
            from reviewer.export.columnar import review_columns

            for chunk in chunks:
                writer.write_columns(review_columns(shaper, chunk.table()))
                done += len(chunk)
                tally.rows += len(chunk)
                tally.sessions += chunk.sessions
                progress.update(done, total, "exporting")
        elif options.level == "review":
            for chunk in chunks:
                rows = shaper.rows(chunk)
                writer.write(rows)
                done += len(chunk)
                tally.rows += len(rows)
                progress.update(done, total, "exporting")
        else:
            labeller = SessionLabeller(plan)
            for batch in _batched(_groups(chunks), max(1, FETCH // 4)):
                rows = [labeller.session_row(shaper.rows(g)) for g in batch]
                writer.write(rows)
                done += sum(len(g) for g in batch)
                tally.rows += len(rows)
                progress.update(done, total, "exporting")
    except BaseException:
        with suppress(Exception):
            writer.close()  # the temporary file is removed next: only release the writer
        raise
    writer.close()
    if isinstance(writer, CsvWriter) and writer.long_cells:
        tally.notes.append(
            f"{writer.long_cells} cells are longer than 32,767 characters, the most a"
            " spreadsheet cell shows; they are written whole"
        )
    return columns


def _write_lines(
    s: Any,
    fmt: ExportFormat,
    options: ExportOptions,
    plan: LabelPlan,
    shaper: ReviewShaper,
    chunks: Iterator[list[Record]],
    f: Any,
    total: int,
    progress: Progress,
    tally: _Tally,
) -> None:
    done = 0
    builder = _line_builder(fmt, options, plan)
    labeller = SessionLabeller(plan)
    names = [c.name for c in plan.review_columns()]
    session_names = [c.name for c in plan.session_columns()]
    for batch in _batched(_groups(chunks), SESSIONS_PER_CHUNK):
        contents = _contents(s, [g[0][R["session_db_id"]] for g in batch])
        out: list[bytes] = []
        for g in batch:
            review_rows = shaper.rows(g)
            session_row = dict(zip(session_names, labeller.session_row(review_rows), strict=True))
            reviews = [dict(zip(names, r, strict=True)) for r in review_rows]
            result = builder(contents[g[0][R["session_db_id"]]], session_row, reviews)
            if isinstance(result, str):
                tally.left_out[result] += 1
                continue
            out.extend(orjson.dumps(line) + b"\n" for line in result)
            tally.rows += len(result)
        f.write(b"".join(out))
        done += sum(len(g) for g in batch)
        progress.update(done, total, "exporting")


def _table_writer(
    fmt: ExportFormat,
    f: BinaryIO,
    columns: Sequence[Column],
    plan: LabelPlan,
    options: ExportOptions,
) -> TableWriter:
    if fmt.name == "csv":
        return CsvWriter(f, columns, neutralise_formulas=options.neutralise_formulas)
    if fmt.name == "jsonl":
        return JsonlWriter(f, columns)
    return ParquetWriter(
        f,
        columns,
        plan.nested_columns(),
        metadata={
            "agentops_reviewer.format": f"{options.level}-rows",
            "agentops_reviewer.format_version": str(FORMAT_VERSION),
        },
    )


def _contents(s: Any, session_ids: list[int]) -> dict[int, bytes]:
    rows = s.execute(
        select(SessionContent.session_id, SessionContent.data).where(
            SessionContent.session_id.in_(session_ids)
        )
    )
    return {sid: zlib.decompress(data) for sid, data in rows}


LineBuilder = Callable[[bytes, dict[str, Any], list[dict[str, Any]]], "list[dict[str, Any]] | str"]


def _line_builder(fmt: ExportFormat, options: ExportOptions, plan: LabelPlan) -> LineBuilder:
    if fmt.kind == "dataset":
        from reviewer.export.datasets import dataset_builder

        return dataset_builder(fmt.name, options, plan)
    from reviewer.export.feedback import feedback_builder

    return feedback_builder(fmt, options, plan)
