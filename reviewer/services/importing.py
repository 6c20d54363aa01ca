"""Importing sessions: files of any known format, or sessions already parsed, stored in
committed chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from reviewer.domain.session import Session
from reviewer.ingest.assembly import EVERY as SPAN_EVERY
from reviewer.ingest.assembly import SpanAssembly
from reviewer.ingest.detect import KNOWN, LineFormat, UnknownFormat, by_name, detect
from reviewer.ingest.pipeline import Reject, parse_file
from reviewer.ingest.records import DEFAULT_MAX_RECORD_BYTES as DEFAULT_MAX_RECORD_BYTES
from reviewer.ingest.workers import (
    Known,
    KnownLookup,
    Preparation,
    Workers,
    default_workers,
    prepare_line,
    prepare_lines,
)
from reviewer.services.input_files import input_problem
from reviewer.services.progress import NO_PROGRESS, Cancelled, Progress
from reviewer.services.reject_report import RejectReport
from reviewer.store.content import (
    COUNTED_ROLES,
    KEEP_PATHS,
    prepare_session,
    prepare_session_dict,
    record_hash,
)
from reviewer.store.sessions import (
    PreparedSession,
    UpsertResult,
    has_record_hashes,
    latest_by_record_hash,
    latest_content_hashes,
    latest_sessions,
    upsert_prepared,
)
from reviewer.store.workspace import UnitOfWork, Workspace

PREPARATION = Preparation(prepare_session, prepare_session_dict, record_hash)
"""Records become the store's prepared sessions (in worker processes too)."""

CHUNK = 5000
"""Sessions per committed chunk: what a stop can lose, to be imported again. Fewer, larger
commits cost the importing process less (each one syncs and checkpoints the WAL)."""
FIRST_CHUNK = 500
"""The first chunk of an import is this small, and each next one twice the last up to
``chunk``: progress shows early, and a prompt Cancel stops after a small chunk."""
CHUNK_BYTES = 32_000_000
"""A chunk is committed sooner when its compressed content reaches this."""

KNOWN_FORMATS = KNOWN
"""The import formats by name (for the CLI's choices)."""


def store_sessions(
    ws: Workspace,
    sessions: Iterable[Session],
    *,
    total: int | None = None,
    progress: Progress = NO_PROGRESS,
    chunk: int = 500,
) -> UpsertResult:
    """Store sessions, committing every ``chunk``; a stop leaves whole chunks stored.

    Idempotent: running it again over the same sessions adds nothing.
    """
    result = UpsertResult()
    pending: list[PreparedSession] = []
    done = 0

    def flush() -> None:
        nonlocal done
        with ws.write(bulk=True) as s:
            result.add(upsert_prepared(s, pending))
        done += len(pending)
        pending.clear()
        progress.update(done, total, "storing sessions")

    for session in sessions:
        pending.append(prepare_session(session))
        if len(pending) >= chunk:
            flush()
    if pending:
        flush()
    return result


KEEP_REJECTS = 20
"""Rejected records an import keeps to show; the others go to the report file only, so
memory stays bounded whatever the number of bad records."""


class RejectedRecord(BaseModel):
    """A record that was not imported: its file, line (or entry / span id) and why."""

    file: str
    line: int | str | None
    reason: str


class FileSummary(BaseModel):
    """What happened to one input file."""

    path: str
    format: str | None = None
    imported: int = 0
    duplicates: int = 0
    revised: int = 0
    rejected: int = 0
    error: str | None = None
    """Set when the file could not be read at all (nothing from it was imported)."""
    sessions: int = 0
    """Sessions read from the file, whatever became of them (imported, duplicate...)."""
    steps: dict[str, int] = Field(default_factory=dict)
    """Their steps by role."""
    tool_calls: int = 0
    tool_errors: int = 0
    """Tool results flagged as errors."""
    unrecognised: int = 0
    """Steps holding a message or part kept as raw JSON: its shape was not recognised."""
    unrecognised_paths: list[str] = Field(default_factory=list)
    """The first few JSON paths (in the recorded input) of what was kept raw."""

    def count(self, item: PreparedSession | Known) -> None:
        """Count what ``item`` holds (a record known from an earlier import is not read
        again: it counts as a session, its steps are not counted)."""
        self.sessions += 1
        if isinstance(item, Known) or not item.counts:
            return
        for role, n in zip(COUNTED_ROLES, item.counts, strict=False):
            if n:
                self.steps[role.value] = self.steps.get(role.value, 0) + n
        calls, errors, raw = item.counts[len(COUNTED_ROLES) :]
        self.tool_calls += calls
        self.tool_errors += errors
        self.unrecognised += raw
        room = KEEP_PATHS - len(self.unrecognised_paths)
        if room > 0:
            self.unrecognised_paths += item.unrecognised[:room]

    def counts_text(self) -> str:
        """One line of what the file held: sessions, steps, tool calls and errors, and what
        was not understood."""
        steps = ", ".join(f"{n:,} {role}" for role, n in self.steps.items())
        text = (
            f"{self.sessions:,} sessions ({steps or 'no steps'}), {self.tool_calls:,} tool "
            f"calls, {self.tool_errors:,} tool errors, {self.unrecognised:,} unrecognised"
        )
        if self.unrecognised_paths:
            text += f" (at {', '.join(self.unrecognised_paths)})"
        return text


