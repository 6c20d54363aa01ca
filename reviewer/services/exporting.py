"""Exporting labels: read the selected reviews in chunks, shape them, write the file.

The use case only: the store reads the reviews (:mod:`reviewer.store.review_records`, in
one read transaction, ordered by session id, revision, reviewer and review uid, so the
same workspace and options give byte-identical data), ``export`` shapes and writes them,
and :func:`~reviewer.export.publish.publish` puts the data and its manifest
(``<file>.manifest.json``) in place together, only once both are complete: a failed or
cancelled export leaves the target as it was.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence, Sized
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, TypeVar

import orjson

from reviewer import __version__, atomic
from reviewer.domain.review_record import R
from reviewer.domain.rubric import Rubric
from reviewer.export.chunks import batched, by_session, read_ahead
from reviewer.export.columns import Column, LabelPlan
from reviewer.export.consensus import SessionLabeller
from reviewer.export.formats import FORMAT_VERSION, ExportFormat, get_format, row_schema
from reviewer.export.manifest import (
    ColumnInfo,
    Counts,
    DataFile,
    ExportManifest,
    RubricVersion,
    Thresholds,
)
from reviewer.export.options import ExportOptions
from reviewer.export.publish import HashingFile, manifest_path_for, publish
from reviewer.export.rows import ReviewShaper
from reviewer.export.tables import CsvWriter, JsonlWriter, ParquetWriter, TableWriter
from reviewer.services.filters import FilterError, parse_where
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.store.review_records import (
    NoSuchBatch,
    PlainReadNeeded,
    ReviewRecords,
    Selection,
    reading,
)
from reviewer.store.workspace import Workspace

__all__ = [
    "ExportError",
    "ExportOptions",
    "check_target",
    "export",
    "manifest_basics",
    "manifest_path_for",
    "publish",
    "table_writer",
]

FETCH = 10_000
"""Reviews fetched (and rows written) per chunk."""
READ_AHEAD = True
LINES = True
"""Review tables from SQLite read records as lines and shape them column by column
(``store.record_lines``, ``export.columnar``); False: as plain rows, one tuple per review."""
SESSIONS_PER_CHUNK = 500
"""Sessions whose content is loaded at once for dataset and feedback formats."""

Record = tuple[Any, ...]
Chunk = TypeVar("Chunk", bound=Sized)
"""A chunk of records: a list of tuples, or lines (``record_lines.LineChunk``)."""


class ExportError(Exception):
    """The export cannot be made as asked; the message says why, for a person."""


@dataclass
class _Tally:
    rows: int = 0
    reviews: int = 0
    sessions: int = 0
    left_out: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Job:
    """One export under way: what it writes, from which reviews, and what it counted."""

    fmt: ExportFormat
    options: ExportOptions
    plan: LabelPlan
    reviews: ReviewRecords
    total: int
    """Reviews selected."""
    progress: Progress
    tally: _Tally

    def advance(self, done: int) -> None:
        self.progress.update(done, self.total, "exporting")


def check_target(out: Path) -> Path:
    """``out`` as a path an export may write (its folder exists, it is no folder), with
    what an export killed earlier left beside it cleaned away."""
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"{out} is a folder; give the file to write")
    if not out.parent.is_dir():
        raise ExportError(f"no folder {out.parent} to write {out.name} in")
    atomic.clean_stale(out.parent)
    return out


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
    selection = Selection(
        submitted_only=options.status == "submitted", batch=options.batch, spec=spec
    )
    lines = _reads_lines(ws.is_sqlite, fmt, options)
    try:
        with _warming_arrow(fmt.name if lines else None), reading(ws, selection) as reviews:
            return _export(ws, fmt, options, reviews, out, progress)
    except NoSuchBatch:
        raise ExportError(f"no batch named {options.batch!r} in this workspace") from None


def _export(
    ws: Workspace,
    fmt: ExportFormat,
    options: ExportOptions,
    reviews: ReviewRecords,
    out: Path,
    progress: Progress,
) -> ExportManifest:
    per_rubric = reviews.per_rubric()
    rubrics: dict[int, Rubric] = {rid: reviews.rubric(rid) for rid in per_rubric}
    job = _Job(
        fmt=fmt,
        options=options,
        plan=LabelPlan.from_rubrics(rubrics),
        reviews=reviews,
        total=sum(per_rubric.values()),
        progress=progress,
        tally=_Tally(),
    )
    job.tally.reviews = job.total
    columns: list[Column] | None = None

    def write(f: HashingFile) -> None:
        nonlocal columns
        columns = _write(job, f)

    def describe(data: DataFile) -> ExportManifest:
        tally = job.tally
        return ExportManifest(
            **manifest_basics(ws, fmt, options, _level(fmt, options)),
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

    return publish(out, write, describe)


def manifest_basics(
    ws: Workspace, fmt: ExportFormat, options: ExportOptions, level: str
) -> dict[str, Any]:
    """What every export's manifest says of where and how it was made."""
    return {
        "app_version": __version__,
        "created_at": datetime.now(UTC),
        "workspace": ws.display_name,
        "workspace_id": ws.workspace_id,
        "format": fmt.name,
        "format_version": FORMAT_VERSION,
        "schema_file": row_schema(fmt, level),
        "level": level,
        "status": options.status,
        "where": options.where,
        "batch": options.batch,
        "redact_pii": options.redact_pii,
        "neutralise_formulas": options.neutralise_formulas if fmt.name == "csv" else None,
    }


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


