"""OTLP/JSON with OpenTelemetry GenAI and OpenInference attributes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import orjson
import pytest

from reviewer.domain.session import Role
from reviewer.services import browse
from reviewer.services.importing import import_paths
from reviewer.services.progress import Progress
from reviewer.store.workspace import Workspace

TRACE = "5b8efff798038103d269b633813fc60c"
ARGS = '{"city": "Paris"}'


def _kv(attrs: dict[str, object]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for k, v in attrs.items():
        if isinstance(v, bool):
            value: dict[str, object] = {"boolValue": v}
        elif isinstance(v, int):
            value = {"intValue": str(v)}
        elif isinstance(v, str):
            value = {"stringValue": v}
        else:
            value = {"stringValue": json.dumps(v)}
        out.append({"key": k, "value": value})
    return out


def _span(
    span_id: str,
    name: str,
    attrs: dict[str, object],
    parent: str = "",
    trace: str = TRACE,
    start: int = 1,
    status: int = 0,
) -> dict[str, object]:
    return {
        "traceId": trace,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start * 10**9),
        "endTimeUnixNano": str((start + 1) * 10**9),
        "status": {"code": status},
        "attributes": _kv(attrs),
    }


def _export(spans: list[dict[str, object]]) -> dict[str, object]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _kv({"service.name": "weather-agent"})},
                "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
            }
        ]
    }


GENAI_INPUT = [
    {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
    {
        "role": "assistant",
        "parts": [
            {
                "type": "tool_call",
                "id": "1234",
                "name": "get_weather",
                "arguments": {"location": "Paris"},
            }
        ],
    },
    {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "1234", "response": "rainy, 57°F"}],
    },
]
GENAI_OUTPUT = [
    {
        "role": "assistant",
        "finish_reason": "stop",
        "parts": [{"type": "text", "content": "It is rainy, 57°F."}],
    }
]


def test_genai_spans_become_a_session_with_a_span_tree(
    workspace: Workspace, tmp_path: Path
) -> None:
    spans = [
        _span(
            "00000000000000a1",
            "invoke_agent weather",
            {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "weather",
                "gen_ai.agent.version": "4.2",
                "gen_ai.conversation.id": "conv-9",
            },
        ),
        _span(
            "00000000000000a2",
            "chat gpt-4",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4",
                "gen_ai.usage.input_tokens": 97,
                "gen_ai.usage.output_tokens": 52,
                "gen_ai.conversation.id": "conv-9",
                "gen_ai.input.messages": GENAI_INPUT,
                "gen_ai.output.messages": GENAI_OUTPUT,
            },
            parent="00000000000000a1",
            start=3,
        ),
        _span(
            "00000000000000a3",
            "execute_tool get_weather",
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "get_weather",
                "gen_ai.conversation.id": "conv-9",
            },
            parent="00000000000000a1",
            start=2,
            status=2,
        ),
    ]
    f = tmp_path / "otel.jsonl"
    f.write_bytes(orjson.dumps(_export(spans)) + b"\n")
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.files[0].format) == (1, "otlp")
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert s.id == "conv-9"
    assert [st.role for st in s.steps] == [Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT]
    assert s.steps[1].tool_calls[0].arguments == {"location": "Paris"}
    assert s.final_answer == "It is rainy, 57°F."
    assert (s.agent.name, s.agent.version, s.model) == ("weather", "4.2", "gpt-4")
    assert (s.metrics.input_tokens, s.metrics.output_tokens) == (97, 52)
    tree = {sp.id: (sp.parent_id, sp.status) for sp in s.spans}
    assert tree["00000000000000a3"] == ("00000000000000a1", "error")
    assert s.source.ids == {"trace_id": TRACE, "span_id": "00000000000000a1"}
    assert "gen_ai.input.messages" not in s.spans[1].attributes


def test_openinference_spans_with_base64_ids(workspace: Workspace, tmp_path: Path) -> None:
    b64 = base64.b64encode(bytes.fromhex(TRACE)).decode()
    attrs = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o",
        "session.id": "s-77",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.contents.0.message_content.type": "text",
        "llm.input_messages.0.message.contents.0.message_content.text": "Weather in Paris?",
        "llm.input_messages.1.message.role": "assistant",
        "llm.input_messages.1.message.tool_calls.0.tool_call.id": "c1",
        "llm.input_messages.1.message.tool_calls.0.tool_call.function.name": "get_weather",
        "llm.input_messages.1.message.tool_calls.0.tool_call.function.arguments": ARGS,
        "llm.input_messages.2.message.role": "tool",
        "llm.input_messages.2.message.content": "rainy",
        "llm.input_messages.2.message.tool_call_id": "c1",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "Rainy in Paris.",
        "llm.token_count.prompt": 30,
        "llm.token_count.completion": 5,
    }
    span = _span(
        base64.b64encode(bytes.fromhex("00000000000000b1")).decode(),
        "ChatCompletion",
        attrs,
        trace=b64,
    )
    f = tmp_path / "phoenix.json"
    f.write_text(json.dumps(_export([span]), indent=1))
    assert import_paths(workspace, [f]).imported == 1
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert s.id == "s-77" and s.source.ids["trace_id"] == TRACE
    assert s.steps[1].tool_calls[0].arguments == {"city": "Paris"}
    assert s.steps[2].tool_call_id == "c1"
    assert s.final_answer == "Rainy in Paris."
    assert (s.model, s.metrics.input_tokens) == ("gpt-4o", 30)


def test_spans_without_ids_are_rejected(workspace: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "bad.jsonl"
    good = _export([_span("00000000000000c1", "chat", {"gen_ai.operation.name": "chat"})])
    bad = _export([{"traceId": TRACE, "name": "no id"}])
    f.write_bytes(orjson.dumps(good) + b"\n" + orjson.dumps(bad) + b"\n")
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.rejected) == (1, 1)


def test_vercel_ai_sdk_spans(workspace: Workspace, tmp_path: Path) -> None:
    # ai-sdk.dev/docs/ai-sdk-core/telemetry: ai.generateText.doGenerate and ai.toolCall spans
    prompt = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
    ]
    calls = [
        {
            "toolCallType": "function",
            "toolCallId": "v1",
            "toolName": "weather",
            "args": '{"city": "Paris"}',
        }
    ]
    spans = [
        _span(
            "00000000000000e1",
            "ai.generateText",
            {
                "operation.name": "ai.generateText",
                "ai.telemetry.metadata.sessionId": "chat-7",
            },
            start=1,
        ),
        _span(
            "00000000000000e2",
            "ai.generateText.doGenerate",
            {
                "operation.name": "ai.generateText.doGenerate",
                "ai.prompt.messages": prompt,
                "ai.response.toolCalls": calls,
                "gen_ai.usage.input_tokens": 12,
                "gen_ai.request.model": "gpt-4o",
            },
            parent="00000000000000e1",
            start=2,
        ),
        _span(
            "00000000000000e3",
            "ai.toolCall",
            {
                "operation.name": "ai.toolCall",
                "ai.toolCall.name": "weather",
                "ai.toolCall.id": "v1",
                "ai.toolCall.args": '{"city": "Paris"}',
            },
            parent="00000000000000e1",
            start=3,
            status=2,
        ),
    ]
    f = tmp_path / "vercel.jsonl"
    f.write_bytes(b"".join(orjson.dumps(_export([s])) + b"\n" for s in reversed(spans)))
    assert import_paths(workspace, [f]).imported == 1
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert s.id == "chat-7"
    assert [(st.role, st.content) for st in s.steps][:2] == [
        (Role.SYSTEM, "Be brief."),
        (Role.USER, "Weather in Paris?"),
    ]
    assert s.steps[2].tool_calls[0].arguments == {"city": "Paris"}
    assert (s.steps[3].tool_call_id, s.steps[3].is_error) == ("v1", True)
    assert (s.model, s.metrics.input_tokens) == ("gpt-4o", 12)


def test_malformed_span_records_are_rejected_and_the_rest_assembled(
    workspace: Workspace, tmp_path: Path
) -> None:
    good = _export([_span("00000000000000f1", "chat", {"gen_ai.operation.name": "chat"})])
    f = tmp_path / "mixed.jsonl"
    f.write_bytes(
        orjson.dumps(good)
        + b"\n"
        + b'{"resourceSpans": [{"scopeSpans": [{"spans": ["not a span"]}]}]}\n'
        + b'{"resourceSpans": [\n'
        + b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "x"}}]}]}]}\n'
    )
    summary = import_paths(workspace, [f])
    # A span that is not an object, broken JSON, a logs record with no GenAI event.
    assert (summary.imported, summary.rejected) == (1, 3)


def _any(value: object) -> dict[str, object]:
    """An OTLP AnyValue (log record bodies are structured, not JSON strings)."""
    if isinstance(value, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": _any(v)} for k, v in value.items()]}}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_any(v) for v in value]}}
    if isinstance(value, int):
        return {"intValue": str(value)}
    return {"stringValue": str(value)}


def test_the_older_per_message_events_in_a_logs_file(workspace: Workspace, tmp_path: Path) -> None:
    # semantic-conventions v1.30 gen-ai-events.md: one log record per message
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    events = [
        ("gen_ai.system.message", {"content": "Be brief."}),
        ("gen_ai.user.message", {"content": "Weather in Paris?"}),
        ("gen_ai.assistant.message", {"tool_calls": [call]}),
        ("gen_ai.tool.message", {"content": "rainy", "id": "c1"}),
        (
            "gen_ai.choice",
            {"index": 0, "finish_reason": "stop", "message": {"content": "It is rainy."}},
        ),
    ]
    records = [
        {
            "eventName": name,
            "traceId": TRACE,
            "spanId": "00000000000000d1",
            "timeUnixNano": str(10**9 + i),
            "body": _any(body),
        }
        for i, (name, body) in enumerate(events)
    ]
    doc = {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": records}]}]}
    f = tmp_path / "logs.jsonl"
    f.write_bytes(orjson.dumps(doc) + b"\n")
    assert import_paths(workspace, [f]).imported == 1
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert [(st.role, st.content, st.tool_call_id) for st in s.steps] == [
        (Role.SYSTEM, "Be brief.", None),
        (Role.USER, "Weather in Paris?", None),
        (Role.ASSISTANT, "", None),
        (Role.TOOL, "rainy", "c1"),
        (Role.ASSISTANT, "It is rainy.", None),
    ]
    assert s.steps[2].tool_calls[0].arguments == {"city": "Paris"}


def test_openllmetry_and_langfuse_sdk_spans(workspace: Workspace, tmp_path: Path) -> None:
    # OpenLLMetry (traceloop) indexed prompt/completion attributes and tool spans; the
    # Langfuse SDK's langfuse.observation.* attributes, its ERROR level a tool error.
    spans = [
        _span(
            "0000000000000011",
            "openai.chat",
            {
                "llm.request.type": "chat",
                "gen_ai.operation.name": "chat",
                "langfuse.session.id": "lf-1",
                "gen_ai.prompt.0.role": "user",
                "gen_ai.prompt.0.content": "Find flights",
                "gen_ai.completion.0.role": "assistant",
                "gen_ai.completion.0.tool_calls.0.id": "f1",
                "gen_ai.completion.0.tool_calls.0.name": "search",
                "gen_ai.completion.0.tool_calls.0.arguments": '{"to": "OSL"}',
            },
            start=1,
        ),
        _span(
            "0000000000000012",
            "search.tool",
            {
                "traceloop.span.kind": "tool",
                "traceloop.entity.name": "search",
                "traceloop.entity.input": '{"to": "OSL"}',
                "traceloop.entity.output": "2 flights",
            },
            start=2,
        ),
        _span(
            "0000000000000013",
            "book",
            {
                "langfuse.observation.type": "tool",
                "langfuse.observation.input": '{"flight": 1}',
                "langfuse.observation.level": "ERROR",
                "langfuse.observation.status_message": "sold out",
            },
            start=3,
        ),
    ]
    f = tmp_path / "spans.jsonl"
    f.write_bytes(b"".join(orjson.dumps(_export([s])) + b"\n" for s in spans))
    assert import_paths(workspace, [f]).imported == 1
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert s.id == "lf-1"
    assert [
        (st.role, st.content, [c.name for c in st.tool_calls], st.is_error) for st in s.steps
    ] == [
        (Role.USER, "Find flights", [], False),
        (Role.ASSISTANT, "", ["search"], False),
        (Role.TOOL, "2 flights", [], False),
        (Role.ASSISTANT, "", ["book"], False),
        (Role.TOOL, "sold out", [], True),
    ]


def test_collecting_spans_reports_progress_and_can_be_cancelled(
    workspace: Workspace, tmp_path: Path
) -> None:
    f = tmp_path / "many.jsonl"
    lines = [
        orjson.dumps(
            _export(
                [_span(f"{i:016x}", "chat", {"gen_ai.operation.name": "chat"}, trace=f"{i:032x}")]
            )
        )
        for i in range(1, 2501)
    ]
    f.write_bytes(b"\n".join(lines) + b"\n")
    seen: list[int] = []

    def stop_early(done: int, total: int | None, message: str) -> None:
        seen.append(done)
        progress.cancel()

    progress = Progress(stop_early)
    summary = import_paths(workspace, [f], progress=progress)
    assert summary.cancelled and seen == [1000]
    assert browse.session_ids(workspace) == []


@pytest.mark.parametrize(
    ("status", "attrs", "events"),
    [
        (2, {}, []),
        (0, {"error.type": "TimeoutError"}, []),
        (0, {}, [{"name": "exception", "attributes": _kv({"exception.message": "boom"})}]),
    ],
    ids=["error status", "error.type", "exception event"],
)
def test_each_sign_of_a_failed_tool_span_flags_a_tool_error(
    workspace: Workspace,
    tmp_path: Path,
    status: int,
    attrs: dict[str, object],
    events: list[dict[str, object]],
) -> None:
    chat = _span(
        "0000000000000021",
        "chat",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": GENAI_INPUT,
            "gen_ai.output.messages": GENAI_OUTPUT,
        },
        start=5,
    )
    tool = _span(
        "0000000000000022",
        "execute_tool get_weather",
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_weather",
            "gen_ai.tool.call.id": "1234",
            **attrs,
        },
        start=2,
        status=status,
    )
    tool["events"] = events
    f = tmp_path / "spans.jsonl"
    f.write_bytes(b"".join(orjson.dumps(_export([s])) + b"\n" for s in (tool, chat)))
    assert import_paths(workspace, [f]).imported == 1
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert [(st.role, st.is_error) for st in s.steps] == [
        (Role.USER, False),
        (Role.ASSISTANT, False),
        (Role.TOOL, True),
        (Role.ASSISTANT, False),
    ]
    assert s.has_tool_error


def test_evaluation_events_become_judgements_a_reviewer_is_offered(
    workspace: Workspace, tmp_path: Path
) -> None:
    """`gen_ai.evaluation.result` (semconv events.yaml), as a span event and as a log record:
    each becomes a judgement; a label and a score both kept, so a choice dimension takes the
    label and a scale the score; an evaluation that failed (error.type) gives none."""
    from reviewer.domain.suggestions import suggest
    from reviewer.resources import default_rubric

    def evaluation(name: str, label: str | None, score: float | None, **more: str) -> list:
        attrs = _kv({"gen_ai.evaluation.name": name, **more})
        if label is not None:
            attrs.append({"key": "gen_ai.evaluation.score.label", "value": {"stringValue": label}})
        if score is not None:
            attrs.append({"key": "gen_ai.evaluation.score.value", "value": {"doubleValue": score}})
        return attrs

    chat = _span(
        "00000000000000c1",
        "chat gpt-4o",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": GENAI_INPUT,
            "gen_ai.output.messages": GENAI_OUTPUT,
        },
    )
    chat["events"] = [
        {
            "name": "gen_ai.evaluation.result",
            "timeUnixNano": str(3 * 10**9),
            "attributes": evaluation(
                "correctness", "correct", 1.0, **{"gen_ai.evaluation.explanation": "Matches."}
            ),
        },
        {
            "name": "gen_ai.evaluation.result",
            "timeUnixNano": str(3 * 10**9 + 1),
            "attributes": evaluation("policy", None, None, **{"error.type": "timeout"}),
        },
    ]
    spans_file = tmp_path / "spans.jsonl"
    spans_file.write_bytes(orjson.dumps(_export([chat])) + b"\n")
    record = {
        "eventName": "gen_ai.evaluation.result",
        "traceId": TRACE,
        "spanId": "00000000000000c1",
        "timeUnixNano": str(4 * 10**9),
        "attributes": evaluation("quality", "good", 4.0),
    }
    logs_file = tmp_path / "logs.jsonl"
    doc = {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": [record]}]}]}
    logs_file.write_bytes(orjson.dumps(doc) + b"\n")
    assert import_paths(workspace, [spans_file, logs_file]).imported == 1
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    got = [(j.name, j.value, j.explanation) for j in s.signals.judgements]
    assert got == [
        ("correctness", "correct", "Matches."),
        ("correctness", 1.0, "Matches."),
        ("quality", "good", None),
        ("quality", 4.0, None),
    ]
    offered = {d: x.offered for d, x in suggest(default_rubric(), s.signals.judgements).items()}
    assert offered == {"correctness": "correct", "quality": "4"}
