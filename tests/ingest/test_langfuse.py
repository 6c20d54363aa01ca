"""Langfuse trace downloads, modelled on real exports of several agent frameworks."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from reviewer.domain.session import Role
from reviewer.ingest import records
from reviewer.ingest.messages import messages_to_steps
from reviewer.services import browse
from reviewer.services.importing import import_paths
from reviewer.store.workspace import Workspace

TRACE = {
    "trace": {
        "id": "fee618f96dc31e0ca38b2f7b26eb8b29",
        "name": "Agent workflow",
        "timestamp": "2025-09-30T09:03:59.962Z",
        "tags": ["weather"],
        "sessionId": None,
        "version": None,
        "release": "2.3",
        "metadata": '{"attributes": {"openinference.span.kind": "AGENT"}}',
        "scores": [
            {"name": "toxicity", "value": 0.8, "source": "EVAL", "comment": "rude"},
            {"name": "user_feedback", "value": 0, "source": "API", "comment": "wrong city"},
        ],
    },
    "observations": [
        {
            "id": "root",
            "traceId": "fee618f96dc31e0ca38b2f7b26eb8b29",
            "type": "AGENT",
            "name": "Assistant",
            "startTime": "2025-09-30T09:03:59.962Z",
            "endTime": "2025-09-30T09:04:03.100Z",
            "parentObservationId": None,
            "level": "DEFAULT",
        },
        {
            "id": "tool1",
            "traceId": "fee618f96dc31e0ca38b2f7b26eb8b29",
            "type": "TOOL",
            "name": "get_weather",
            "startTime": "2025-09-30T09:04:00.900Z",
            "endTime": "2025-09-30T09:04:01.000Z",
            "parentObservationId": "root",
            "level": "ERROR",
            "statusMessage": "timeout",
        },
        {
            "id": "gen2",
            "traceId": "fee618f96dc31e0ca38b2f7b26eb8b29",
            "type": "GENERATION",
            "name": "response",
            "startTime": "2025-09-30T09:04:01.001Z",
            "endTime": "2025-09-30T09:04:02.151Z",
            "parentObservationId": "root",
            "model": "gpt-4.1",
            "inputUsage": "85",
            "outputUsage": "29",
            "totalCost": "0.0004",
            "input": json.dumps(
                [
                    {"content": "What's the weather in Tokyo?", "role": "user"},
                    {
                        "arguments": '{"city":"Tokyo"}',
                        "call_id": "call_K",
                        "name": "get_weather",
                        "type": "function_call",
                        "id": "fc_1",
                        "status": "completed",
                    },
                    {
                        "call_id": "call_K",
                        "output": "The weather in Tokyo is sunny.",
                        "type": "function_call_output",
                    },
                ]
            ),
            "output": json.dumps(
                {
                    "id": "resp_1",
                    "output": [
                        {
                            "type": "message",
                            "role": "assistant",
                            "content": [{"type": "output_text", "text": "It is sunny in Tokyo."}],
                        }
                    ],
                }
            ),
        },
    ],
}


def test_a_trace_download_becomes_one_reviewable_session(
    workspace: Workspace, tmp_path: Path
) -> None:
    f = tmp_path / "trace.json"
    f.write_text(json.dumps(TRACE, indent=2))  # pretty-printed: one document, many lines
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.rejected, summary.files[0].format) == (1, 0, "langfuse")
    [sid] = browse.session_ids(workspace)
    s = browse.get_session(workspace, sid)
    assert [st.role for st in s.steps] == [Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT]
    assert s.steps[1].tool_calls[0].name == "get_weather"
    assert s.steps[1].tool_calls[0].arguments == {"city": "Tokyo"}
    assert s.steps[2].tool_call_id == "call_K"
    assert s.final_answer == "It is sunny in Tokyo."
    assert s.source.ids == {"trace_id": TRACE["trace"]["id"], "observation_id": "gen2"}
    assert (s.model, s.agent.version, s.tags) == ("gpt-4.1", "2.3", ["weather"])
    assert s.signals.judge_scores == {"toxicity": 0.8}
    judged = [(j.name, j.value, j.explanation, j.source) for j in s.signals.judgements]
    assert judged == [("toxicity", 0.8, "rude", "langfuse")], "feedback is no judgement"
    assert s.signals.user_feedback == -1.0
    assert {sp.id: sp.status for sp in s.spans} == {"root": "ok", "tool1": "error", "gen2": "unset"}
    assert s.metrics.input_tokens == 85 and s.metrics.cost_usd == 0.0004


def test_server_downloads_and_jsonl_of_traces_are_read(
    workspace: Workspace, tmp_path: Path
) -> None:
    obs = [dict(o, traceId=f"t{i}") for i, o in enumerate(TRACE["observations"])]
    lines = [orjson.dumps({"observations": [o], "scores": []}) + b"\n" for o in obs]
    f = tmp_path / "traces.jsonl"
    f.write_bytes(b"".join(lines) + b'{"observations": [{"type": "SPAN"}]}\n')
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.rejected) == (3, 1)


def test_framework_message_shapes_become_steps() -> None:
    gemini = {
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"function_call": {"name": "say_hello", "args": {}}}]},
            {
                "role": "user",
                "parts": [
                    {"function_response": {"name": "say_hello", "response": {"greeting": "Hello"}}}
                ],
            },
        ]
    }
    steps = messages_to_steps(gemini)
    assert [s.role for s in steps] == [Role.USER, Role.ASSISTANT, Role.TOOL]
    anthropic = [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "tu_1", "name": "search", "input": {"q": "x"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "tu_1", "content": "boom", "is_error": True}
            ],
        },
    ]
    steps = messages_to_steps(anthropic)
    assert steps[0].tool_calls[0].id == "tu_1" and steps[0].content == "Checking."
    assert steps[1].role is Role.TOOL and steps[1].is_error
    langchain = [
        {"role": "human", "content": "q"},
        {"role": "ai", "content": "", "tool_calls": [{"id": "c", "name": "f", "args": {"a": 1}}]},
    ]
    steps = messages_to_steps(langchain)
    assert steps[1].tool_calls[0].arguments == {"a": 1}
    vercel = [{"toolCallId": "call_D", "toolName": "getWeather", "input": {"city": "SF"}}]
    assert messages_to_steps(vercel)[0].tool_calls[0].name == "getWeather"
    assert messages_to_steps("plain words")[0].content == "plain words"


def test_a_whole_file_document_is_parsed_once(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "trace.json"
    f.write_text(json.dumps(TRACE, indent=2))
    parsed: list[int] = []
    real = records.parse_json

    def counting(data: bytes) -> object:
        parsed.append(len(data))
        return real(data)

    monkeypatch.setattr(records, "parse_json", counting)
    summary = import_paths(workspace, [f])
    assert summary.imported == 1
    assert parsed.count(f.stat().st_size) == 1  # detection's parse is the one imported


def test_a_document_over_the_import_limit_is_still_rejected(
    workspace: Workspace, tmp_path: Path
) -> None:
    f = tmp_path / "trace.json"
    f.write_text(json.dumps(TRACE, indent=2))
    summary = import_paths(workspace, [f], max_record_bytes=1000)
    assert (summary.imported, summary.rejected, summary.files[0].format) == (0, 1, "langfuse")


def test_tool_observations_that_no_generation_carries_become_calls_and_results(
    workspace: Workspace, tmp_path: Path
) -> None:
    # An agent framework that records its tools as TOOL observations and its turn on the
    # AGENT observation, with no generation holding the calls.
    trace_id = "b7e1"
    doc = {
        "trace": {"id": trace_id, "name": "agent"},
        "observations": [
            {
                "id": "a",
                "traceId": trace_id,
                "type": "AGENT",
                "name": "agent",
                "startTime": "2026-01-01T00:00:00Z",
                "endTime": "2026-01-01T00:00:05Z",
                "input": [{"role": "user", "content": "Book a table"}],
                "output": {"role": "assistant", "content": "Sorry, fully booked."},
            },
            {
                "id": "t1",
                "traceId": trace_id,
                "type": "TOOL",
                "name": "find_table",
                "parentObservationId": "a",
                "startTime": "2026-01-01T00:00:01Z",
                "endTime": "2026-01-01T00:00:02Z",
                "input": {"people": 2},
                "output": "no tables",
                "level": "ERROR",
                "statusMessage": "fully booked",
            },
            {
                "id": "e1",
                "traceId": trace_id,
                "type": "EVENT",
                "name": "log",
                "startTime": "2026-01-01T00:00:03Z",
            },
        ],
    }
    f = tmp_path / "trace.json"
    f.write_text(json.dumps(doc))
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.files[0].unrecognised) == (1, 0)
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert [(st.role, st.content, st.is_error) for st in s.steps] == [
        (Role.USER, "Book a table", False),
        (Role.ASSISTANT, "", False),
        (Role.TOOL, "fully booked", True),
        (Role.ASSISTANT, "Sorry, fully booked.", False),
    ]
    assert s.steps[1].tool_calls[0].arguments == {"people": 2}
    assert {sp.id: sp.kind for sp in s.spans} == {"a": "agent", "t1": "tool", "e1": "event"}