class ImportSummary(BaseModel):
    """The result of `reviewer import` (printed as JSON with --json)."""

    imported: int = 0
    duplicates: int = 0
    revised: int = 0
    rejected: int = 0
    unreadable: int = 0
    files: list[FileSummary] = Field(default_factory=list)
    cancelled: bool = False
    dry_run: bool = False
    """Read and counted only: nothing was written to the workspace."""
    first_rejects: SkipJsonSchema[list[RejectedRecord]] = Field(default_factory=list, exclude=True)
    """The first :data:`KEEP_REJECTS` rejected records, to show (the report has them all);
    not part of the JSON summary."""
    report: SkipJsonSchema[str | None] = Field(default=None, exclude=True)
    """Where the rejected records are listed (the first 1,000 in full, then counts by
    reason), when a report was written."""
    report_problem: SkipJsonSchema[str | None] = Field(default=None, exclude=True)
    """Why the report was not written or is incomplete (a full disk), if it is."""

    @property
    def exit_code(self) -> int:
        """0 all imported, 3 some records rejected, 2 nothing could be read."""
        readable = [f for f in self.files if f.error is None]
        if not readable:
            return 2
        if self.rejected or self.unreadable:
            return 3
        return 0


def import_paths(
    ws: Workspace,
    paths: Sequence[Path],
    *,
    fmt: str = "auto",
    progress: Progress = NO_PROGRESS,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    report: Path | None = None,
    chunk: int = CHUNK,
    workers: int | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Import files into the workspace, committing chunks of up to ``chunk`` sessions.

    Bad records are rejected with file, line and reason (written to ``report`` as JSON
    Lines) and never stop the import. A stop (Cancel, Ctrl-C, crash) leaves whole chunks
    stored; importing again completes the import and adds nothing twice.

    JSON Lines files are parsed by ``workers`` processes (default: one per CPU up to 3, for
    files of 32 MB and more; 0: none) while this one commits their chunks in file order.
    The spans of span-based formats (OTLP) are collected over all the files and stored as
    sessions at the end (:mod:`reviewer.ingest.assembly`). ``dry_run``: read and count,
    write nothing.
    """
    summary = ImportSummary(report=str(report) if report is not None else None, dry_run=dry_run)
    spans = SpanAssembly()
    limit = min(chunk, FIRST_CHUNK)
    pool = Workers(default_workers() if workers is None else workers, PREPARATION)
    reading = _Reading(paths, progress)
    with _RejectLog(report, summary) as log, pool:
        try:
            for path in paths:
                outcome = FileSummary(path=str(path))
                summary.files.append(outcome)
                try:
                    refused = input_problem(path)  # a device or FIFO could block forever
                    if refused is not None:
                        raise UnknownFormat(refused)
                    line_format = detect(path) if fmt == "auto" else by_name(fmt)
                except (UnknownFormat, OSError) as exc:
                    outcome.error = (
                        str(exc)
                        if isinstance(exc, UnknownFormat)
                        else (f"{path}: cannot read ({exc.strerror or exc})")
                    )
                    summary.unreadable += 1
                    log.add(RejectedRecord(file=str(path), line=None, reason=outcome.error))
                    reading.file_done(path)
                    continue
                outcome.format = line_format.name
                items: Iterator[PreparedSession | Reject | Known]
                read = reading.start(path)
                if line_format.span_records is not None:
                    items = spans.read(
                        path, line_format, max_record_bytes, read, reading.span_records(path)
                    )
                elif line_format.whole_file or line_format.archive is not None:
                    items = _prepared(parse_file(path, line_format, max_record_bytes))
                elif pool.wanted(path, line_format, explicit=workers is not None):
                    known = None if dry_run else _known_lookup(ws)  # a dry run reads all
                    items = pool.prepared(path, line_format, max_record_bytes, read, known)
                else:
                    known = None if dry_run else _known_lookup(ws)  # a dry run reads all
                    items = prepare_lines(
                        PREPARATION, path, line_format, max_record_bytes, read, known
                    )
                pending: list[PreparedSession | Known] = []
                size = 0
                for item in items:
                    reading.records += 1
                    if isinstance(item, Reject):
                        log.add(RejectedRecord(file=item.file, line=item.line, reason=item.reason))
                        outcome.rejected += 1
                        continue
                    outcome.count(item)
                    pending.append(item)
                    size += len(item.data if isinstance(item, Known) else item.content)
                    if len(pending) >= limit or size >= CHUNK_BYTES:
                        size, limit = 0, min(chunk, limit * 2)
                        _flush(ws, pending, outcome, line_format, dry_run)
                        reading.report(path)
                if pending:
                    _flush(ws, pending, outcome, line_format, dry_run)
                reading.file_done(path)
            if spans:
                _store_assembled(ws, spans, summary, chunk, dry_run)
        except Cancelled:
            summary.cancelled = True
        finally:
            for f in summary.files:
                summary.imported += f.imported
                summary.duplicates += f.duplicates
                summary.revised += f.revised
                summary.rejected += f.rejected
    return summary


class _Reading:
    """How far an import has read, for progress: records so far and, where the way
    through the file is known (JSON Lines files, plain or gzip), an estimate of the records
    in all the files, from the bytes per record so far. Exact once all is read."""

    def __init__(self, paths: Sequence[Path], progress: Progress) -> None:
        self.progress = progress
        self.sizes: dict[Path, int] = {}
        for p in paths:
            try:
                self.sizes[p] = p.stat().st_size
            except OSError:
                self.sizes[p] = 0
        self.total_bytes = sum(self.sizes.values())
        self.finished_bytes = 0
        self.records = 0
        self.read = [0]

    def start(self, path: Path) -> list[int]:
        """The counter of bytes read of ``path`` that its reader keeps up to date."""
        self.read = [0]
        return self.read

    def report(self, path: Path, *, at_end: bool = False) -> None:
        done = self.finished_bytes + (0 if at_end else self.read[0])
        total = None
        if (at_end or self.read[0]) and done and self.total_bytes:
            total = max(self.records, round(self.records * self.total_bytes / done))
        self.progress.update(self.records, total, f"importing {path.name}")

    def span_records(self, path: Path) -> Callable[[], None]:
        """What collecting span records calls every ``EVERY`` records of ``path``."""

        def tick() -> None:
            self.records += SPAN_EVERY
            self.report(path)

        return tick

    def file_done(self, path: Path) -> None:
        self.finished_bytes += self.sizes.get(path, 0)
        self.read = [0]
        self.report(path, at_end=True)


class _RejectLog:
    """Rejected records, written to the report file as they come (bounded: see
    :mod:`reviewer.services.reject_report`), the first :data:`KEEP_REJECTS` kept in the
    summary as well."""

    def __init__(self, path: Path | None, summary: ImportSummary) -> None:
        self.summary = summary
        self._out = RejectReport(path) if path is not None else None

    def __enter__(self) -> _RejectLog:
        if self._out is not None:
            self._out.open()
        return self

    def add(self, record: RejectedRecord) -> None:
        if len(self.summary.first_rejects) < KEEP_REJECTS:
            self.summary.first_rejects.append(record)
        if self._out is not None:
            self._out.add(record.file, record.line, record.reason)

    def __exit__(self, *exc: object) -> None:
        if self._out is not None:
            self._out.close()
            self.summary.report_problem = self._out.problem
            if self._out.problem and self._out.written == 0:
                self.summary.report = None


def _prepared(items: Iterator[Session | Reject]) -> Iterator[PreparedSession | Reject]:
    # Each session as soon as it is parsed: a prepared session is a few objects, a Session
    # hundreds (a chunk of 500 of those cost more in garbage collection than in parsing).
    for item in items:
        yield item if isinstance(item, Reject) else prepare_session(item)


def _store_assembled(
    ws: Workspace, spans: SpanAssembly, summary: ImportSummary, chunk: int, dry_run: bool
) -> None:
    """Store the sessions assembled from the spans of the whole run, each counted in the
    file that holds its root span; a stored session of the same id is extended."""
    files = {f.path: f for f in summary.files}
    pending: dict[str, list[tuple[LineFormat, Session]]] = {}

    def flush(path: str) -> None:
        got = pending.pop(path, [])
        with ws.read() as s:
            stored = latest_sessions(s, [x.id for _, x in got])
        outcome = files.get(path) or summary.files[-1]
        prepared: list[PreparedSession | Known] = []
        for fmt, session in got:
            before = stored.get(session.id)
            if (
                before is not None
                and fmt.extend is not None
                and before.source.format == session.source.format
            ):
                session = fmt.extend(before, session)
            item = prepare_session(session)
            outcome.count(item)
            prepared.append(item)
        _flush(ws, prepared, outcome, None, dry_run)

    for fmt, session in spans.sessions():
        path = session.source.file or ""
        pending.setdefault(path, []).append((fmt, session))
        if len(pending[path]) >= chunk:
            flush(path)
    for path in list(pending):
        flush(path)


def _known_lookup(ws: Workspace) -> KnownLookup | None:
    """How an import recognises records stored already by their raw bytes, before parsing
    them; None when no stored session has a raw hash (nothing to recognise)."""
    with ws.read() as s:
        if not has_record_hashes(s):
            return None

    def lookup(hashes: list[str]) -> dict[str, tuple[str, str]]:
        with ws.read() as s:
            return latest_by_record_hash(s, hashes)

    return lookup


def _flush(
    ws: Workspace,
    pending: list[PreparedSession | Known],
    outcome: FileSummary,
    fmt: LineFormat | None,
    dry_run: bool = False,
) -> None:
    """Commit one chunk and count it in ``outcome``; ``pending`` is emptied.

    A :class:`Known` record was the latest revision of its session when it was looked up.
    It is a duplicate unless a record before it in this file changed that session since:
    once the file has revised a session (or this chunk may), each is checked in order, and
    one that is no longer the latest is parsed and stored after all. ``dry_run``: nothing
    is written (``fmt`` is needed only for known records).
    """
    if dry_run:
        pending.clear()
        return
    prepared = [x for x in pending if isinstance(x, PreparedSession)]
    knowns = len(pending) - len(prepared)
    result = UpsertResult()
    if knowns == len(pending):
        if outcome.revised:
            with ws.write(bulk=True) as s:
                assert fmt is not None
                result = _store_in_order(s, pending, fmt, outcome.path)
        else:
            result.duplicates = knowns
    elif not knowns:
        with ws.write(bulk=True) as s:
            result = upsert_prepared(s, prepared)
    else:
        with ws.write(bulk=True) as s:
            revised_here = {x.key for x in prepared} & {
                x.key for x in pending if isinstance(x, Known)
            }
            if outcome.revised or revised_here:
                assert fmt is not None
                result = _store_in_order(s, pending, fmt, outcome.path)
            else:
                result = upsert_prepared(s, prepared)
                result.duplicates += knowns
    outcome.imported += result.imported
    outcome.duplicates += result.duplicates
    outcome.revised += result.revised
    pending.clear()


def _store_in_order(
    s: UnitOfWork, items: list[PreparedSession | Known], fmt: LineFormat, file: str
) -> UpsertResult:
    """Store a chunk one run of prepared or known records at a time, in file order."""
    result = UpsertResult()
    start = 0
    while start < len(items):
        kind = type(items[start])
        end = start
        while end < len(items) and type(items[end]) is kind:
            end += 1
        run = items[start:end]
        if kind is Known:
            result.add(_check_known([x for x in run if isinstance(x, Known)], s, fmt, file))
        else:
            result.add(upsert_prepared(s, [x for x in run if isinstance(x, PreparedSession)]))
        start = end
    return result


def _check_known(run: list[Known], s: UnitOfWork, fmt: LineFormat, file: str) -> UpsertResult:
    """Known records that are still the latest revision are duplicates; the first one that
    is not is parsed and stored, and those after it are checked again."""
    result = UpsertResult()
    while run:
        latest = latest_content_hashes(s, list(dict.fromkeys(x.key for x in run)))
        same = 0
        while same < len(run) and latest.get(run[same].key) == run[same].content_hash:
            same += 1
        result.duplicates += same
        if same == len(run):
            break
        changed = run[same]
        again = [
            x
            for x in prepare_line(PREPARATION, fmt, file, changed.line, changed.data)
            if isinstance(x, PreparedSession)
        ]
        result.add(upsert_prepared(s, again))
        run = run[same + 1 :]
    return result


KEEP_REPORTS = 20
"""Reports of imports run from the app kept in their folder (the newest)."""


def import_with_report(
    ws: Workspace,
    paths: Sequence[Path],
    reports: Path,
    *,
    progress: Progress = NO_PROGRESS,
) -> ImportSummary:
    """:func:`import_paths` as the app runs it: the rejected records go to a report file in
    the folder ``reports`` (kept only when something was rejected; the newest
    :data:`KEEP_REPORTS` are kept), named in ``summary.report``."""
    reports.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    path = reports / f"import-{stamp}.jsonl"
    summary = import_paths(ws, paths, progress=progress, report=path)
    if not summary.first_rejects:
        path.unlink(missing_ok=True)
        summary.report = None
    for old in sorted(reports.glob("import-*.jsonl"))[:-KEEP_REPORTS]:
        old.unlink(missing_ok=True)
    return summary
