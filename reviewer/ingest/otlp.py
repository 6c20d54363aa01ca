"""OTLP/JSON traces and logs carrying OpenTelemetry GenAI or OpenInference (Arize Phoenix)
attributes: one `TracesData` or `LogsData` document per file or per line.

An import collects the spans and log records of all its files first
(:mod:`reviewer.ingest.assembly`): log records join their span by trace and span id; the
spans of one trace form one session, whatever line or file they came from; the session id
found on any span of a trace (:data:`SESSION_KEYS`) names its session, and traces sharing
one form one session in time order. The conversation is merged from every span that
recorded messages (:mod:`reviewer.ingest.transcript`) and the tool spans add their calls,
results and errors; every span is kept in the span tree. Provenance ids: `trace_id` and
`span_id` (of the root span), `trace_ids` when a session has several traces.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from reviewer.domain.session import (
    Agent,
    Judgement,
    Metrics,
    Role,
    Session,
    Signals,
    Source,
    Span,
    Step,
    ToolCall,
)
from reviewer.ingest.judgements import judgement
from reviewer.ingest.messages import (
    ROLES,
    genai_steps,
    maybe_json,
    message_steps,
    messages_to_steps,
    system_instructions,
)
from reviewer.ingest.records import RecordError
from reviewer.ingest.transcript import EARLY, Recorded, ToolRun, merge_steps, transcript

NAME = "otlp"
_LLM_OPS = {"chat", "generate_content", "text_completion"}
_STATUS = {0: "unset", 1: "ok", 2: "error"}
_KIND = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_OI_MSG = re.compile(r"^llm\.(input|output)_messages\.(\d+)\.message\.(.+)$")
_OPENLLMETRY_MSG = re.compile(r"^gen_ai\.(prompt|completion)\.(\d+)\.(.+)$")


def looks_like(value: Any) -> bool:
    return isinstance(value, dict) and any(
        isinstance(value.get(k), list)
        for k in ("resourceSpans", "resource_spans", "resourceLogs", "resource_logs")
    )


def _value(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    if "intValue" in v:
        return int(v["intValue"])
    if "arrayValue" in v:
        return [_value(x) for x in (v["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in v:
        return _attrs((v["kvlistValue"] or {}).get("values", []))
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def _attrs(items: Any) -> dict[str, Any]:
    if isinstance(items, dict):
        return dict(items)
    return {
        a["key"]: _value(a.get("value")) for a in items or [] if isinstance(a, dict) and "key" in a
    }


def _hex_id(raw: Any) -> str:
    """Ids are hex from OpenTelemetry exporters and base64 from protobuf converters."""
    text = str(raw or "")
    if re.fullmatch(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{32}", text):
        return text.lower()
    try:
        return base64.b64decode(text, validate=True).hex() if text else ""
    except (binascii.Error, ValueError):
        return text


def _time(nanos: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(nanos) / 1e9, tz=UTC) if nanos else None
    except (TypeError, ValueError, OverflowError):
        return None


def _int_enum(value: Any, table: dict[int, str], default: str) -> str:
    try:
        return table.get(int(value), default)
    except (TypeError, ValueError):
        text = str(value or "").lower().removeprefix("span_kind_").removeprefix("status_code_")
        return text if text in table.values() else default


def _flat_steps(attrs: dict[str, Any], pattern: re.Pattern[str], direction: str) -> list[Step]:
    """Messages flattened into indexed attributes: OpenInference's
    `llm.<input|output>_messages.N.message.*` and OpenLLMetry's
    `gen_ai.<prompt|completion>.N.*` (role, content, tool calls, tool call id)."""
    found: dict[int, dict[str, Any]] = defaultdict(dict)
    for key, value in attrs.items():
        m = pattern.match(key)
        if m and m.group(1) == direction:
            found[int(m.group(2))][m.group(3)] = value
    steps = []
    for _, fields in sorted(found.items()):
        role = ROLES.get(str(fields.get("role")).lower(), Role.USER)
        texts = [str(fields["content"])] if fields.get("content") else []
        texts += [
            str(v)
            for k, v in sorted(fields.items())
            if k.startswith("contents.") and k.endswith("message_content.text")
        ]
        calls = []
        ids = sorted(
            {
                int(digits)
                for k in fields
                if k.startswith("tool_calls.") and (digits := k.split(".")[1]).isdigit()
            }
        )
        for n in ids:
            prefix = f"tool_calls.{n}."
            inner = (
                prefix + "tool_call."
                if any(k.startswith(prefix + "tool_call.") for k in fields)
                else prefix
            )
            calls.append(
                ToolCall(
                    id=str(fields.get(inner + "id") or f"call_{n}"),
                    name=str(
                        fields.get(inner + "function.name") or fields.get(inner + "name") or "tool"
                    ),
                    arguments=maybe_json(
                        fields.get(inner + "function.arguments", fields.get(inner + "arguments"))
                    ),
                )
            )
        if role is Role.TOOL:
            steps.append(
                Step(
                    role=role,
                    content="\n".join(texts),
                    tool_call_id=str(fields.get("tool_call_id") or ""),
                )
            )
        else:
            steps.append(
                Step(
                    role=Role.ASSISTANT if calls else role,
                    content="\n".join(texts),
                    tool_calls=calls,
                )
            )
    return steps


_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
DETAILS_EVENT = "gen_ai.client.inference.operation.details"


def _event_steps(events: list[dict[str, Any]]) -> tuple[list[Step], list[Step]]:
    """The per-message events (`gen_ai.user.message` … `gen_ai.choice`): input, output.
    Their fields are in the body (log records) or the attributes (span events)."""
    inputs: list[Step] = []
    outputs: list[Step] = []
    for e in events:
        name = str(e.get("name", ""))
        fields = {**e["attrs"], **(e["body"] if isinstance(e.get("body"), dict) else {})}
        if name == "gen_ai.choice":
            msg = maybe_json(fields.get("message")) or {}
            msg = msg if isinstance(msg, dict) else {"content": msg}
            outputs += message_steps({**msg, "role": "assistant"})
        elif name in _MESSAGE_EVENTS:
            if isinstance(e.get("body"), str):
                fields["content"] = e["body"]
            msg = {k: v for k, v in fields.items() if not k.startswith("gen_ai.")}
            msg["role"] = _MESSAGE_EVENTS[name]
            inputs += message_steps(msg)
    return inputs, outputs


def _message_attrs(attrs: dict[str, Any]) -> tuple[list[Step], list[Step]]:
    """Input and output messages recorded as attributes, in any convention."""
    inputs = system_instructions(
        attrs.get("gen_ai.system_instructions"), "gen_ai.system_instructions"
    )
    inputs += genai_steps(attrs.get("gen_ai.input.messages"), "gen_ai.input.messages")
    outputs = genai_steps(attrs.get("gen_ai.output.messages"), "gen_ai.output.messages")
    if not (inputs or outputs):
        inputs = _flat_steps(attrs, _OI_MSG, "input")
        outputs = _flat_steps(attrs, _OI_MSG, "output")
    if not (inputs or outputs):
        inputs = _flat_steps(attrs, _OPENLLMETRY_MSG, "prompt")
        outputs = _flat_steps(attrs, _OPENLLMETRY_MSG, "completion")
    if not (inputs or outputs) and attrs.get("langfuse.observation.type") in _LANGFUSE_MESSAGES:
        inputs = messages_to_steps(
            attrs.get("langfuse.observation.input"), "langfuse.observation.input"
        )
        outputs = messages_to_steps(
            attrs.get("langfuse.observation.output"), "langfuse.observation.output"
        )
    if not (inputs or outputs) and (attrs.get("gen_ai.prompt") or attrs.get("gen_ai.completion")):
        # The deprecated form: messages as JSON strings (GenAI parts or OpenAI-style).
        inputs = genai_steps(attrs.get("gen_ai.prompt"), "gen_ai.prompt")
        done = maybe_json(attrs.get("gen_ai.completion"))
        if isinstance(done, dict) and isinstance(done.get("text"), str):
            outputs = [Step(role=Role.ASSISTANT, content=done["text"])]
        else:
            outputs = genai_steps(done, "gen_ai.completion")
    for key in _FRAMEWORK_HISTORY:
        if not (inputs or outputs) and attrs.get(key):
            inputs = messages_to_steps(attrs[key], key)
    if not (inputs or outputs) and attrs.get("ai.prompt.messages"):  # Vercel AI SDK
        inputs = messages_to_steps(attrs["ai.prompt.messages"], "ai.prompt.messages")
        calls = maybe_json(attrs.get("ai.response.toolCalls"))
        text = attrs.get("ai.response.text")
        if text or calls:
            outputs = message_steps(
                {"role": "assistant", "content": [*([text] if text else []), *(calls or [])]}
            )
    return inputs, [
        s.model_copy(update={"role": Role.ASSISTANT}) if s.role is Role.USER else s for s in outputs
    ]


_LANGFUSE_MESSAGES = ("generation", "agent", "chain")
"""Langfuse SDK spans (`langfuse.observation.*`) whose input and output are messages."""
_FRAMEWORK_HISTORY = ("pydantic_ai.all_messages", "all_messages_events")
"""Attributes in which a framework records the whole conversation on its agent span."""


def _recorded(span: dict[str, Any]) -> Recorded | None:
    """The messages a span recorded, from its attributes or its events (or log records)."""
    inputs, outputs = _message_attrs(span["attrs"])
    if not (inputs or outputs):
        for e in span["events"]:
            if e.get("name") == DETAILS_EVENT:
                i, o = _message_attrs(e["attrs"])
                inputs, outputs = inputs + i, outputs + o
    if not (inputs or outputs):
        inputs, outputs = _event_steps(span["events"])
    if not (inputs or outputs):
        return None
    return Recorded(start=span["start"], end=span["end"], input=inputs, output=outputs)


def _is_llm(a: dict[str, Any]) -> bool:
    return (
        a.get("gen_ai.operation.name") in _LLM_OPS
        or a.get("openinference.span.kind") == "LLM"
        or str(a.get("operation.name", "")).endswith((".doGenerate", ".doStream"))  # Vercel
    )


def _event(e: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": str(e.get("name") or e.get("eventName") or ""),
        "time": _time(e.get("timeUnixNano") or e.get("observedTimeUnixNano")),
        "attrs": _attrs(e.get("attributes")),
        "body": _value(e.get("body")) if "body" in e else None,
    }


def span_record(
    *,
    trace: str,
    span_id: str,
    name: str,
    attrs: dict[str, Any],
    file: str,
    line: int,
    fmt: str = NAME,
    parent: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str = "unset",
    status_message: str = "",
) -> dict[str, Any]:
    """A span in the form :func:`assemble` reads, for other span-based formats."""
    return {
        "trace": trace,
        "id": span_id,
        "parent": parent,
        "name": name,
        "kind": "internal",
        "start": start,
        "end": end,
        "status": status,
        "status_message": status_message,
        "attrs": attrs,
        "events": [],
        "resource": {},
        "file": file,
        "line": line,
        "format": fmt,
    }


def _flatten(doc: dict[str, Any], file: str = "", line: int = 0) -> list[dict[str, Any]]:
    """The spans of a ``TracesData`` document and the log records of a ``LogsData`` one,
    as plain dicts (log records with ``"log": True``)."""
    spans = []
    for rs in doc.get("resourceSpans", doc.get("resource_spans")) or []:
        if not isinstance(rs, dict):
            continue
        resource = _attrs((rs.get("resource") or {}).get("attributes"))
        for ss in rs.get("scopeSpans", rs.get("scope_spans")) or []:
            for sp in ss.get("spans") or []:
                if not isinstance(sp, dict):
                    continue
                status = sp.get("status") or {}
                spans.append(
                    {
                        "trace": _hex_id(sp.get("traceId", sp.get("trace_id"))),
                        "id": _hex_id(sp.get("spanId", sp.get("span_id"))),
                        "parent": _hex_id(sp.get("parentSpanId", sp.get("parent_span_id"))) or None,
                        "name": str(sp.get("name") or "span"),
                        "kind": _int_enum(sp.get("kind"), _KIND, "internal"),
                        "start": _time(sp.get("startTimeUnixNano")),
                        "end": _time(sp.get("endTimeUnixNano")),
                        "status": _int_enum(status.get("code"), _STATUS, "unset"),
                        "status_message": str(status.get("message") or ""),
                        "attrs": _attrs(sp.get("attributes")),
                        "events": [
                            _event(e) for e in sp.get("events") or [] if isinstance(e, dict)
                        ],
                        "resource": resource,
                        "file": file,
                        "line": line,
                    }
                )
    for rl in doc.get("resourceLogs", doc.get("resource_logs")) or []:
        if not isinstance(rl, dict):
            continue
        resource = _attrs((rl.get("resource") or {}).get("attributes"))
        for sl in rl.get("scopeLogs", rl.get("scope_logs")) or []:
            for rec in sl.get("logRecords", sl.get("log_records")) or []:
                if not isinstance(rec, dict):
                    continue
                event = _event(rec)
                event["name"] = event["name"] or str(event["attrs"].get("event.name") or "")
                spans.append(
                    {
                        "log": True,
                        "trace": _hex_id(rec.get("traceId", rec.get("trace_id"))),
                        "id": _hex_id(rec.get("spanId", rec.get("span_id"))),
                        "event": event,
                        "resource": resource,
                        "file": file,
                        "line": line,
                    }
                )
    return spans


def _is_genai(event: dict[str, Any]) -> bool:
    """A log record of the GenAI conventions (other application logs are left out)."""
    return event["name"].startswith("gen_ai.") or any(
        k.startswith("gen_ai.") for k in event["attrs"]
    )


def records(doc: Any, file: str, line: int) -> list[dict[str, Any]]:
    """The spans and log records of one document, checked (:class:`RecordError`)."""
    found = [s for s in _flatten(doc, file, line) if not s.get("log") or _is_genai(s["event"])]
    if not found:
        raise RecordError("no spans or GenAI log records in this export")
    for s in found:
        if not s["id"] and not s.get("log"):
            raise RecordError(f"a span of trace {s['trace'] or '?'} has no span id")
    return found


def sessions(doc: Any, file: str, line: int) -> Iterator[Session]:
    """The sessions of one document on its own (an import assembles the spans of all its
    files first: see :mod:`reviewer.ingest.assembly`)."""
    yield from assemble(records(doc, file, line))


SESSION_KEYS = (
    "gen_ai.conversation.id",
    "session.id",
    "langfuse.session.id",
    "session_id",
    "thread_id",
    "conversation_id",
    "ai.telemetry.metadata.sessionId",
    "ai.telemetry.metadata.threadId",
    "langsmith.metadata.session_id",
    "langsmith.metadata.thread_id",
    "langsmith.metadata.conversation_id",
    "metadata.session_id",
    "metadata.thread_id",
    "logfire.session.id",
    "thread.id",
    "conversation.id",
)
"""Attributes that name the conversation a trace belongs to, in order of preference."""


def _session_of(spans: list[dict[str, Any]]) -> str | None:
    """The session id found on any span of a trace (root first)."""
    for key in SESSION_KEYS:
        for s in spans:
            value = s["attrs"].get(key)
            if isinstance(value, str | int) and str(value).strip():
                return str(value)
    return None


def _is_tool(span: dict[str, Any]) -> bool:
    a = span["attrs"]
    return (
        a.get("gen_ai.operation.name") == "execute_tool"
        or a.get("openinference.span.kind") in ("TOOL", "tool")
        or a.get("operation.name") == "ai.toolCall"  # Vercel AI SDK
        or a.get("traceloop.span.kind") == "tool"  # OpenLLMetry
        or a.get("langfuse.observation.type") == "tool"  # Langfuse SDK
    )


def _error(span: dict[str, Any]) -> str | None:
    """Why a span failed (possibly empty), or None when it did not."""
    a = span["attrs"]
    failed = (
        span["status"] == "error"
        or bool(a.get("error.type"))
        or a.get("langfuse.observation.level") == "ERROR"
    )
    messages = [
        str(e["attrs"].get("exception.message") or e["attrs"].get("exception.type") or "")
        for e in span["events"]
        if e.get("name") == "exception"
    ]
    if not (failed or messages):
        return None
    text = span.get("status_message") or next((m for m in messages if m), "")
    text = text or str(a.get("langfuse.observation.status_message") or "")
    return text or str(a.get("error.type") or "")


_TOOL_ARGS = (
    "gen_ai.tool.call.arguments",
    "input.value",
    "ai.toolCall.args",
    "traceloop.entity.input",
    "langfuse.observation.input",
)
_TOOL_RESULT = (
    "gen_ai.tool.call.result",
    "output.value",
    "ai.toolCall.result",
    "traceloop.entity.output",
    "langfuse.observation.output",
)


def _tool_run(span: dict[str, Any]) -> ToolRun:
    a = span["attrs"]
    name = next(
        (
            a[k]
            for k in ("gen_ai.tool.name", "tool.name", "ai.toolCall.name", "traceloop.entity.name")
            if a.get(k)
        ),
        None,
    )
    call_id = a.get("gen_ai.tool.call.id") or a.get("tool_call.id") or a.get("ai.toolCall.id")
    return ToolRun(
        start=span["start"],
        end=span["end"],
        name=str(name or span["name"]).removeprefix("execute_tool "),
        call_id=str(call_id) if call_id else None,
        arguments=next((a[k] for k in _TOOL_ARGS if k in a), None),
        result=next((a[k] for k in _TOOL_RESULT if k in a), None),
        error=_error(span),
    )


def _join_logs(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Spans with the log records of each joined to its events; log records whose span is
    not here become spans of their own (one per trace and span id)."""
    spans = {(s["trace"], s["id"]): s for s in items if not s.get("log")}
    orphans: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in items:
        if not rec.get("log"):
            continue
        key = (rec["trace"], rec["id"])
        target = spans.get(key) or orphans.get(key)
        if target is None:
            at = rec["event"]["time"]
            target = orphans[key] = {
                "trace": rec["trace"] or f"log-{rec['file']}-{rec['line']}",
                "id": rec["id"] or f"log-{rec['line']}",
                "parent": None,
                "name": rec["event"]["name"] or "log",
                "kind": "internal",
                "start": at,
                "end": at,
                "status": "unset",
                "status_message": "",
                "attrs": {},
                "events": [],
                "resource": rec["resource"],
                "file": rec["file"],
                "line": rec["line"],
            }
        elif any(e is rec["event"] for e in target["events"]):
            continue  # joined already (the items are assembled again)
        target["events"] = [*target["events"], rec["event"]]
        at = rec["event"]["time"]
        if key in orphans and at is not None:  # a span made of log records: their range
            target["start"] = min(target["start"] or at, at)
            target["end"] = max(target["end"] or at, at)
    return [*spans.values(), *orphans.values()]


