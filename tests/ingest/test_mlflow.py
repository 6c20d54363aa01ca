"""MLflow traces as MLflow writes them (``Trace.to_json()``; the REST API's form is read
in tests/connect/test_mlflow.py against a real server)."""

from __future__ import annotations

from pathlib import Path

import orjson

from reviewer.domain.session import Role
from reviewer.services import browse
from reviewer.services.importing import import_paths
from reviewer.store.workspace import Workspace

RECORDED = Path(__file__).parent / "data" / "mlflow-trace.json"
"""``mlflow.get_trace(id).to_json()`` of a trace sent by ``send_mlflow_traces.py`` to a
real MLflow 3.17 server (the exception's stack trace left out)."""


def test_an_mlflow_trace_is_one_session_with_tool_calls_and_a_tool_error(
    workspace: Workspace, tmp_path: Path
) -> None:
    summary = import_paths(workspace, [RECORDED])
    assert (summary.imported, summary.rejected, summary.files[0].format) == (1, 0, "mlflow")
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert s.id == "conv-1"  # the trace metadata's mlflow.trace.session
    assert [(st.role, st.content) for st in s.steps] == [
        (Role.SYSTEM, "You are a support agent."),
        (Role.USER, "Where is order 1?"),
        (Role.ASSISTANT, ""),
        (Role.TOOL, "error: order 1 is not in the warehouse system"),
        (Role.ASSISTANT, "Done: error: order 1 is not in the warehouse system"),
    ]
    call = s.steps[2].tool_calls[0]
    assert (call.id, call.name, call.arguments) == ("call_1", "lookup_order", {"order": 1})
    assert s.steps[3].tool_call_id == "call_1" and s.steps[3].is_error
    assert s.final_answer == "Done: error: order 1 is not in the warehouse system"
    assert (s.model, s.agent.name) == ("gpt-4o-mini", "agent")
    assert (s.metrics.input_tokens, s.metrics.output_tokens) == (24, 10)
    assert s.metrics.cost_usd is not None and abs(s.metrics.cost_usd - 9.6e-06) < 1e-12
    assert s.source.ids == {
        "trace_id": "tr-fc59329200823870f6fb7f2bd2b57fc4",
        "span_id": s.spans[0].id,
    }
    tree = {sp.name: (sp.parent_id, sp.status) for sp in s.spans}
    assert tree["lookup_order"] == (s.spans[0].id, "error")
    assert "mlflow.spanInputs" not in s.spans[1].attributes  # read into the messages


def test_a_traced_function_without_llm_spans_is_its_inputs_and_outputs(
    workspace: Workspace, tmp_path: Path
) -> None:
    """``@mlflow.trace`` on plain functions: the root span asked and answered."""
    trace = {
        "info": {"trace_id": "tr-1", "trace_metadata": {}},
        "data": {
            "spans": [
                {
                    "trace_id": "AAAAAAAAAAAAAAAAAAAAAQ==",
                    "span_id": "AAAAAAAAAAE=",
                    "parent_span_id": None,
                    "name": "answer",
                    "start_time_unix_nano": 1_767_225_600_000_000_000,
                    "end_time_unix_nano": 1_767_225_601_000_000_000,
                    "events": [],
                    "status": {"code": "STATUS_CODE_OK", "message": ""},
                    "attributes": {
                        "mlflow.traceRequestId": '"tr-1"',
                        "mlflow.spanType": '"CHAIN"',
                        "mlflow.spanInputs": '{"question": "What is 2+2?"}',
                        "mlflow.spanOutputs": '"4"',
                    },
                }
            ]
        },
    }
    f = tmp_path / "traces.jsonl"
    f.write_bytes(orjson.dumps(trace) + b"\n")
    assert import_paths(workspace, [f]).imported == 1
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert s.id == "tr-1"
    assert [(st.role, st.content) for st in s.steps] == [
        (Role.USER, "What is 2+2?"),
        (Role.ASSISTANT, "4"),
    ]
    assert s.source.ids == {"trace_id": "tr-1", "span_id": "0000000000000001"}


def test_an_anthropic_autolog_span_keeps_its_system_prompt(
    workspace: Workspace, tmp_path: Path
) -> None:
    """``mlflow.anthropic.autolog()`` records the request as Anthropic takes it: the system
    prompt beside the messages, the answer as content blocks."""
    request = {
        "model": "claude-sonnet-4",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi"}],
    }
    answer = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "Hello"}],
    }
    span = {
        "span_id": "AAAAAAAAAAE=",
        "name": "Messages.create",
        "start_time_unix_nano": 1_767_225_600_000_000_000,
        "end_time_unix_nano": 1_767_225_601_000_000_000,
        "status": {"code": "STATUS_CODE_OK", "message": ""},
        "attributes": {
            "mlflow.spanType": '"CHAT_MODEL"',
            "mlflow.spanInputs": orjson.dumps(request).decode(),
            "mlflow.spanOutputs": orjson.dumps(answer).decode(),
            "mlflow.chat.tokenUsage": '{"input_tokens": 9, "output_tokens": 2, "total_tokens": 11}',
        },
    }
    f = tmp_path / "trace.json"
    f.write_bytes(orjson.dumps({"info": {"trace_id": "tr-a"}, "data": {"spans": [span]}}))
    assert import_paths(workspace, [f]).imported == 1
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert [(st.role, st.content) for st in s.steps] == [
        (Role.SYSTEM, "Be brief."),
        (Role.USER, "Hi"),
        (Role.ASSISTANT, "Hello"),
    ]
    assert (s.model, s.metrics.input_tokens, s.metrics.output_tokens) == ("claude-sonnet-4", 9, 2)
