"""Hostile input on every import path: one decision, one clear message, never a crash.

Depths are counted over the whole line or document: ``[[1]]`` nests 2 levels.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.ingest.detect import KNOWN
from reviewer.ingest.records import MAX_DEPTH
from reviewer.services.importing import import_paths
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace
from reviewer.synth.generator import session_line
from tests.helpers.factories import make_session

DEPTHS = [199, 201, 1024, 1025, 1_000_000]
CHAT = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
PLACEHOLDER = b'"__deep__"'


def _nest(levels: int) -> bytes:
    return b"[" * levels + b"1" + b"]" * levels


def _with_depth(record: dict[str, Any], total: int, outer: int) -> bytes:
    """``record`` with a value nested so that the whole record nests ``total`` levels;
    ``outer`` is how deep the placeholder already sits."""
    raw = orjson.dumps(record)
    assert PLACEHOLDER in raw
    return raw.replace(PLACEHOLDER, _nest(total - outer))


def _canonical(total: int, tag: str) -> bytes:
    rec = orjson.loads(session_line(make_session(f"deep-{tag}")))
    rec["metadata"] = {"x": "__deep__"}
    return _with_depth(rec, total, 2)


def _chat(total: int, tag: str) -> bytes:
    return _with_depth({**CHAT, "id": f"chat-{tag}", "metadata": {"x": "__deep__"}}, total, 2)


def _langfuse_document(total: int, tag: str) -> bytes:
    doc = {
        "trace": {"id": f"t-{tag}", "name": "agent", "metadata": {"x": "__deep__"}},
        "observations": [
            {"id": "o1", "traceId": f"t-{tag}", "type": "GENERATION", "name": "llm"},
        ],
    }
    return _with_depth(doc, total, 3)


PATHS = {
    "canonical line": (_canonical, "lines.jsonl", False),
    "openai-chat line": (_chat, "chat.jsonl", False),
    "gzip openai-chat line": (_chat, "chat.jsonl.gz", True),
    "langfuse document": (_langfuse_document, "trace.json", False),
}


@pytest.fixture(scope="module")
def shared_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return init_workspace(tmp_path_factory.mktemp("hostile") / "ws.sqlite")


@pytest.mark.parametrize("path_kind", list(PATHS))
@pytest.mark.parametrize("depth", DEPTHS)
def test_one_depth_limit_on_every_path(
    shared_ws: Workspace, tmp_path: Path, path_kind: str, depth: int
) -> None:
    build, name, gz = PATHS[path_kind]
    data = build(depth, f"{path_kind}-{depth}") + b"\n"
    f = tmp_path / name
    f.write_bytes(gzip.compress(data) if gz else data)
    report = tmp_path / "rejects.jsonl"
    summary = import_paths(shared_ws, [f], report=report)
    if depth <= MAX_DEPTH:
        assert (summary.imported, summary.rejected) == (1, 0), path_kind
    elif summary.exit_code == 2:
        # a whole-file document so deep that its format cannot even be told: nothing read,
        # and the message says why
        assert name.endswith(".json") and summary.imported == 0
        assert f"nested deeper than {MAX_DEPTH} levels" in (summary.files[0].error or "")
    else:
        assert (summary.imported, summary.rejected, summary.exit_code) == (0, 1, 3), path_kind
        [row] = [orjson.loads(x) for x in report.read_bytes().splitlines()]
        assert row["reason"] == f"nested deeper than {MAX_DEPTH} levels"
        assert row["file"] == str(f) and row["line"] == 1


def test_hostile_scalars_each_get_one_clear_decision(shared_ws: Workspace, tmp_path: Path) -> None:
    lines = {
        b'{"id":"nul","messages":[{"role":"user","content":"a\\u0000b"}]}': None,
        b'{"id":"raw-nul","messages":[{"role":"user","content":"a\x00b"}]}': "malformed JSON",
        b'{"id":"lone","messages":[{"role":"user","content":"a\\udc00"}]}': "surrogate",
        b'{"id":"\xc3\x28","messages":[]}': "invalid UTF-8",
        b'{"id":"dup","id":"dup2","messages":[{"role":"user","content":"a"}]}': "duplicate key",
        b'{"id":"big","n":1e400,"messages":[{"role":"user","content":"a"}]}': "malformed JSON",
        b'{"id":"int","n":123456789012345678901234567890,'
        b'"messages":[{"role":"user","content":"a"}]}': "beyond 64 bits",
        '{"id":"rlo","messages":[{"role":"user","content":"\u202eevil\u200b"}]}'.encode(): None,
        b'{"id":"cut","messages":[{"role":"user","cont': "malformed JSON",
        b'{"id":"args","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c",'
        b'"type":"function","function":{"name":"f","arguments":"'
        + b"[" * 1000
        + b"]" * 1000
        + b'"}}]}]}': None,
    }
    f = tmp_path / "hostile.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    report = tmp_path / "rejects.jsonl"
    summary = import_paths(shared_ws, [f], fmt="openai-chat", report=report)
    rejected = {r["line"]: r["reason"] for r in map(orjson.loads, report.read_bytes().splitlines())}
    for n, expected in enumerate(lines.values(), 1):
        if expected is None:
            assert n not in rejected, rejected.get(n)
        else:
            assert expected in rejected[n]
    assert summary.imported == sum(1 for e in lines.values() if e is None)


def test_a_200_megabyte_line_is_skipped_without_being_read_whole(
    shared_ws: Workspace, tmp_path: Path
) -> None:
    f = tmp_path / "huge.jsonl"
    with f.open("wb") as out:
        out.write(b'{"id":"huge","messages":[{"role":"user","content":"')
        block = b"x" * (1 << 20)
        for _ in range(200):
            out.write(block)
        out.write(b'"}]}\n')
        out.write(orjson.dumps({**CHAT, "id": "after-huge"}) + b"\n")
    report = tmp_path / "rejects.jsonl"
    summary = import_paths(shared_ws, [f], report=report)
    assert (summary.imported, summary.rejected) == (1, 1)
    [row] = [orjson.loads(x) for x in report.read_bytes().splitlines()]
    assert row["line"] == 1 and "larger than 50,000,000 bytes" in row["reason"]


_json: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "messages",
                    "role",
                    "content",
                    "steps",
                    "resourceSpans",
                    "observations",
                    "trace",
                    "run_type",
                    "tool_calls",
                    "spans",
                    "attributes",
                    "x",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@pytest.mark.parametrize("fmt", KNOWN)
@settings(
    max_examples=40,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=st.lists(_json, min_size=1, max_size=5))
def test_random_json_never_escapes_the_rejection_path(
    shared_ws: Workspace, tmp_path: Path, fmt: str, records: list[Any]
) -> None:
    f = tmp_path / f"fuzz-{fmt}.jsonl"
    f.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    started = time.perf_counter()
    summary = import_paths(shared_ws, [f], fmt=fmt)  # raises nothing
    assert time.perf_counter() - started < 2.0
    assert summary.rejected <= len(records)
    assert summary.exit_code in (0, 3)