def _sum(spans: list[Span], *keys: str) -> float | None:
    total = 0.0
    for s in spans:
        for k in keys:
            v = s.attributes.get(k)
            try:
                total += float(v) if v is not None and not isinstance(v, bool) else 0
            except (TypeError, ValueError):
                continue
    return total or None


def _stored_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if not k.startswith(_MESSAGE_PREFIXES)}


_MESSAGE_PREFIXES = (
    "langfuse.observation.input",
    "langfuse.observation.output",
    "gen_ai.input.",
    "gen_ai.output.",
    "gen_ai.system_instructions",
    "gen_ai.prompt",
    "gen_ai.completion",
    "llm.input_messages",
    "llm.output_messages",
    "pydantic_ai.all_messages",
    "all_messages_events",
    "ai.prompt.messages",
)
"""Span attributes holding messages: read into steps, not kept again on the span."""


def assemble(items: list[dict[str, Any]]) -> Iterator[Session]:
    """Sessions of spans and log records (as :func:`records` gives them) read from any
    number of records and files: the spans of a trace form one session, traces that
    share a session id one session in time order."""
    spans = _join_logs(items)
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in spans:
        traces[s["trace"]].append(s)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for trace, members in traces.items():
        members.sort(key=_order)
        groups[_session_of(members) or trace] += members
    for key, members in groups.items():
        members.sort(key=_order)
        yield _session(key, members)


