"""Importing sessions: files of any known format, or sessions already parsed, stored in
committed chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import orjson
from pydantic import BaseModel, Field

from reviewer.domain.session import Session
from reviewer.ingest.detect import UnknownFormat, by_name, detect
from reviewer.ingest.pipeline import Reject, parse_file
from reviewer.ingest.records import DEFAULT_MAX_RECORD_BYTES
from reviewer.services.import_workers import Workers, default_workers, prepare_lines
from reviewer.services.progress import NO_PROGRESS, Cancelled, Progress
from reviewer.store.sessions import PreparedSession, UpsertResult, prepare_session, upsert_prepared
from reviewer.store.workspace import Workspace

CHUNK = 5000
"""Sessions per committed chunk: what a stop can lose, to be imported again. Fewer, larger
commits cost the importing process less (each one syncs and checkpoints the WAL)."""
FIRST_CHUNK = 500
"""The first chunk of an import is this small, and each next one twice the last up to
``chunk``: progress shows early, and a prompt Cancel stops after a small chunk."""
CHUNK_BYTES = 32_000_000
"""A chunk is committed sooner when its compressed content reaches this."""


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


class ImportSummary(BaseModel):
    """The result of `reviewer import` (printed as JSON with --json)."""

    imported: int = 0
    duplicates: int = 0
    revised: int = 0
    rejected: int = 0
    unreadable: int = 0
    files: list[FileSummary] = Field(default_factory=list)
    cancelled: bool = False

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
) -> ImportSummary:
    """Import files into the workspace, committing chunks of up to ``chunk`` sessions.

    Bad records are rejected with file, line and reason (written to ``report`` as JSON
    Lines) and never stop the import. A stop (Cancel, Ctrl-C, crash) leaves whole chunks
    stored; importing again completes the import and adds nothing twice.

    JSON Lines files are parsed by ``workers`` processes (default: one per CPU up to 3, for
    files of 32 MB and more; 0: none) while this one commits their chunks in file order.
    """
    summary = ImportSummary()
    rejects: list[Reject] = []
    done = 0
    limit = min(chunk, FIRST_CHUNK)
    pool = Workers(default_workers() if workers is None else workers)
    try:
        with pool:
            for path in paths:
                outcome = FileSummary(path=str(path))
                summary.files.append(outcome)
                try:
                    line_format = detect(path) if fmt == "auto" else by_name(fmt)
                except (UnknownFormat, OSError) as exc:
                    outcome.error = (
                        str(exc)
                        if isinstance(exc, UnknownFormat)
                        else (f"{path}: cannot read ({exc.strerror or exc})")
                    )
                    summary.unreadable += 1
                    continue
                outcome.format = line_format.name
                items: Iterator[PreparedSession | Reject]
                if line_format.whole_file or line_format.archive is not None:
                    items = _prepared(parse_file(path, line_format, max_record_bytes))
                elif pool.wanted(path, line_format, explicit=workers is not None):
                    items = pool.prepared(path, line_format, max_record_bytes)
                else:
                    items = prepare_lines(path, line_format, max_record_bytes)
                pending: list[PreparedSession] = []
                size = 0
                for item in items:
                    if isinstance(item, Reject):
                        rejects.append(item)
                        outcome.rejected += 1
                        continue
                    pending.append(item)
                    size += len(item.content)
                    if len(pending) >= limit or size >= CHUNK_BYTES:
                        size, limit = 0, min(chunk, limit * 2)
                        done += _flush(ws, pending, outcome)
                        progress.update(done, None, f"importing {path.name}")
                if pending:
                    done += _flush(ws, pending, outcome)
                    progress.update(done, None, f"importing {path.name}")
    except Cancelled:
        summary.cancelled = True
    finally:
        for f in summary.files:
            summary.imported += f.imported
            summary.duplicates += f.duplicates
            summary.revised += f.revised
            summary.rejected += f.rejected
        if report is not None:
            write_report(report, rejects, summary)
    return summary


def _prepared(items: Iterator[Session | Reject]) -> Iterator[PreparedSession | Reject]:
    # Each session as soon as it is parsed: a prepared session is a few objects, a Session
    # hundreds (a chunk of 500 of those cost more in garbage collection than in parsing).
    for item in items:
        yield item if isinstance(item, Reject) else prepare_session(item)


def _flush(ws: Workspace, pending: list[PreparedSession], outcome: FileSummary) -> int:
    """Commit one chunk; return how many records it held."""
    with ws.write(bulk=True) as s:
        result = upsert_prepared(s, pending)
    outcome.imported += result.imported
    outcome.duplicates += result.duplicates
    outcome.revised += result.revised
    count = len(pending)
    pending.clear()
    return count


def write_report(path: Path, rejects: Sequence[Reject], summary: ImportSummary) -> None:
    """One JSON object per rejected record: file, line, reason; unreadable files too."""
    with path.open("wb") as out:
        for f in summary.files:
            if f.error:
                out.write(orjson.dumps({"file": f.path, "line": None, "reason": f.error}) + b"\n")
        for r in rejects:
            out.write(orjson.dumps({"file": r.file, "line": r.line, "reason": r.reason}) + b"\n")
