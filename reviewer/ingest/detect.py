"""Format detection from content (never from the file name)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reviewer.domain.session import Session
from reviewer.ingest import (
    canonical,
    inspect_ai,
    langfuse,
    langsmith,
    mlflow,
    openai_agents,
    openai_chat,
    otlp,
)
from reviewer.ingest.records import RecordError, head_bytes, parse_json, read_document_sized


@dataclass(frozen=True)
class LineFormat:
    """A JSON Lines format: each record becomes zero or more sessions."""

    name: str
    looks_like: Callable[[Any], bool]
    sessions: Callable[[Any, str, int], Iterator[Session]]
    hint: bytes
    """A byte string a first record of this format contains (for over-long first lines)."""
    whole_file: bool = False
    """Set by detection when the file is one JSON document rather than JSON Lines."""
    archive: Callable[[Path, int], Iterator[Session | tuple[str, str]]] | None = None
    """For zip-based files: sessions, or (entry, reason) for what was refused."""
    document: Any = field(default=None, compare=False, repr=False)
    """The whole-file document as detection parsed it, so that it is not parsed twice."""
    document_bytes: int = 0
    """Its size in bytes (the import's own size limit may be lower than detection's)."""
    span_records: Callable[[Any, str, int], list[dict[str, Any]]] | None = None
    """For span-based formats: a record's spans, which an import collects over all its
    files and gives to ``assemble`` (``reviewer.ingest.assembly``)."""
    assemble: Callable[[list[dict[str, Any]]], Iterator[Session]] | None = None
    extend: Callable[[Session, Session], Session] | None = None
    """A stored session of this format with a later import's session of the same id."""


LINE_FORMATS: tuple[LineFormat, ...] = (
    LineFormat(canonical.NAME, canonical.looks_like, canonical.sessions, b'"steps"'),
    LineFormat(openai_chat.NAME, openai_chat.looks_like, openai_chat.sessions, b'"messages"'),
    LineFormat(langfuse.NAME, langfuse.looks_like, langfuse.sessions, b'"observations"'),
    LineFormat(
        otlp.NAME,
        otlp.looks_like,
        otlp.sessions,
        b'"resourceSpans"',
        span_records=otlp.records,
        assemble=otlp.assemble,
        extend=otlp.extend,
    ),
    LineFormat(langsmith.NAME, langsmith.looks_like, langsmith.sessions, b'"run_type"'),
    LineFormat(
        openai_agents.NAME,
        openai_agents.looks_like,
        openai_agents.sessions,
        b'"span_data"',
        span_records=openai_agents.records,
        assemble=otlp.assemble,
        extend=otlp.extend,
    ),
    LineFormat(
        mlflow.NAME,
        mlflow.looks_like,
        mlflow.sessions,
        b"mlflow.traceRequestId",
        span_records=mlflow.records,
        assemble=otlp.assemble,
        extend=otlp.extend,
    ),
    LineFormat(
        inspect_ai.NAME,
        inspect_ai.looks_like,
        inspect_ai.sessions,
        b'"eval"',
        archive=inspect_ai.read_archive,
    ),
)
KNOWN = tuple(f.name for f in LINE_FORMATS)


class UnknownFormat(Exception):
    """The file's content matches no format we read."""


def by_name(name: str) -> LineFormat:
    for f in LINE_FORMATS:
        if f.name == name:
            return f
    raise UnknownFormat(f"unknown format {name!r}; known formats: {', '.join(KNOWN)}")


def detect(path: Path) -> LineFormat:
    head = head_bytes(path)
    if not head.strip():
        raise UnknownFormat(f"{path}: the file is empty")
    if head.startswith(inspect_ai.ZIP_MAGIC):
        return by_name(inspect_ai.NAME)
    first_line = head.lstrip().split(b"\n", 1)[0]
    value: Any = None
    try:
        value = parse_json(first_line)
    except RecordError:
        value = None
    for f in LINE_FORMATS:
        if value is not None and f.looks_like(value):
            return f
    problem: str | None = None
    if value is None and head.lstrip()[:1] in (b"{", b"["):
        try:
            doc, size = read_document_sized(path)
        except RecordError as exc:
            doc, size = None, 0
            problem = str(exc)
        for f in LINE_FORMATS:
            if doc is not None and f.looks_like(doc):
                return replace(f, whole_file=True, archive=None, document=doc, document_bytes=size)
    if value is None:
        for f in LINE_FORMATS:
            if f.hint in first_line:
                return f
    if problem is not None:
        raise UnknownFormat(f"{path}: cannot be read: {problem}")
    raise UnknownFormat(
        f"{path}: not a format AgentOps Reviewer reads; known formats: {', '.join(KNOWN)}"
    )