def _order(s: dict[str, Any]) -> tuple[datetime, str]:
    return (s["start"] or EARLY, s["id"])


def _session(key: str, members: list[dict[str, Any]]) -> Session:
    ids = {s["id"] for s in members}
    root = next((s for s in members if s["parent"] not in ids), members[0])
    recorded = []
    runs = []
    for s in members:
        if _is_tool(s):
            runs.append(_tool_run(s))
        elif (r := _recorded(s)) is not None:
            recorded.append(r)
    steps = transcript(recorded, runs)
    agent = {
        k: v
        for s in members
        for k, v in s["attrs"].items()
        if k.startswith(("gen_ai.agent.", "agent."))
    }
    traces = list(dict.fromkeys(s["trace"] for s in members))
    source_ids = {"trace_id": root["trace"], "span_id": root["id"]}
    if len(traces) > 1:
        source_ids["trace_ids"] = ",".join(traces)
    spans = [
        Span(
            id=s["id"],
            parent_id=s["parent"],
            name=s["name"],
            kind=s["kind"],
            start=s["start"],
            end=s["end"],
            status=s["status"],
            attributes=_stored_attrs(s["attrs"]),
        )
        for s in members
    ]
    return Session(
        id=key,
        source=Source(
            format=root.get("format", NAME),
            file=root["file"] or None,
            position=f"line {root['line']}, span {root['id']}",
            ids=source_ids,
        ),
        agent=Agent(
            name=agent.get("gen_ai.agent.name")
            or agent.get("agent.name")
            or root["resource"].get("service.name"),
            version=agent.get("gen_ai.agent.version"),
        ),
        started_at=min((s["start"] for s in members if s["start"]), default=None),
        ended_at=max((s["end"] for s in members if s["end"]), default=None),
        steps=steps,
        spans=spans,
        model=_model(spans),
        metrics=_metrics(spans),
        signals=Signals(judgements=_judgements(members)),
    )


