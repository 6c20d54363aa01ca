"""OpenAI Agents SDK traces as its tracing processors export them: one JSON object per
line, a trace (``{"object": "trace", "id", "workflow_name", "group_id"}``) or a span
(``{"object": "trace.span", "id", "trace_id", "parent_id", "started_at", "ended_at",
"span_data": {...}, "error"}``), as ``Trace.export()`` / ``Span.export()`` give them.

The spans are read into the same form as OTLP spans and assembled the same way
(:mod:`reviewer.ingest.assembly`, :func:`reviewer.ingest.otlp.assemble`): a trace's spans
form one session, traces sharing a ``group_id`` (the SDK's conversation id) one session.
``generation`` spans give the messages (Chat Completions messages), ``function`` spans the
tool runs (their ``error`` a tool error), ``agent`` spans the agent's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.domain.session import Session
from reviewer.ingest import otlp
from reviewer.ingest.records import RecordError
from reviewer.ingest.values import parse_time

NAME = "openai-agents"


def looks_like(value: Any) -> bool:
    return isinstance(value, dict) and (
        value.get("object") in ("trace", "trace.span")
        or (isinstance(value.get("span_data"), dict) and "trace_id" in value)
    )


def _attrs(data: dict[str, Any]) -> dict[str, Any]:
    """The span's data as the OpenTelemetry GenAI attributes it stands for."""
    kind = data.get("type")
    attrs: dict[str, Any] = {"openai.agents.span_type": str(kind)}
    if kind == "generation":
        found = data.get("usage")
        usage: dict[str, Any] = found if isinstance(found, dict) else {}
        attrs |= {
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": data.get("input"),
            "gen_ai.output.messages": data.get("output"),
            "gen_ai.request.model": data.get("model"),
            "gen_ai.usage.input_tokens": usage.get("input_tokens", usage.get("prompt_tokens")),
            "gen_ai.usage.output_tokens": usage.get(
                "output_tokens", usage.get("completion_tokens")
            ),
        }
    elif kind == "function":
        attrs |= {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": data.get("name"),
            "gen_ai.tool.call.arguments": data.get("input"),
            "gen_ai.tool.call.result": data.get("output"),
        }
    elif kind == "agent":
        attrs |= {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": data.get("name")}
    elif kind == "response":
        attrs["gen_ai.response.id"] = data.get("response_id")
    return {k: v for k, v in attrs.items() if v is not None}


def records(value: Any, file: str, line: int) -> list[dict[str, Any]]:
    """The record as a span in the form :func:`reviewer.ingest.otlp.assemble` reads."""
    if value.get("object") == "trace":
        trace = str(value.get("id") or "")
        if not trace:
            raise RecordError("a trace without an id")
        attrs = {"gen_ai.conversation.id": value.get("group_id")}
        return [
            otlp.span_record(
                trace=trace,
                span_id=f"trace-{trace}",
                name=str(value.get("workflow_name") or "trace"),
                attrs={k: v for k, v in attrs.items() if v},
                file=file,
                line=line,
                fmt=NAME,
            )
        ]
    trace, span_id = str(value.get("trace_id") or ""), str(value.get("id") or "")
    if not trace or not span_id:
        raise RecordError("a span without a trace id or an id")
    got, failed = value.get("span_data"), value.get("error")
    data: dict[str, Any] = got if isinstance(got, dict) else {}
    error: dict[str, Any] | None = failed if isinstance(failed, dict) else None
    message = str(error.get("message") or "") if error else ""
    if error and isinstance(error.get("data"), dict):
        message = message or str(error["data"])
    return [
        otlp.span_record(
            trace=trace,
            span_id=span_id,
            parent=str(value["parent_id"]) if value.get("parent_id") else f"trace-{trace}",
            name=str(data.get("name") or data.get("type") or "span"),
            start=parse_time(value.get("started_at")),
            end=parse_time(value.get("ended_at")),
            status="error" if error else "ok",
            status_message=message,
            attrs=_attrs(data),
            file=file,
            line=line,
            fmt=NAME,
        )
    ]


def sessions(value: Any, file: str, line: int) -> Iterator[Session]:
    """The sessions of one record on its own (an import assembles all of its records)."""
    yield from otlp.assemble(records(value, file, line))
