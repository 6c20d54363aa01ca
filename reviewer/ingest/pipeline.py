"""The streaming import: records → sessions → committed chunks, rejects reported."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from reviewer.domain.session import Session
from reviewer.ingest.detect import LineFormat
from reviewer.ingest.records import Record, RecordError, Rejected, iter_lines, read_document


@dataclass
class Reject:
    file: str
    line: int | str
    """Line number, or the entry / span id where lines don't apply."""
    reason: str


@dataclass
class FileOutcome:
    sessions: list[Session] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "record"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"{where}: {err.get('msg', 'invalid')}{more}"
    if isinstance(exc, AttributeError | IndexError):
        # a value of the wrong type where the format has an object or a list
        return f"unexpected shape: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


_SHAPE_ERRORS = (
    RecordError,
    ValidationError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    IndexError,
)
"""What a format's parser may raise on a record of the wrong shape: that record is rejected."""


def parse_file(path: Path, fmt: LineFormat, max_record_bytes: int) -> Iterator[Session | Reject]:
    """Sessions and rejects of one file, in file order."""
    name = str(path)
    if fmt.archive is not None:
        for got in fmt.archive(path, max_record_bytes):
            if isinstance(got, tuple):
                yield Reject(name, got[0], got[1])
            else:
                yield got
        return
    if fmt.whole_file:
        try:
            doc = read_document(path, max_record_bytes)
            yield from list(fmt.sessions(doc, name, 1))
        except _SHAPE_ERRORS as exc:
            yield Reject(name, 1, _reason(exc))
        return
    for item in iter_lines(path, max_record_bytes):
        if isinstance(item, Rejected):
            yield Reject(name, item.line, item.reason)
            continue
        assert isinstance(item, Record)
        if not fmt.looks_like(item.value):
            yield Reject(name, item.line, f"not a {fmt.name} record")
            continue
        try:
            yield from list(fmt.sessions(item.value, name, item.line))
        except _SHAPE_ERRORS as exc:
            yield Reject(name, item.line, _reason(exc))