EVALUATION = "gen_ai.evaluation.result"


def _judgements(members: list[dict[str, Any]]) -> list[Judgement]:
    """The `gen_ai.evaluation.result` events (span events or log records) of a session's
    spans, in time order. An evaluation with both a label and a score gives a judgement for
    each, so a rubric dimension takes whichever of the two is one of its options (a label
    such as "correct" for a choice, a score such as 4 for a scale)."""
    events = [
        e
        for s in members
        for e in s["events"]
        if e["name"] == EVALUATION or "gen_ai.evaluation.name" in e["attrs"]
    ]
    events.sort(key=lambda e: e["time"] or EARLY)
    found: list[Judgement] = []
    for e in events:
        a = e["attrs"]
        if a.get("error.type"):
            continue  # the evaluation itself failed: no verdict
        name, why = a.get("gen_ai.evaluation.name"), a.get("gen_ai.evaluation.explanation")
        source = a.get("gen_ai.evaluator.name") or a.get("gen_ai.request.model")
        for value in (
            a.get("gen_ai.evaluation.score.label"),
            a.get("gen_ai.evaluation.score.value"),
        ):
            j = judgement(name, value, why, source)
            if j is not None and j not in found:
                found.append(j)
    return found


def _model(spans: list[Span]) -> str | None:
    """The model of the last LLM span that names one."""
    for s in reversed(spans):
        a = s.attributes
        if _is_llm(a):
            found = a.get("gen_ai.response.model") or a.get("gen_ai.request.model")
            found = found or a.get("llm.model_name")
            if found:
                return str(found)
    return None


