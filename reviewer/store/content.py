"""The stored form of a session: canonical JSON, its content hash, zlib compression and the
indexed summary columns. No database here, so import workers can prepare sessions cheaply."""

from __future__ import annotations

import hashlib
import operator
import re
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from isal import isal_zlib
from pydantic import TypeAdapter

from reviewer.domain import session_dict
from reviewer.domain.session import UNRECOGNISED, Role, Session, Span, Step, session_summary

COMPRESS_LEVEL = 1
"""Level of the zlib stream stored as content, written with ISA-L (``isal``), which any zlib
reads. On generated sessions ISA-L's level 1 compresses 4.3x in a fifth of the time of
zlib's level 6 (4.5x) and a third of zlib's level 1 (4.2x)."""

COLUMNS: tuple[str, ...] = (
    "source_format",
    "source_file",
    "source_position",
    "first_user_text",
    *session_summary(Session(id="-")),
)
"""The indexed ``sessions`` columns a prepared session carries values for, in order:
provenance, the first user text, then the filterable summary."""
_summary_values = operator.itemgetter(*COLUMNS[4:])


@dataclass(frozen=True, slots=True)
class PreparedSession:
    """A session in the form the store writes: key, content hash, the indexed columns,
    zlib-compressed canonical JSON, tags and judge scores. Small and picklable: a chunk of
    them costs little to keep (a chunk of full ``Session`` objects costs more in garbage
    collection than parsing them did) or to send between processes."""

    key: str
    content_hash: str
    """SHA-256 of what a reviewer sees: the canonical JSON with sorted keys, no ``source``."""
    columns: tuple[Any, ...]
    """Values of the indexed ``sessions`` columns named in :data:`COLUMNS`."""
    content: bytes
    tags: tuple[str, ...]
    scores: tuple[tuple[str, float], ...]
    counts: tuple[int, ...] = ()
    """What an import reports of it: steps by role (:data:`COUNTED_ROLES`), tool calls,
    tool errors, steps kept raw (their shape not recognised)."""
    unrecognised: tuple[str, ...] = ()
    """The first JSON paths of what was kept raw."""
    record_hash: str | None = None
    """:func:`record_hash` of the raw record it was read from, where one record is one
    session (canonical JSON Lines): a re-import recognises that record without parsing it."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as a call with the fields: half the cost of pickle's way for slots.
        fields = (
            self.key,
            self.content_hash,
            self.columns,
            self.content,
            self.tags,
            self.scores,
            self.counts,
            self.unrecognised,
            self.record_hash,
        )
        return (PreparedSession, fields)


COUNTED_ROLES = (Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL)
KEEP_PATHS = 3


def step_counts(steps: list[Any], plain: bool = False) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """:attr:`PreparedSession.counts` and ``unrecognised`` of a session's steps (``Step``
    objects, or validated dicts when ``plain``). Runs for every imported session: one plain
    loop (about 5 µs a session, under 3% of an import)."""
    by_role = dict.fromkeys(COUNTED_ROLES, 0)
    calls = errors = 0
    noted: list[dict[str, Any]] = []
    for step in steps:
        if plain:
            role, n, err, meta = (
                step["role"],
                step["tool_calls"],
                step["is_error"],
                step["metadata"],
            )
        else:
            role, n, err, meta = step.role, step.tool_calls, step.is_error, step.metadata
        by_role[role] += 1
        if n:
            calls += len(n)
        if err and role is Role.TOOL:
            errors += 1
        if meta:
            noted.append(meta)
    paths: list[str] = []
    raw = 0
    for meta in noted:
        if UNRECOGNISED in meta:
            raw += 1
            found = meta[UNRECOGNISED]
            paths += [str(p) for p in found] if isinstance(found, list) else [str(found)]
    return (*by_role.values(), calls, errors, raw), tuple(paths[:KEEP_PATHS])


_RECORD_HASH_SEED = hashlib.sha256(b"agentops-reviewer raw record v1\n")
"""Changing how a record becomes a stored session changes this seed: records imported
before are then parsed again instead of being taken for duplicates."""


def record_hash(data: bytes) -> str:
    """Hash of one raw record (surrounding whitespace ignored), 128 bits as hex."""
    h = _RECORD_HASH_SEED.copy()
    h.update(data.strip())
    return h.hexdigest()[:32]


def prepare_session(session: Session) -> PreparedSession:
    """Serialise a session once: the same dump is hashed (without provenance) and stored."""
    return _prepared(
        session.id,
        _canonical_json(session.model_dump(mode="json")),
        (session.source.format, session.source.file, session.source.position),
        first_user_text(session),
        session_summary(session),
        session.tags,
        session.signals.judge_scores,
        step_counts(session.steps),
    )


def prepare_session_dict(
    record: session_dict.SessionDict, raw_hash: str | None = None
) -> PreparedSession:
    """:func:`prepare_session` of a session validated as a plain dict: the same result
    (``raw_hash``: the :func:`record_hash` of the record it was read from)."""
    # orjson writes pydantic's datetimes as pydantic does (naive, Z for UTC, or the offset)
    # and Role as its value: no need for pydantic's slower JSON-mode dump (the property
    # test in tests/domain/test_session_dict.py holds the two to the same bytes).
    source = record["source"]
    return _prepared(
        record["id"],
        _canonical_json(record, plain=True),
        (source["format"], source["file"], source["position"]),
        session_dict.first_user_text(record),
        session_dict.summary(record),
        record["tags"],
        record["signals"]["judge_scores"],
        step_counts(record["steps"], plain=True),
        raw_hash,
    )


def _prepared(
    key: str,
    dumped: tuple[bytes, bytes],
    source: tuple[Any, Any, Any],
    first_text: str | None,
    summary: dict[str, Any],
    tags: list[str],
    scores: dict[str, float],
    counted: tuple[tuple[int, ...], tuple[str, ...]] = ((), ()),
    raw_hash: str | None = None,
) -> PreparedSession:
    body, content = dumped
    return PreparedSession(
        key=key,
        content_hash=hashlib.sha256(body).hexdigest(),
        columns=(*source, first_text, *_summary_values(summary)),
        content=isal_zlib.compress(content, COMPRESS_LEVEL),
        tags=tuple(dict.fromkeys(t[:200] for t in tags)),
        scores=tuple(dict((k[:200], v) for k, v in scores.items()).items()),
        counts=counted[0],
        unrecognised=counted[1],
        record_hash=raw_hash,
    )


_SORTED = orjson.OPT_SORT_KEYS
_SORTED_UTC_Z = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z


def _canonical_json(data: dict[str, Any], plain: bool = False) -> tuple[bytes, bytes]:
    """The sorted-keys JSON of ``data`` without ``source`` (hashed) and with it (stored),
    from one serialisation: the keys before and after ``source`` are dumped once each.
    ``data`` holds JSON values, or also pydantic's datetimes and enums when ``plain``."""
    option = _SORTED_UTC_Z if plain else _SORTED
    source = orjson.dumps(data["source"], option=option)
    head = orjson.dumps({k: v for k, v in data.items() if k < "source"}, option=option)
    tail = orjson.dumps({k: v for k, v in data.items() if k > "source"}, option=option)
    before, after = head[1:-1], tail[1:-1]  # without the braces; empty for {}
    body = b"{" + b",".join(p for p in (before, after) if p) + b"}"
    content = b"{" + b",".join(p for p in (before, b'"source":' + source, after) if p) + b"}"
    return body, content


