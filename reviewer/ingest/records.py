"""Streaming record reader: plain or gzip files, one JSON value per line, with every
untrusted-input guard applied before a record reaches a parser."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from reviewer.ingest.strict_json import LossyRecord, check_lossless

DEFAULT_MAX_RECORD_BYTES = 50_000_000
MAX_DEPTH = 200
"""One nesting limit on every path. orjson reads up to 1,024 levels but writes only 254,
and pydantic's JSON reader stops near 201: a record deeper than this could be read but not
validated or stored, so it is refused up front, with the same message everywhere."""
PARSER_DEPTH = 1024
"""orjson's own limit (it refuses deeper documents itself, before we walk them)."""
GZIP_MAGIC = b"\x1f\x8b"
READ_BUFFER = 1 << 20


class RecordError(ValueError):
    """A record that cannot be read; the message is one line for the import report."""


@dataclass(frozen=True)
class Record:
    """One parsed JSON value and where it came from."""

    line: int
    value: Any


@dataclass(frozen=True)
class Rejected:
    """A record that was refused, with its place and a one-line reason."""

    line: int
    reason: str


def is_gzip(path: Path) -> bool:
    """Whether ``path`` is gzip-compressed (by content, not by name)."""
    with path.open("rb") as probe:
        return probe.read(2) == GZIP_MAGIC


def open_binary(path: Path) -> BinaryIO:
    """Open ``path`` for reading, transparently un-gzipping (detected by content)."""
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    # A large buffer: reading records line by line costs a quarter of the default's.
    return path.open("rb", buffering=READ_BUFFER)


def head_bytes(path: Path, size: int = 65536) -> bytes:
    """The first bytes of the (decompressed) file, for format detection."""
    got = bytearray()
    with open_binary(path) as f:
        try:
            while len(got) < size:
                piece = f.read(min(4096, size - len(got)))
                if not piece:
                    break
                got += piece
        except (OSError, EOFError, zlib.error):
            pass  # a damaged tail: detect from what could be read
    return bytes(got)


def parse_json(data: bytes) -> Any:
    """Parse one JSON document with the shared limits; raise :class:`RecordError`."""
    try:
        value = orjson.loads(data)  # orjson checks the UTF-8 itself
    except orjson.JSONDecodeError:
        value = _parse_or_explain(data)
    # Only a document with more opening brackets than the limit can nest deeper than it:
    # counting them costs far less than walking the parsed value.
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and _parsed_too_deep(value):
        raise RecordError(f"nested deeper than {MAX_DEPTH} levels")
    try:
        check_lossless(data, value)  # duplicate keys, integers beyond 64 bits
    except LossyRecord as exc:
        raise RecordError(str(exc)) from None
    return value


_CONTAINERS = {dict, list}


def _parsed_too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """:func:`too_deep` for a value orjson parsed (plain dicts and lists only), a level at a
    time: half the time of the general walk on large records."""
    level = [value] if type(value) in _CONTAINERS else []
    depth = 1
    while level:
        if depth > limit:
            return True
        deeper: list[Any] = []
        for node in level:
            children = node.values() if type(node) is dict else node
            deeper += [child for child in children if type(child) in _CONTAINERS]
        level = deeper
        depth += 1
    return False