def _write(job: _Job, f: HashingFile) -> list[Column] | None:
    """Write the data; return the columns for tables (None for line formats)."""
    if _level(job.fmt, job.options) == "step":
        return _write_steps(job, f)
    if _reads_lines(job.reviews.sqlite, job.fmt, job.options):
        try:
            return _write_once(job, f, lines=True)
        except PlainReadNeeded:
            # Text with a NUL, or a value the app never stores: start again, plain rows.
            f.restart()
            job.tally.rows = 0
    return _write_once(job, f, lines=False)


def _write_steps(job: _Job, f: Any) -> list[Column] | None:
    """Step rows (``--level step``) or step datasets, review by review (``export.steps``)."""
    from reviewer.domain.review import StepLabel
    from reviewer.domain.session import Session
    from reviewer.export.steps import STEP_COLUMNS, step_lines, step_rows

    fmt, options, tally = job.fmt, job.options, job.tally
    rows = job.reviews.step_records()
    tally.sessions = len({r.session_db_id for r in rows})
    spec = {rid: job.reviews.rubric(rid).steps for rid in {r.rubric_id for r in rows}}
    writer = (
        table_writer(fmt, f, STEP_COLUMNS, options, level=options.level)
        if fmt.kind == "table"
        else None
    )
    done = 0
    job.advance(0)
    for start in range(0, len(rows), SESSIONS_PER_CHUNK):
        part = rows[start : start + SESSIONS_PER_CHUNK]
        contents = job.reviews.contents(list({r.session_db_id for r in part}))
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
        job.advance(done)
    if writer is not None:
        writer.close()
        return list(STEP_COLUMNS)
    return None


def _json_value(raw: Any) -> Any:
    """A JSON column as Python: PostgreSQL gives it parsed, SQLite as text or parsed."""
    return orjson.loads(raw) if isinstance(raw, str | bytes) else raw


def _records(job: _Job, lines: bool) -> Generator[Any]:
    """The selected reviews in chunks of :data:`FETCH`: lists of records, or (``lines``)
    ``LineChunk`` s of them, whose ``table()`` is an Arrow table of the records."""
    if lines:
        from reviewer.export.columnar import RECORD_TYPES

        return job.reviews.record_lines(RECORD_TYPES, fetch=FETCH)
    return job.reviews.records(fetch=FETCH)


def _counted(chunks: Iterator[Chunk], total: int) -> Generator[Chunk]:
    """The chunks, checking at the end that every counted review was read."""
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        yield chunk
    if seen != total:
        raise ExportError(f"read {seen} reviews of the {total} counted; nothing was written")


def _write_once(job: _Job, f: HashingFile, *, lines: bool) -> list[Column] | None:
    reviews, options = job.reviews, job.options
    shaper = ReviewShaper(
        job.plan,
        redact=options.redact_pii,
        iso_times=reviews.sqlite,
        batch_names=reviews.batch_names(),
    )
    # Lines count the sessions as the reviews come; plain rows count them first.
    job.tally.sessions = 0 if lines else reviews.session_count()
    records = _records(job, lines)
    counted = _counted(records, job.total)
    # Tables read ahead on a helper thread; line formats also load session content on
    # this connection as they go, so they read in step.
    chunks = read_ahead(counted) if job.fmt.kind == "table" and READ_AHEAD else counted
    job.advance(0)
    try:
        if job.fmt.kind == "table":
            return _write_table(job, shaper, chunks, f, columnar=lines)
        _write_lines(job, shaper, chunks, f)
        return None
    finally:
        chunks.close()  # the reader stops and the cursor closes now, while the connection is open
        counted.close()
        records.close()


