"""Conformance: messages as the real ``anthropic`` SDK and ``langchain-core`` write them —
the Anthropic client talking to a fake model server on 127.0.0.1, LangChain's message
classes serialised by LangChain itself — in the files users log them to (OpenAI-style
JSON Lines, Langfuse trace downloads, LangSmith runs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest
from langchain_core.load import dumpd
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    messages_to_dict,
)

from reviewer.domain.session import Role, Session
from reviewer.services import browse
from reviewer.services.importing import import_paths
from reviewer.store.workspace import Workspace
from tests.helpers.fake_llm import FINAL, SECOND, fake_llm_server
from tests.helpers.recorders import QUESTION, SYSTEM, THANKS, get_weather

S, U, A, T = Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL
ROLES = [S, U, A, T, A, T, A, U, A]
"""system, question, call (Paris), result, call (Atlantis), failed result, answer, thanks,
answer."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with fake_llm_server() as url:
        yield url


def _only(ws: Workspace) -> Session:
    [sid] = browse.session_ids(ws)
    return browse.get_session(ws, sid)


def _check(s: Session) -> None:
    assert [st.role for st in s.steps] == ROLES
    assert [c.arguments for st in s.steps for c in st.tool_calls] == [
        {"city": "Paris"},
        {"city": "Atlantis"},
    ]
    assert [st.is_error for st in s.steps if st.role is T] == [False, True]
    assert s.steps[3].tool_call_id == s.steps[2].tool_calls[0].id
    assert [s.steps[6].content, s.steps[8].content] == [FINAL, SECOND]
    assert (s.tool_call_count, s.has_tool_error) == (2, True)


def test_anthropic_messages_logged_as_json_lines(
    server: str, workspace: Workspace, tmp_path: Path
) -> None:
    client = anthropic.Anthropic(base_url=server, api_key="test-key")
    tools: Any = [
        {
            "name": "get_weather",
            "description": "The weather in a city.",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    history: list[dict[str, Any]] = []
    for question in (QUESTION, THANKS):
        history.append({"role": "user", "content": question})
        while True:
            reply = client.messages.create(
                model="claude-fake", max_tokens=256, system=SYSTEM, messages=history, tools=tools
            )
            history.append(
                {"role": "assistant", "content": [b.model_dump() for b in reply.content]}
            )
            uses = [b for b in reply.content if b.type == "tool_use"]
            if not uses:
                break
            results = []
            for use in uses:
                try:
                    text, failed = get_weather(**use.input), False  # type: ignore[arg-type]
                except ValueError as exc:
                    text, failed = str(exc), True
                results.append(
                    {
                        "type": "tool_result",
                        "tool_use_id": use.id,
                        "content": text,
                        "is_error": failed,
                    }
                )
            history.append({"role": "user", "content": results})
    f = tmp_path / "chats.jsonl"
    line = {"id": "conv-a", "messages": [{"role": "system", "content": SYSTEM}, *history]}
    f.write_text(json.dumps(line) + "\n")
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.files[0].unrecognised) == (1, 0)
    _check(_only(workspace))


def _langchain_conversation() -> list[BaseMessage]:
    paris = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_paris"}
    atlantis = {"name": "get_weather", "args": {"city": "Atlantis"}, "id": "call_atlantis"}
    return [
        SystemMessage(SYSTEM),
        HumanMessage(QUESTION),
        AIMessage("", tool_calls=[paris]),
        ToolMessage("sunny, 21°C", tool_call_id="call_paris", name="get_weather"),
        AIMessage("", tool_calls=[atlantis]),
        ToolMessage(
            "unknown city: Atlantis",
            tool_call_id="call_atlantis",
            name="get_weather",
            status="error",
        ),
        AIMessage(FINAL),
        HumanMessage(THANKS),
        AIMessage(SECOND),
    ]


def test_langchain_messages_in_a_langfuse_trace_with_tool_observations(
    workspace: Workspace, tmp_path: Path
) -> None:
    # Generations record their input (LangChain's own dict form) and output; the tool runs
    # are TOOL observations, the failed one at ERROR level.
    conv = _langchain_conversation()
    trace_id = "7f3a"
    observations: list[dict[str, Any]] = [
        {
            "id": "agent",
            "traceId": trace_id,
            "type": "AGENT",
            "name": "weather-bot",
            "startTime": "2026-01-01T00:00:00Z",
            "endTime": "2026-01-01T00:00:09Z",
        },
    ]
    cuts = [(2, 3), (4, 5), (6, 7), (8, 9)]  # (end of input, end of output) per model call
    for n, (inp, out) in enumerate(cuts):
        observations.append(
            {
                "id": f"gen{n}",
                "traceId": trace_id,
                "type": "GENERATION",
                "name": "ChatOpenAI",
                "parentObservationId": "agent",
                "startTime": f"2026-01-01T00:00:0{2 * n}Z",
                "endTime": f"2026-01-01T00:00:0{2 * n}.5Z",
                "input": messages_to_dict(conv[:inp]),
                "output": messages_to_dict(conv[inp:out])[0],
            }
        )
    for n, (city, level) in enumerate([("Paris", "DEFAULT"), ("Atlantis", "ERROR")]):
        observations.append(
            {
                "id": f"tool{n}",
                "traceId": trace_id,
                "type": "TOOL",
                "name": "get_weather",
                "parentObservationId": "agent",
                "startTime": f"2026-01-01T00:00:0{2 * n + 1}Z",
                "input": {"city": city},
                "output": None,
                "level": level,
            }
        )
    f = tmp_path / "trace.json"
    f.write_text(json.dumps({"trace": {"id": trace_id}, "observations": observations}))
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.files[0].unrecognised) == (1, 0)
    _check(_only(workspace))


def test_langchain_serialised_messages_in_langsmith_runs(
    workspace: Workspace, tmp_path: Path
) -> None:
    # LangSmith records chat-model inputs as lists of serialised (`lc` constructor) messages.
    conv = _langchain_conversation()
    root = "00000000-0000-0000-0000-000000000001"
    runs = [
        {
            "id": root,
            "trace_id": root,
            "name": "agent",
            "run_type": "chain",
            "start_time": "2026-01-01T00:00:00Z",
            "end_time": "2026-01-01T00:00:09Z",
            "inputs": {"input": QUESTION},
        },
        {
            "id": "00000000-0000-0000-0000-000000000002",
            "trace_id": root,
            "parent_run_id": root,
            "name": "ChatOpenAI",
            "run_type": "llm",
            "start_time": "2026-01-01T00:00:08Z",
            "end_time": "2026-01-01T00:00:09Z",
            "inputs": {"messages": [[dumpd(m) for m in conv[:8]]]},
            "outputs": {"generations": [[{"message": dumpd(conv[8]), "text": SECOND}]]},
        },
    ]
    f = tmp_path / "runs.json"
    f.write_text(json.dumps({"runs": runs}))
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.files[0].unrecognised) == (1, 0)
    _check(_only(workspace))