PIECEWISE_FROM = 1 << 20
"""Sessions whose JSON is larger than this are validated a slice of steps at a time."""
PIECE_BYTES = 1 << 18
"""About this much JSON (whole steps or spans) is validated per call when piecewise: the GIL
held about half a millisecond (0.6-1.3 ms at load average 10; 512 KB took 1.3-2.2 ms)."""
_PIECE = 64
"""Steps (or spans) validated per call when the JSON is parsed whole first."""
_STEPS: TypeAdapter[list[Step]] = TypeAdapter(list[Step])
_SPANS: TypeAdapter[list[Span]] = TypeAdapter(list[Span])
_STEPS_END = b'],"tags":['
"""What follows the steps array in the canonical JSON (keys sorted: ``tags`` comes last,
and a list of strings holds no unescaped quote, so the last occurrence is the real one)."""
_STEPS_START = re.compile(rb',"started_at":(?:null|"[^"\\]*"),"steps":\[')
_SPANS_START = b',"spans":['
_STEP_AFTER = b']},{"content":'
"""Between two steps: a step ends with its ``tool_calls`` list and begins with ``content``."""
_SPAN_AFTER = b'},{"attributes":'


def content_json(data: bytes) -> bytes:
    """The canonical JSON of the session stored as ``data`` (the one place stored content
    is decompressed). ISA-L's decompression gives the same bytes as zlib's in less than half
    the time, and lets go of the GIL meanwhile (zlib's holds it while it grows its output)."""
    try:
        return isal_zlib.decompress(data)
    except isal_zlib.error as exc:  # type: ignore[misc]  # damaged: fails as it always did
        raise zlib.error(str(exc)) from None


