"""Conformance: conversations recorded by the real instrumentation libraries (the real
``openai`` client with ``opentelemetry-instrumentation-openai-v2`` and with
``openinference-instrumentation-openai``, pydantic-ai's own instrumentation, the OpenAI
Agents SDK's tracing), talking to a fake model server on 127.0.0.1 and exported one span per
line (OTLP/JSON, or the Agents SDK's own span export), import as one session with every
message, tool call, tool result and tool error, in order."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewer.domain.session import Role, Session, Step
from reviewer.services import browse
from reviewer.services.importing import import_paths, store_sessions
from reviewer.store.workspace import Workspace
from tests.helpers.fake_llm import FINAL, SECOND, fake_llm_server
from tests.helpers.recorders import CONVERSATION, QUESTION, SYSTEM, THANKS

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ("openai_v2", "openinference", "pydantic_ai", "openai_agents")

S, U, A, T = Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL
EXPECTED = [
    (S, SYSTEM, [], None, False),
    (U, QUESTION, [], None, False),
    (A, "", ["get_weather"], None, False),
    (T, "sunny, 21°C", [], "call_paris", False),
    (A, "", ["get_weather"], None, False),
    (T, None, [], "call_atlantis", True),  # the failing call (its text varies by library)
    (A, FINAL, [], None, False),
    (U, THANKS, [], None, False),
    (A, SECOND, [], None, False),
]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with fake_llm_server() as url:
        yield url


@pytest.fixture(scope="module")
def recorded(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each library's recording of the conversation: a folder of OTLP/JSON files."""
    env = dict(
        os.environ,
        OTEL_SEMCONV_STABILITY_OPT_IN="gen_ai_latest_experimental",
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="span_and_event",
        OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT="true",
        PYTHONWARNINGS="ignore",
    )
    out = {}
    for name in LIBRARIES:
        folder = tmp_path_factory.mktemp(name)
        done = subprocess.run(
            [sys.executable, "-m", "tests.helpers.recorders", name, str(folder), server],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        out[name] = folder
    return out


def _only(ws: Workspace) -> Session:
    [sid] = browse.session_ids(ws)
    return browse.get_session(ws, sid)


def _shape(s: Session) -> list[tuple[Role, str | None, list[str], str | None, bool]]:
    return [
        (
            st.role,
            None if st.is_error else st.content,
            [c.name for c in st.tool_calls],
            st.tool_call_id,
            st.is_error,
        )
        for st in s.steps
    ]


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_recorded_conversation_imports_as_one_session(
    library: str, recorded: dict[str, Path], workspace: Workspace
) -> None:
    files = sorted(recorded[library].glob("*.jsonl"))
    summary = import_paths(workspace, files)
    assert (summary.imported, summary.rejected) == (1, 0)
    s = _only(workspace)
    assert s.id == CONVERSATION
    assert _shape(s) == EXPECTED
    # What the model was told of the failure: the error, or the Agents SDK's own notice.
    assert "Atlantis" in s.steps[5].content or "error occurred" in s.steps[5].content
    assert (s.tool_call_count, s.has_tool_error) == (2, True)
    assert [c.arguments for st in s.steps for c in st.tool_calls] == [
        {"city": "Paris"},
        {"city": "Atlantis"},
    ]
    # Tokens summed over the four model calls (10 in, 5 out each at the fake server).
    assert (s.metrics.input_tokens, s.metrics.output_tokens) == (40, 20)
    assert s.model == "gpt-fake"
    counted = next(f for f in summary.files if f.sessions)
    assert (counted.tool_calls, counted.tool_errors, counted.unrecognised) == (2, 1, 0)
    assert counted.steps == {"system": 1, "user": 2, "assistant": 4, "tool": 2}
    # Importing the same files again changes nothing.
    again = import_paths(workspace, files)
    assert (again.imported, again.revised, again.duplicates) == (0, 0, 1)


def test_spans_in_any_order_over_several_files_form_one_session(
    recorded: dict[str, Path], workspace: Workspace, tmp_path: Path
) -> None:
    lines = _lines(recorded["openai_v2"] / "spans.jsonl")
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(b"".join(reversed(lines[::2])))
    second.write_bytes(b"".join(lines[1::2]))
    summary = import_paths(workspace, [second, first])
    assert summary.imported == 1
    assert _shape(_only(workspace)) == EXPECTED


def test_log_events_alone_still_give_the_conversation(
    recorded: dict[str, Path], workspace: Workspace
) -> None:
    summary = import_paths(workspace, [recorded["openai_v2"] / "logs.jsonl"])
    # The log records name their trace, not the conversation: a session per turn, the
    # second holding the whole history its model call was given.
    assert (summary.imported, summary.files[0].format) == (2, "otlp")
    first, second = (browse.get_session(workspace, i) for i in browse.session_ids(workspace))
    turns = sorted([first, second], key=lambda s: len(s.steps))
    assert [st.role for st in turns[0].steps] == [r for r, *_ in EXPECTED[:7]]
    # No tool spans in a logs file: the failed call's result is there, not its failure.
    assert [st.role for st in turns[1].steps] == [r for r, *_ in EXPECTED]
    assert (turns[1].tool_call_count, turns[1].has_tool_error) == (2, False)


def test_spans_that_arrive_in_a_later_import_extend_the_session(
    recorded: dict[str, Path], workspace: Workspace, tmp_path: Path
) -> None:
    lines = _lines(recorded["openai_v2"] / "spans.jsonl")
    turns = [i for i, line in enumerate(lines) if b"invoke_agent" in line]
    first_turn = tmp_path / "turn1.jsonl"
    first_turn.write_bytes(b"".join(lines[: turns[0] + 1]))
    later = tmp_path / "turn2.jsonl"
    later.write_bytes(b"".join(lines[turns[0] + 1 :]))
    assert import_paths(workspace, [first_turn]).imported == 1
    assert [st.content for st in _only(workspace).steps][-1] == FINAL
    summary = import_paths(workspace, [later])
    assert (summary.imported, summary.revised) == (0, 1)
    s = browse.get_session(workspace, max(browse.session_ids(workspace)))
    assert _shape(s) == EXPECTED
    assert (s.metrics.input_tokens, s.tool_call_count, s.has_tool_error) == (40, 2, True)
    again = import_paths(workspace, [first_turn, later])
    assert (again.imported, again.revised) == (0, 0)


def test_a_trace_without_a_session_id_is_a_session_of_its_own(
    recorded: dict[str, Path], workspace: Workspace, tmp_path: Path
) -> None:
    # The same recording with the conversation id taken off the agent spans: each turn's
    # trace is then a session of its own.
    text = (recorded["openai_v2"] / "spans.jsonl").read_text()
    f = tmp_path / "spans.jsonl"
    f.write_text(text.replace('"gen_ai.conversation.id"', '"app.note"'))
    assert import_paths(workspace, [f]).imported == 2


def test_a_dry_run_reports_without_writing(recorded: dict[str, Path], workspace: Workspace) -> None:
    files = sorted(recorded["pydantic_ai"].glob("*.jsonl"))
    summary = import_paths(workspace, files, dry_run=True)
    assert summary.dry_run and summary.imported == 0
    assert (summary.files[0].sessions, summary.files[0].tool_errors) == (1, 1)
    assert browse.session_ids(workspace) == []


def test_importing_every_span_again_reads_the_session_afresh(
    recorded: dict[str, Path], workspace: Workspace
) -> None:
    # A session stored by an earlier version of the importer (its steps a raw dump) is
    # read afresh, not merged, when an import holds all of its spans again.
    files = sorted(recorded["openai_v2"].glob("*.jsonl"))
    import_paths(workspace, files)
    good = _only(workspace)
    old = good.model_copy(
        update={"steps": [Step(role=Role.USER, content='[text] {"type": "text"}')]}
    )
    store_sessions(workspace, [old])
    summary = import_paths(workspace, files)
    assert (summary.imported, summary.revised) == (0, 1)
    latest = browse.get_session(workspace, max(browse.session_ids(workspace)))
    assert _shape(latest) == EXPECTED