def _parse_or_explain(data: bytes) -> Any:
    """Parse what orjson refused as bytes, or say why in one line (:class:`RecordError`)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        msg = str(exc)
        if "recursion" in msg.lower() or "depth" in msg.lower():
            raise RecordError(f"nested deeper than {MAX_DEPTH} levels") from None
        if "surrogate" in msg.lower():
            raise RecordError("contains a lone UTF-16 surrogate (\\ud800-\\udfff)") from None
        raise RecordError(f"malformed JSON: {msg.splitlines()[0]}") from None


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels (no recursion)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


RawLine = tuple[int, bytes]
"""A line number and the bytes of that line, not parsed yet."""


def iter_raw_lines(
    path: Path, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES, where: list[int] | None = None
) -> Iterator[RawLine | Rejected]:
    """Yield each non-blank line of a JSON Lines file, unparsed, or its rejection.

    Memory stays bounded: a line longer than ``max_record_bytes`` is skipped in pieces,
    never held whole. A truncated gzip stream ends the file with one rejection.
    ``where[0]``, when given, follows how far into the file (its compressed bytes, for
    gzip) the lines yielded so far reach: for progress.
    """
    with open_binary(path) as f:
        if where is None:
            yield from _raw_lines(f, max_record_bytes, 0, None)
            return
        raw = getattr(f, "fileobj", None) or f  # a gzip file's compressed stream
        for item in _raw_lines(f, max_record_bytes, 0, None):
            where[0] = raw.tell()
            yield item


def iter_raw_block(
    path: Path, block: Block, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[RawLine | Rejected]:
    """:func:`iter_raw_lines` of one block of a plain (not gzip) file, as
    :func:`line_blocks` cut it: line numbers are those of the whole file."""
    with path.open("rb", buffering=READ_BUFFER) as f:
        f.seek(block.start)
        yield from _raw_lines(f, max_record_bytes, block.first_line - 1, block.end - block.start)


def _raw_lines(
    f: BinaryIO, max_record_bytes: int, line_no: int, size: int | None
) -> Iterator[RawLine | Rejected]:
    """The lines of ``f`` from where it stands, up to ``size`` bytes (None: to the end);
    ``line_no`` is the number of the line before the first."""
    left = size
    while left is None or left > 0:
        try:
            chunk = f.readline(max_record_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            yield Rejected(line_no + 1, f"file ends early or is damaged ({exc})")
            return
        if not chunk:
            return
        line_no += 1
        if left is not None:
            left -= len(chunk)
        if len(chunk) > max_record_bytes and not chunk.endswith(b"\n"):
            # Skip the rest of this over-long line without keeping it.
            try:
                while True:
                    rest = f.readline(1 << 20)
                    if left is not None:
                        left -= len(rest)
                    if not rest or rest.endswith(b"\n"):
                        break
            except (OSError, EOFError, zlib.error):
                pass
            yield Rejected(line_no, f"record larger than {max_record_bytes:,} bytes")
            continue
        if not chunk.strip():
            continue
        yield line_no, chunk


@dataclass(frozen=True, slots=True)
class Block:
    """Whole lines of a file: bytes ``start`` to ``end``, the first of them numbered
    ``first_line``."""

    start: int
    end: int
    first_line: int


def line_blocks(path: Path, size: int) -> Iterator[Block]:
    """Cut a plain (not gzip) file into blocks of whole lines of about ``size`` bytes (a
    line longer than that is a block of its own), reading it once, ``size`` at a time.
    Workers then read their blocks themselves: the lines never cross a process boundary."""
    buf = bytearray(size)
    start = 0  # of the block being cut
    first_line = 1
    pos = 0  # bytes read so far
    with path.open("rb", buffering=0) as f:
        while True:
            got = f.readinto(buf)
            if not got:
                break
            cut = buf.rfind(b"\n", 0, got)
            if cut < 0:  # inside a long line: the block goes on
                pos += got
                continue
            # Earlier reads of this block held no newline: its lines end in this one.
            end = pos + cut + 1
            yield Block(start, end, first_line)
            first_line += buf.count(b"\n", 0, cut + 1)
            start, pos = end, pos + got
    if pos > start:
        yield Block(start, pos, first_line)


def iter_lines(
    path: Path, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[Record | Rejected]:
    """Yield each non-blank line of a JSON Lines file as a parsed record or a rejection
    (see :func:`iter_raw_lines`)."""
    for item in iter_raw_lines(path, max_record_bytes):
        if isinstance(item, Rejected):
            yield item
            continue
        line_no, data = item
        try:
            yield Record(line_no, parse_json(data))
        except RecordError as exc:
            yield Rejected(line_no, str(exc))


def read_document(path: Path, max_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Any:
    """Read a whole-file JSON document (capped at ``max_bytes``)."""
    return read_document_sized(path, max_bytes)[0]


def read_document_sized(path: Path, max_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> tuple[Any, int]:
    """:func:`read_document` and the document's size in bytes."""
    with open_binary(path) as f:
        try:
            data = f.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise RecordError(f"file ends early or is damaged ({exc})") from None
    if len(data) > max_bytes:
        raise RecordError(f"document larger than {max_bytes:,} bytes")
    return parse_json(data), len(data)