def canonical_json(session: Session) -> bytes:
    """The canonical JSON of ``session``, as the store keeps it."""
    return content_json(prepare_session(session).content)


def decode_content(data: bytes) -> Session:
    """The session stored as ``data``.

    A large session is validated a slice of steps (and spans) at a time: pydantic holds the
    GIL for the whole of one call, and so does a JSON parser (``orjson.loads`` of 13 MB,
    20 ms), which would freeze the GUI thread while a worker opens the session. The slices
    are cut from the stored JSON itself, between whole steps (see :func:`_slices`), and each
    goes through the same JSON validation as a whole session would, so the result is the
    same. Whatever the slicing does not recognise is read the slower way, parsed whole.
    """
    raw = content_json(data)
    if len(raw) < PIECEWISE_FROM:
        return Session.model_validate_json(raw)
    try:
        return _decode_sliced(raw)
    except ValueError:  # not cut where expected (pydantic's ValidationError is one)
        return _decode_parsed(raw)


def _decode_sliced(raw: bytes) -> Session:
    """The session from its canonical JSON, the steps and spans validated in slices cut
    between them; ValueError when the JSON is not laid out as canonical JSON is."""
    steps_end = raw.rfind(_STEPS_END)
    found = _STEPS_START.search(raw)
    if found is None or steps_end < found.end() or raw[found.start() - 1 : found.start()] != b"]":
        raise ValueError("steps not where canonical JSON has them")
    spans_end = found.start() - 1
    spans_start = raw.rfind(_SPANS_START, 0, spans_end) + len(_SPANS_START)
    if spans_start < len(_SPANS_START):
        raise ValueError("spans not where canonical JSON has them")
    steps_start = found.end()
    head = b"".join(
        (raw[:spans_start], raw[spans_end:steps_start], raw[steps_end:])
    )  # the session with no steps and no spans: small, validated in one call
    session = Session.model_validate_json(head)
    # A cut taken for one between steps but lying inside a nested value (a dict in some
    # metadata, say) leaves a slice with an unclosed bracket: invalid JSON, a ValueError.
    session.steps = _slices(_STEPS, raw, steps_start, steps_end, _STEP_AFTER, 2)
    session.spans = _slices(_SPANS, raw, spans_start, spans_end, _SPAN_AFTER, 1)
    return session


def _slices(
    adapter: TypeAdapter[list[Any]], raw: bytes, start: int, end: int, sep: bytes, cut: int
) -> list[Any]:
    """Validate the JSON array items in ``raw[start:end]`` about :data:`PIECE_BYTES` at a
    time, cutting only before an occurrence of ``sep`` (``cut`` bytes into it)."""
    out: list[Any] = []
    if start == end:
        return out
    piece = start
    at = raw.find(sep, piece + PIECE_BYTES, end)
    while at != -1:
        out.extend(adapter.validate_json(b"[" + raw[piece : at + cut] + b"]"))
        piece = at + cut + 1  # past the comma
        at = raw.find(sep, piece + PIECE_BYTES, end)
    out.extend(adapter.validate_json(b"[" + raw[piece:end] + b"]"))
    return out


def _decode_parsed(raw: bytes) -> Session:
    """The session from any JSON: parsed whole, then its steps and spans validated a slice
    at a time."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:  # e.g. an integer beyond 64 bits: pydantic reads it
        return Session.model_validate_json(raw)
    if not isinstance(doc, dict):
        return Session.model_validate_json(raw)
    steps, spans = doc.pop("steps", None), doc.pop("spans", None)
    if not isinstance(steps, list | None) or not isinstance(spans, list | None):
        return Session.model_validate_json(raw)
    session = Session.model_validate_json(orjson.dumps(doc))
    if steps is not None:
        session.steps = _pieces(_STEPS, steps)
    if spans is not None:
        session.spans = _pieces(_SPANS, spans)
    return session


def _pieces(adapter: TypeAdapter[list[Any]], items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(items), _PIECE):
        out.extend(adapter.validate_json(orjson.dumps(items[i : i + _PIECE])))
    return out


def first_user_text(session: Session) -> str | None:
    """The start of the first user message, for lists and text search."""
    for step in session.steps:
        if step.role is Role.USER and step.content.strip():
            return " ".join(step.content.split())[:300]
    return None
