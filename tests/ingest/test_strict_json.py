"""Duplicate keys and integers beyond 64 bits are rejected, never silently changed (orjson
would keep the last key and turn the integer into a float)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.cli import main
from reviewer.ingest.records import RecordError, parse_json
from reviewer.services.workspaces import init_workspace
from reviewer.synth.generator import write_jsonl


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ('{"x": {"k" : "v:w", "k":"v"}}', "duplicate key 'k'"),
        ('[{"ok": 1}, {"k\\\\": 1, "k\\\\": 2}]', "duplicate key 'k\\\\'"),
        ('{"colon\\u003a": "\\u003a", "colon:": 2}', "duplicate key 'colon:'"),
        ('{"tokens": 18446744073709551616}', "integer 18446744073709551616 is beyond 64 bits"),
        ('{"n": -9223372036854775809}', "integer -9223372036854775809 is beyond 64 bits"),
        ("[123456789012345678901234567890]", "beyond 64 bits"),
    ],
)
def test_what_orjson_would_change_is_rejected(text: str, reason: str) -> None:
    with pytest.raises(RecordError, match=reason.replace("\\", "\\\\")):
        parse_json(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        '{"n": 18446744073709551615, "m": -9223372036854775808}',  # the 64-bit ends
        '{"id": "123456789012345678901234567890", "t": "12:30:45"}',  # digits in strings
        '{"a": {"k": 1}, "b": {"k": 2}, "f": 1.2345678901234567890123}',
        '{"e": "\\u003a"}',
    ],
)
def test_what_orjson_reads_exactly_is_kept(text: str) -> None:
    assert parse_json(text.encode()) == json.loads(text)


KEYS = st.sampled_from(["a", "b", "k:", "k\\", 'q"', "\u00e9", "\u003a"])
SPACE = st.sampled_from(["", " ", "\t", "  "])
NUMBERS = st.integers(-(2**70), 2**70) | st.sampled_from([2**63, 2**64, -(2**63) - 1, 2**64 - 1])
LEAVES = st.none() | st.booleans() | NUMBERS | st.text('ab:"\\1\u00e9', max_size=4)


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> tuple[str, bool]:
    """JSON text written by hand (spacing, escapes, duplicate keys allowed) and whether it
    holds a duplicated key or an integer beyond 64 bits."""
    kind = draw(st.sampled_from(["leaf", "list", "object"] if depth < 3 else ["leaf"]))
    sp = draw(SPACE)
    if kind == "leaf":
        leaf = draw(LEAVES)
        lossy = isinstance(leaf, int) and not isinstance(leaf, bool)
        lossy = lossy and not -(2**63) <= leaf <= 2**64 - 1  # type: ignore[operator]
        escape = draw(st.booleans())
        return json.dumps(leaf, ensure_ascii=escape), lossy
    items = draw(st.lists(documents(depth + 1), max_size=4))  # type: ignore[arg-type]
    lossy = any(bad for _, bad in items)
    if kind == "list":
        return "[" + f",{sp}".join(t for t, _ in items) + "]", lossy
    keys = [draw(KEYS) for _ in items]
    lossy = lossy or len(set(keys)) < len(keys)
    body = f",{sp}".join(
        f"{json.dumps(k, ensure_ascii=draw(st.booleans()))}{sp}:{sp}{t}"
        for k, (t, _) in zip(keys, items, strict=True)
    )
    return "{" + body + "}", lossy


@settings(max_examples=400, deadline=None)
@given(documents())
def test_rejected_exactly_when_orjson_would_change_something(doc: tuple[str, bool]) -> None:
    text, lossy = doc
    try:
        value: Any = parse_json(text.encode())
    except RecordError as exc:
        assert lossy, f"{text!r} refused: {exc}"
        return
    assert not lossy, f"{text!r} accepted as {value!r}"
    assert value == json.loads(text)


def test_an_import_rejects_such_records_and_keeps_the_rest(tmp_path: Path) -> None:
    sessions = tmp_path / "s.jsonl"
    write_jsonl(sessions, 3, 1)
    good = sessions.read_bytes().splitlines()
    record = orjson.loads(good[0])
    dup = good[1][:-1] + b', "id": "other"}'
    big = orjson.dumps({**record, "id": "big"})[:-1] + b', "metadata": {"n": 99999999999999999999}}'
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([good[0], dup, big, good[2]]) + b"\n")
    ws = tmp_path / "ws.sqlite"
    init_workspace(ws).close()
    report = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(
        main, ["import", str(ws), str(path), "--format", "canonical", "--report", str(report)]
    )
    assert result.exit_code == 3, result.output
    assert "2 imported, 0 duplicate, 0 revised, 2 rejected" in result.output
    reasons = {r["line"]: r["reason"] for r in map(orjson.loads, report.read_bytes().splitlines())}
    assert "duplicate key 'id'" in reasons[2]
    assert "beyond 64 bits" in reasons[3]