def _write_table(
    job: _Job,
    shaper: ReviewShaper,
    chunks: Iterator[Any],
    f: Any,
    *,
    columnar: bool = False,
) -> list[Column]:
    """``columnar``: the chunks are ``record_lines.LineChunk`` s (review level)."""
    options, plan, tally = job.options, job.plan, job.tally
    columns = plan.columns(options.level)
    writer = table_writer(
        job.fmt, f, columns, options, level=options.level, nested=plan.nested_columns()
    )
    done = 0
    try:
        if columnar:
            from reviewer.export.columnar import review_columns

            for chunk in chunks:
                writer.write_columns(review_columns(shaper, chunk.table()))
                done += len(chunk)
                tally.rows += len(chunk)
                tally.sessions += chunk.sessions
                job.advance(done)
        elif options.level == "review":
            for chunk in chunks:
                rows = shaper.rows(chunk)
                writer.write(rows)
                done += len(chunk)
                tally.rows += len(rows)
                job.advance(done)
        else:
            labeller = SessionLabeller(plan)
            for batch in batched(by_session(chunks), max(1, FETCH // 4)):
                rows = [labeller.session_row(shaper.rows(g)) for g in batch]
                writer.write(rows)
                done += sum(len(g) for g in batch)
                tally.rows += len(rows)
                job.advance(done)
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


def _write_lines(job: _Job, shaper: ReviewShaper, chunks: Iterator[list[Record]], f: Any) -> None:
    plan, tally = job.plan, job.tally
    done = 0
    builder = _line_builder(job.fmt, job.options, plan)
    labeller = SessionLabeller(plan)
    names = [c.name for c in plan.review_columns()]
    session_names = [c.name for c in plan.session_columns()]
    session_id = R["session_db_id"]
    for batch in batched(by_session(chunks), SESSIONS_PER_CHUNK):
        contents = job.reviews.contents([g[0][session_id] for g in batch])
        out: list[bytes] = []
        for g in batch:
            review_rows = shaper.rows(g)
            session_row = dict(zip(session_names, labeller.session_row(review_rows), strict=True))
            reviews = [dict(zip(names, r, strict=True)) for r in review_rows]
            result = builder(contents[g[0][session_id]], session_row, reviews)
            if isinstance(result, str):
                tally.left_out[result] += 1
                continue
            out.extend(orjson.dumps(line) + b"\n" for line in result)
            tally.rows += len(result)
        f.write(b"".join(out))
        done += sum(len(g) for g in batch)
        job.advance(done)


def table_writer(
    fmt: ExportFormat,
    f: BinaryIO,
    columns: Sequence[Column],
    options: ExportOptions,
    *,
    level: str,
    nested: Sequence[Column] = (),
) -> TableWriter:
    """The writer of ``fmt`` (csv, jsonl or parquet) for rows of ``level`` with ``columns``
    (``nested``: the columns of the parquet reviews nested in session rows)."""
    if fmt.name == "csv":
        return CsvWriter(f, columns, neutralise_formulas=options.neutralise_formulas)
    if fmt.name == "jsonl":
        return JsonlWriter(f, columns)
    return ParquetWriter(
        f,
        columns,
        nested,
        metadata={
            "agentops_reviewer.format": f"{level}-rows",
            "agentops_reviewer.format_version": str(FORMAT_VERSION),
        },
    )


LineBuilder = Callable[[bytes, dict[str, Any], list[dict[str, Any]]], "list[dict[str, Any]] | str"]


def _line_builder(fmt: ExportFormat, options: ExportOptions, plan: LabelPlan) -> LineBuilder:
    if fmt.kind == "dataset":
        from reviewer.export.datasets import dataset_builder

        return dataset_builder(fmt.name, options, plan)
    from reviewer.export.feedback import feedback_builder

    return feedback_builder(fmt, options, plan)
