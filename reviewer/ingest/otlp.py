"""OTLP/JSON traces carrying OpenTelemetry GenAI or OpenInference (Arize Phoenix)
attributes: one `TracesData` document per file or per line.

Spans are grouped into sessions by `gen_ai.conversation.id` or `session.id`, falling back
to the trace id, within one `TracesData` record. The transcript is read from the last LLM
span that recorded messages (`gen_ai.input.messages` / `gen_ai.output.messages`, the older
per-message events, or `llm.input_messages.N.*` / `llm.output_messages.N.*`); every span
is kept in the span tree. Provenance ids: `trace_id` and `span_id` (of the root span).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from reviewer.domain.session import Agent, Metrics, Role, Session, Source, Span, Step, ToolCall
from reviewer.ingest.messages import ROLES, as_text, maybe_json, messages_to_steps
from reviewer.ingest.records import RecordError

NAME = "otlp"
_LLM_OPS = {"chat", "generate_content", "text_completion"}
_STATUS = {0: "unset", 1: "ok", 2: "error"}
_KIND = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_OI_MSG = re.compile(r"^llm\.(input|output)_messages\.(\d+)\.message\.(.+)$")


def looks_like(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(
        value.get("resourceSpans", value.get("resource_spans")), list
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


def _genai_steps(messages: Any) -> list[Step]:
    """GenAI messages: `{role, parts: [text | tool_call | tool_call_response …]}`."""
    steps: list[Step] = []
    for m in maybe_json(messages) or []:
        if not isinstance(m, dict):
            continue
        role = ROLES.get(str(m.get("role")), Role.USER)
        texts: list[str] = []
        calls: list[ToolCall] = []
        for p in m.get("parts") or []:
            if not isinstance(p, dict):
                continue
            kind = p.get("type")
            if kind == "tool_call":
                calls.append(
                    ToolCall(
                        id=str(p.get("id") or f"call_{len(calls)}"),
                        name=str(p.get("name") or "tool"),
                        arguments=maybe_json(p.get("arguments")),
                    )
                )
            elif kind == "tool_call_response":
                body = p.get("response", p.get("result"))
                steps.append(
                    Step(role=Role.TOOL, tool_call_id=str(p.get("id") or ""), content=as_text(body))
                )
            elif isinstance(p.get("content"), str):
                texts.append(p["content"])
            else:
                texts.append(f"[{kind}] " + as_text(p))
        if texts or calls:
            if calls:
                role = Role.ASSISTANT
            steps.append(Step(role=role, content="\n".join(texts), tool_calls=calls))
    return steps


def _openinference_steps(attrs: dict[str, Any], direction: str) -> list[Step]:
    """OpenInference flattened lists: `llm.<direction>_messages.N.message.*`."""
    found: dict[int, dict[str, Any]] = defaultdict(dict)
    for key, value in attrs.items():
        m = _OI_MSG.match(key)
        if m and m.group(1) == direction:
            found[int(m.group(2))][m.group(3)] = value
    steps = []
    for _, fields in sorted(found.items()):
        role = ROLES.get(str(fields.get("role")), Role.USER)
        texts = [str(fields["content"])] if fields.get("content") else []
        texts += [
            str(v)
            for k, v in sorted(fields.items())
            if k.startswith("contents.") and k.endswith("message_content.text")
        ]
        calls = []
        ids = sorted({int(k.split(".")[1]) for k in fields if k.startswith("tool_calls.")})
        for n in ids:
            prefix = f"tool_calls.{n}.tool_call."
            calls.append(
                ToolCall(
                    id=str(fields.get(prefix + "id") or f"call_{n}"),
                    name=str(fields.get(prefix + "function.name") or "tool"),
                    arguments=maybe_json(fields.get(prefix + "function.arguments")),
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


def _event_steps(events: list[dict[str, Any]]) -> list[Step]:
    """The deprecated per-message events (`gen_ai.user.message`, `gen_ai.choice` …)."""
    steps = []
    for e in events:
        name = str(e.get("name", ""))
        attrs = _attrs(e.get("attributes"))
        if name == "gen_ai.choice":
            msg = maybe_json(attrs.get("message")) or {}
            text = msg.get("content") if isinstance(msg, dict) else as_text(msg)
            steps.append(Step(role=Role.ASSISTANT, content=as_text(text)))
        elif name.startswith("gen_ai.") and name.endswith(".message"):
            role = ROLES.get(name.split(".")[1], Role.USER)
            steps.append(
                Step(
                    role=role,
                    content=as_text(attrs.get("content")),
                    tool_call_id=attrs.get("id") if role is Role.TOOL else None,
                )
            )
    return steps


def _transcript(span: dict[str, Any]) -> list[Step]:
    attrs = span["attrs"]
    steps = _genai_steps(attrs.get("gen_ai.system_instructions"))
    steps = [s.model_copy(update={"role": Role.SYSTEM}) for s in steps]
    steps += _genai_steps(attrs.get("gen_ai.input.messages"))
    steps += _genai_steps(attrs.get("gen_ai.output.messages"))
    if len(steps) <= 1:
        steps += _openinference_steps(attrs, "input") + _openinference_steps(attrs, "output")
    if not steps and (attrs.get("gen_ai.prompt") or attrs.get("gen_ai.completion")):
        # The deprecated form: messages as JSON strings (GenAI parts or OpenAI-style).
        prompt = maybe_json(attrs.get("gen_ai.prompt"))
        steps = _genai_steps(prompt) or messages_to_steps(prompt)
        done = maybe_json(attrs.get("gen_ai.completion"))
        if isinstance(done, dict) and isinstance(done.get("text"), str):
            steps.append(Step(role=Role.ASSISTANT, content=done["text"]))
        else:
            steps += [
                s.model_copy(update={"role": Role.ASSISTANT}) if s.role is Role.USER else s
                for s in _genai_steps(done) or messages_to_steps(done)
            ]
    if not steps:
        steps = _event_steps(span["events"])
    return steps


def _is_llm(span: dict[str, Any]) -> bool:
    a = span["attrs"]
    return a.get("gen_ai.operation.name") in _LLM_OPS or a.get("openinference.span.kind") == "LLM"


def _flatten(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spans = []
    for rs in doc.get("resourceSpans", doc.get("resource_spans")) or []:
        resource = _attrs((rs.get("resource") or {}).get("attributes"))
        for ss in rs.get("scopeSpans", rs.get("scope_spans")) or []:
            for sp in ss.get("spans") or []:
                if not isinstance(sp, dict):
                    continue
                spans.append(
                    {
                        "trace": _hex_id(sp.get("traceId", sp.get("trace_id"))),
                        "id": _hex_id(sp.get("spanId", sp.get("span_id"))),
                        "parent": _hex_id(sp.get("parentSpanId", sp.get("parent_span_id"))) or None,
                        "name": str(sp.get("name") or "span"),
                        "kind": _int_enum(sp.get("kind"), _KIND, "internal"),
                        "start": _time(sp.get("startTimeUnixNano")),
                        "end": _time(sp.get("endTimeUnixNano")),
                        "status": _int_enum((sp.get("status") or {}).get("code"), _STATUS, "unset"),
                        "attrs": _attrs(sp.get("attributes")),
                        "events": [e for e in sp.get("events") or [] if isinstance(e, dict)],
                        "resource": resource,
                    }
                )
    return spans


def _number(spans: list[dict[str, Any]], *keys: str) -> int | None:
    total = sum(
        int(v)
        for s in spans
        for k in keys
        if isinstance(v := s["attrs"].get(k), int | float | str) and str(v).isdigit()
    )
    return total or None


def sessions(doc: Any, file: str, line: int) -> Iterator[Session]:
    spans = _flatten(doc)
    if not spans:
        raise RecordError("no spans in this export")
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in spans:
        if not s["id"]:
            raise RecordError(f"a span of trace {s['trace'] or '?'} has no span id")
        a = s["attrs"]
        key = a.get("gen_ai.conversation.id") or a.get("session.id") or s["trace"]
        groups[str(key)].append(s)
    for key, members in groups.items():
        members.sort(key=lambda s: (s["start"] or datetime.min.replace(tzinfo=UTC), s["id"]))
        # The latest LLM span that carries messages holds the whole conversation.
        llm = [s for s in members if _is_llm(s)]
        transcripts = [(s, t) for s in llm if (t := _transcript(s))]
        latest = max(
            transcripts,
            default=None,
            key=lambda st: st[0]["end"] or datetime.min.replace(tzinfo=UTC),
        )
        best, steps = latest if latest else (None, [])
        ids = {s["id"] for s in members}
        root = next((s for s in members if s["parent"] not in ids), members[0])
        attrs = {
            k: v
            for s in members
            for k, v in s["attrs"].items()
            if k.startswith(("gen_ai.agent.", "agent."))
        }
        model_attrs = best["attrs"] if best else {}
        yield Session(
            id=key,
            source=Source(
                format=NAME,
                file=file,
                position=f"line {line}, span {root['id']}",
                ids={"trace_id": root["trace"], "span_id": root["id"]},
            ),
            agent=Agent(
                name=attrs.get("gen_ai.agent.name")
                or attrs.get("agent.name")
                or root["resource"].get("service.name"),
                version=attrs.get("gen_ai.agent.version"),
            ),
            model=model_attrs.get("gen_ai.response.model")
            or model_attrs.get("gen_ai.request.model")
            or model_attrs.get("llm.model_name"),
            started_at=members[0]["start"],
            ended_at=max((s["end"] for s in members if s["end"]), default=None),
            steps=steps,
            spans=[
                Span(
                    id=s["id"],
                    parent_id=s["parent"],
                    name=s["name"],
                    kind=s["kind"],
                    start=s["start"],
                    end=s["end"],
                    status=s["status"],
                    attributes={
                        k: v
                        for k, v in s["attrs"].items()
                        if not k.startswith(
                            (
                                "gen_ai.input.",
                                "gen_ai.output.",
                                "llm.input_messages",
                                "llm.output_messages",
                            )
                        )
                    },
                )
                for s in members
            ],
            metrics=Metrics(
                input_tokens=_number(llm, "gen_ai.usage.input_tokens", "llm.token_count.prompt"),
                output_tokens=_number(
                    llm, "gen_ai.usage.output_tokens", "llm.token_count.completion"
                ),
            ),
        )
