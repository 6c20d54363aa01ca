"""The plain-dict fast path of canonical records gives exactly what ``Session`` gives: the
same records accepted, and the same stored row, content and hash for each."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from reviewer.domain import session_dict
from reviewer.domain.session import Session, session_summary
from reviewer.ingest import canonical
from reviewer.store.content import first_user_text, prepare_session, prepare_session_dict
from reviewer.synth.generator import generate_sessions, session_line
from tests.helpers.factories import make_session

BASES = [
    orjson.loads(session_line(s))
    for s in [*generate_sessions(12, seed=21), make_session("plain", tool_error=True)]
]
MINIMAL: dict[str, Any] = {"schema_version": 1, "id": "m"}

TIMES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2026-10-25T00:56:48.578497Z",
            "2026-10-25T00:56:48Z",
            "2026-10-25T00:56:48+00:00",
            "2026-10-25T02:56:48.5+02:00",
            "2026-10-24T19:26:48-05:30",
            "2026-10-25T00:56:48.100000",
            "2026-10-25",
            "0001-01-01T00:00:00",
            "not a time",
            "",
        ]
    ),
    st.integers(min_value=-(10**10), max_value=10**11),
    st.floats(min_value=0, max_value=2e9, allow_nan=False),
)
INTS = st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what orjson reads as ints
ODD = st.one_of(
    TIMES,
    st.booleans(),
    st.text(max_size=5),
    INTS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(INTS, max_size=2),
    st.dictionaries(st.text(max_size=3), INTS, max_size=2),
    st.just(" tag "),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (dict keys and list indexes)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def records(draw: st.DrawFn) -> Any:
    """A canonical record, then a few edits: values replaced, keys dropped or added."""
    record = copy.deepcopy(draw(st.sampled_from([*BASES, MINIMAL])))
    for _ in range(draw(st.integers(0, 4))):
        paths = [p for p in _paths(record) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = record
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(ODD)
        elif action == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "role", "tool_calls", "is_error"]))] = draw(ODD)
    return record


def _both(value: Any) -> tuple[Session | None, session_dict.SessionDict | None]:
    try:
        slow: Session | None = next(canonical.sessions(copy.deepcopy(value), "/in.jsonl", 7))
    except ValidationError:
        slow = None
    fast = canonical.fast_record(copy.deepcopy(value), "/in.jsonl", 7)
    return slow, fast


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_the_fast_path_accepts_and_stores_what_session_does(value: Any) -> None:
    slow, fast = _both(value)
    assert (slow is None) == (fast is None)
    if slow is not None and fast is not None:
        assert prepare_session_dict(fast) == prepare_session(slow)


@pytest.mark.parametrize("index", range(len(BASES)))
def test_generated_and_handmade_sessions_store_the_same(index: int) -> None:
    slow, fast = _both(BASES[index])
    assert slow is not None and fast is not None
    assert prepare_session_dict(fast) == prepare_session(slow)
    assert session_dict.summary(fast) == session_summary(slow)
    assert session_dict.first_user_text(fast) == first_user_text(slow)
    assert session_dict.dump_json(fast) == slow.model_dump(mode="json")


def test_edge_values_store_the_same() -> None:
    value = copy.deepcopy(BASES[-1])
    value["tags"] = [" billing ", "billing", "", "refund"]
    value["started_at"] = "2026-10-25T02:56:48.5+02:00"  # an offset: pydantic writes it
    value["metrics"] = {"cost_usd": 1, "input_tokens": 12}
    value["metadata"] = {"big": 2**64 - 1, "small": -(2**63), "nested": [{"a": 1e300}]}
    value["signals"] = {"judge_scores": {"x" * 300: 1, "ok": 0.5}}
    value["source"] = {"format": "canonical", "ids": {"trace": "t"}}
    slow, fast = _both(value)
    assert slow is not None and fast is not None
    prepared = prepare_session_dict(fast)
    assert prepared == prepare_session(slow)
    assert prepared.tags == ("billing", "refund")
    assert prepared.columns[:3] == ("canonical", "/in.jsonl", "7")


def test_tool_calls_on_a_user_step_fall_back_to_session_for_the_reason() -> None:
    value = copy.deepcopy(BASES[-1])
    value["steps"][1]["tool_calls"] = [{"id": "c", "name": "f"}]
    assert canonical.fast_record(value, "/in.jsonl", 1) is None
    with pytest.raises(ValidationError, match="only assistant steps carry tool_calls"):
        next(canonical.sessions(value, "/in.jsonl", 1))
