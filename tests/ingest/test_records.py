"""The quick depth check of parsed records agrees with the general one."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.ingest.records import MAX_DEPTH, RecordError, _parsed_too_deep, parse_json, too_deep

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
