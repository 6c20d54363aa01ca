"""Trace assembly: the records of a span-based format (OTLP traces and logs) are collected
over all the files of one import run, then turned into sessions at once, so that the spans
of a trace that arrive over many lines and files, in any order, form one session.

Other formats stream record by record and never come here. The records kept are the
flattened spans (their messages still as recorded), so memory grows with the span data of
the run, not with the number of other records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from reviewer.domain.session import Session
from reviewer.ingest.detect import LineFormat
from reviewer.ingest.pipeline import _SHAPE_ERRORS, Reject, _reason
from reviewer.ingest.records import RecordError, Rejected, iter_raw_lines, parse_json, read_document

EVERY = 1000
"""Records between two progress reports while span records are collected."""


class SpanAssembly:
    """The span records of one import run, by format, until every file is read."""

    def __init__(self) -> None:
        self._items: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self._formats: dict[str, LineFormat] = {}

    def __bool__(self) -> bool:
        return bool(self._items)

    def read(
        self,
        path: Path,
        fmt: LineFormat,
        max_record_bytes: int,
        where: list[int] | None = None,
        every: Callable[[], None] | None = None,
    ) -> Iterator[Reject]:
        """Collect the records of one file; yield what was rejected. ``where[0]`` follows
        how far into the file the records read reach, and ``every`` is called after each
        :data:`EVERY` records (for progress and Cancel)."""
        assert fmt.span_records is not None
        name = str(path)
        items = self._items.setdefault(fmt.name, {})
        self._formats[fmt.name] = fmt
        for n, (line, value) in enumerate(self._values(path, fmt, max_record_bytes, where), 1):
            if every is not None and n % EVERY == 0:
                every()
            if isinstance(value, Reject):
                yield value
                continue
            if not fmt.looks_like(value):
                yield Reject(name, line, f"not a {fmt.name} record")
                continue
            try:
                found = fmt.span_records(value, name, line)
            except _SHAPE_ERRORS as exc:
                yield Reject(name, line, _reason(exc))
                continue
            for item in found:
                # The same span read twice (a file given twice, a re-exported batch) is
                # kept once; a log record once per event.
                items[_identity(item)] = item

    @staticmethod
    def _values(
        path: Path, fmt: LineFormat, max_record_bytes: int, where: list[int] | None
    ) -> Iterator[tuple[int, Any]]:
        name = str(path)
        if fmt.whole_file:
            try:
                if fmt.document is not None and fmt.document_bytes <= max_record_bytes:
                    yield 1, fmt.document
                else:
                    yield 1, read_document(path, max_record_bytes)
            except RecordError as exc:
                yield 1, Reject(name, 1, str(exc))
            return
        for item in iter_raw_lines(path, max_record_bytes, where):
            if isinstance(item, Rejected):
                yield item.line, Reject(name, item.line, item.reason)
                continue
            line, data = item
            try:
                yield line, parse_json(data)
            except RecordError as exc:
                yield line, Reject(name, line, str(exc))

    def sessions(self) -> Iterator[tuple[LineFormat, Session]]:
        """The sessions of everything read, with their format (to extend stored ones)."""
        for name, items in self._items.items():
            fmt = self._formats[name]
            assert fmt.assemble is not None
            for session in fmt.assemble(list(items.values())):
                yield fmt, session


def _identity(item: dict[str, Any]) -> tuple[Any, ...]:
    if item.get("log"):
        event = item["event"]
        return ("log", item["trace"], item["id"], event["name"], event["time"], repr(event["body"]))
    return ("span", item["trace"], item["id"])