def _metrics(spans: list[Span]) -> Metrics:
    """Tokens, cost and latency summed over the LLM spans (over all spans when none is
    marked as an LLM call)."""
    llm = [s for s in spans if _is_llm(s.attributes)]
    counted = llm or spans
    tokens_in = _sum(counted, "gen_ai.usage.input_tokens", "llm.token_count.prompt")
    tokens_out = _sum(counted, "gen_ai.usage.output_tokens", "llm.token_count.completion")
    durations = [(s.end - s.start).total_seconds() * 1000 for s in llm if s.start and s.end]
    return Metrics(
        input_tokens=int(tokens_in) if tokens_in else None,
        output_tokens=int(tokens_out) if tokens_out else None,
        cost_usd=_sum(counted, "gen_ai.usage.cost", "llm.cost.total", "gen_ai.cost"),
        latency_ms=sum(durations) if durations else None,
    )


def extend(stored: Session, new: Session) -> Session:
    """A stored session with the spans of a later import added (a trace's spans that
    arrived later, or a later trace of its conversation). The same spans again give the
    stored session unchanged. When the new import holds every stored span, it is the
    whole session on its own (read afresh, by this version of the importer)."""
    if {s.id for s in stored.spans} <= {s.id for s in new.spans}:
        return new
    spans = {s.id: s for s in stored.spans}
    spans.update({s.id: s for s in new.spans})
    merged = sorted(spans.values(), key=lambda s: (s.start or EARLY, s.id))
    ids = dict(stored.source.ids)
    traces = list(
        dict.fromkeys(
            [
                *stored.source.ids.get("trace_ids", ids.get("trace_id", "")).split(","),
                *new.source.ids.get("trace_ids", new.source.ids.get("trace_id", "")).split(","),
            ]
        )
    )
    traces = [t for t in traces if t]
    if len(traces) > 1:
        ids["trace_ids"] = ",".join(traces)
    starts = [t for t in (stored.started_at, new.started_at) if t]
    ends = [t for t in (stored.ended_at, new.ended_at) if t]
    return stored.model_copy(
        update={
            "source": stored.source.model_copy(update={"ids": ids}),
            "agent": stored.agent if stored.agent.name else new.agent,
            "model": _model(merged) or stored.model,
            "started_at": min(starts, default=None),
            "ended_at": max(ends, default=None),
            "steps": merge_steps([stored.steps, new.steps]),
            "spans": merged,
            "metrics": _metrics(merged),
            "signals": stored.signals.model_copy(
                update={
                    "judgements": [
                        *stored.signals.judgements,
                        *(j for j in new.signals.judgements if j not in stored.signals.judgements),
                    ]
                }
            ),
        }
    )
