"""The quick depth check of parsed records agrees with the general one."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reviewer.ingest.records import (
    MAX_DEPTH,
    RecordError,
    _parsed_too_deep,
    iter_raw_block,
    iter_raw_lines,
    line_blocks,
    parse_json,
    too_deep,
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text('[]{}"\\ab', max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner),
    max_leaves=30,
)


def _nest(depth: int, pattern: str) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = [value, 1] if pattern[i % len(pattern)] == "l" else {"k": value, "n": 2}
    return value


@settings(max_examples=300, deadline=None)
@given(JSON, st.integers(1, 6))
def test_the_quick_walk_agrees_with_the_general_one(value: Any, limit: int) -> None:
    assert _parsed_too_deep(value, limit) == too_deep(value, limit)


def test_records_around_the_limit() -> None:
    for depth in (MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 3 * MAX_DEPTH):
        for pattern in ("l", "d", "ld", "ddl"):
            value = _nest(depth, pattern)
            assert _parsed_too_deep(value) == too_deep(value) == (depth > MAX_DEPTH)
            data = json.dumps(value).encode()  # orjson writes at most 254 levels
            if depth > MAX_DEPTH:
                try:
                    parse_json(data)
                except RecordError as exc:
                    assert f"nested deeper than {MAX_DEPTH}" in str(exc)
                else:
                    raise AssertionError("a record over the limit was read")
            else:
                assert parse_json(data) == value


_LINES = st.lists(
    st.one_of(
        st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),
        st.just(b""),  # a blank line
        st.just(b"   "),
        st.just(b"x" * 120),  # longer than the record limit below
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(lines=_LINES, block=st.integers(1, 64), trailing=st.booleans())
def test_blocks_read_by_workers_give_every_line_once_with_its_number(
    lines: list[bytes], block: int, trailing: bool
) -> None:
    """Workers read a plain file in blocks cut here: together the blocks give exactly the
    lines, line numbers and rejections of reading the file in one go, wherever they are
    cut (in long lines, at blank lines, at a last line without a newline)."""
    data = b"\n".join(lines) + (b"\n" if trailing and lines else b"")
    assume(not data.startswith(b"\x1f\x8b"))  # gzip: read whole, never in blocks
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.jsonl"
        path.write_bytes(data)
        whole = list(iter_raw_lines(path, 100))
        blocks = list(line_blocks(path, block))
        pieces = [item for b in blocks for item in iter_raw_block(path, b, 100)]
    assert pieces == whole
    assert [b.start for b in blocks[1:]] == [b.end for b in blocks[:-1]]
    assert (blocks[-1].end if blocks else 0) == len(data)
