"""MLflow traces: one trace per record, as MLflow's REST API gives it
(``GET /api/3.0/mlflow/traces/batchGet``: ``{"trace_info": {...}, "spans": [...]}``, spans
in OTLP protobuf JSON) or as ``mlflow.get_trace(id).to_json()`` writes it
(``{"info": {...}, "data": {"spans": [...]}}``, each attribute a JSON string).

MLflow records what a span did in its own attributes, read here as the OpenTelemetry
GenAI attributes they stand for and assembled like OTLP spans
(:func:`reviewer.ingest.otlp.assemble`):

- ``mlflow.spanType`` says what the span is: ``LLM`` / ``CHAT_MODEL`` spans give the
  messages (``mlflow.spanInputs`` holds the request, its ``messages``, and
  ``mlflow.spanOutputs`` the response: OpenAI, Anthropic, LangChain and other shapes the
  message reader knows), ``TOOL`` spans the tool runs (inputs the arguments, outputs the
  result, an error status or ``exception`` event a tool error), ``AGENT`` spans the
  agent's name;
- ``mlflow.chat.tokenUsage`` (``input_tokens``, ``output_tokens``) the tokens,
  ``mlflow.llm.cost`` (``total_cost``) the cost, ``mlflow.llm.model`` the model;
- a trace with no LLM span (plain ``@mlflow.trace`` functions) is its root span's inputs
  as the user's turn and its outputs as the answer;
- the trace metadata ``mlflow.trace.session`` groups traces into one session, in time order.

Provenance ids: ``trace_id`` is MLflow's trace id (``tr-…``, what assessments attach to),
``span_id`` the root span's.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from reviewer.domain.session import Session
from reviewer.ingest import otlp
from reviewer.ingest.records import RecordError
from reviewer.ingest.values import parse_time

NAME = "mlflow"
_LLM_TYPES = {"LLM", "CHAT_MODEL"}
_READ = {"mlflow.spanInputs", "mlflow.spanOutputs", "mlflow.chat.tokenUsage"}
"""Attributes read into messages, tool runs or token counts (not kept again as they are)."""
_STATUS = {"STATUS_CODE_OK": "ok", "STATUS_CODE_ERROR": "error", "OK": "ok", "ERROR": "error"}


def _info(value: dict[str, Any]) -> dict[str, Any] | None:
    info = value.get("trace_info", value.get("info"))
    return info if isinstance(info, dict) else None


def _spans(value: dict[str, Any]) -> Any:
    if "spans" in value:
        return value["spans"]
    data = value.get("data")
    return data.get("spans") if isinstance(data, dict) else None


def looks_like(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    info = _info(value)
    return (
        info is not None
        and isinstance(info.get("trace_id", info.get("request_id")), str)
        and isinstance(_spans(value), list)
    )


def _any(v: Any) -> Any:
    """An OTLP ``AnyValue`` in protobuf JSON (snake_case or camelCase) as a plain value."""
    if not isinstance(v, dict):
        return v
    for key in ("string_value", "stringValue", "bool_value", "boolValue"):
        if key in v:
            return v[key]
    for key in ("double_value", "doubleValue"):
        if key in v:
            return float(v[key])
    for key in ("int_value", "intValue"):
        if key in v:
            return int(v[key])
    for key in ("array_value", "arrayValue"):
        if key in v:
            return [_any(x) for x in (v[key] or {}).get("values") or []]
    for key in ("kvlist_value", "kvlistValue"):
        if key in v:
            return _attr_list((v[key] or {}).get("values"))
    return v.get("bytes_value", v.get("bytesValue"))


def _attr_list(items: Any) -> dict[str, Any]:
    pairs = [a for a in items or [] if isinstance(a, dict) and "key" in a]
    return {str(a["key"]): _any(a.get("value")) for a in pairs}


def _attributes(raw: Any) -> dict[str, Any]:
    """Span attributes: a list of ``{key, value}`` (the REST API) or a dict of JSON strings
    (``Span.to_dict``)."""
    if isinstance(raw, list):
        return _attr_list(raw)
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if isinstance(v, str):
            with contextlib.suppress(ValueError):
                v = json.loads(v)
        out[str(k)] = v
    return out


def _id(raw: Any) -> str:
    """Span ids: base64 (protobuf JSON, ``Span.to_dict``) or hex (older exports)."""
    text = str(raw or "")
    if not text:
        return ""
    if len(text) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    try:
        return base64.b64decode(text, validate=True).hex()
    except (binascii.Error, ValueError):
        return text


def _time(span: dict[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        v = span.get(key)
        if v not in (None, "", 0, "0"):
            try:
                return parse_time(int(v) / 1e9)
            except (TypeError, ValueError):
                return parse_time(v)
    return None


def _status(span: dict[str, Any]) -> tuple[str, str]:
    st = span.get("status")
    if isinstance(st, dict):
        code, message = st.get("code", st.get("status_code")), st.get("message")
    else:
        code, message = span.get("status_code", st), span.get("status_message")
    return _STATUS.get(str(code or "").upper(), "unset"), str(message or "")


def _events(span: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for e in span.get("events") or []:
        if isinstance(e, dict):
            out.append(
                {
                    "name": str(e.get("name") or ""),
                    "time": _time(e, "time_unix_nano", "timeUnixNano", "timestamp"),
                    "attrs": _attributes(e.get("attributes")),
                    "body": None,
                }
            )
    return out


def _genai(name: str, attrs: dict[str, Any], kind: str) -> dict[str, Any]:
    """MLflow's span attributes, with the GenAI attributes they stand for."""
    usage = attrs.get("mlflow.chat.tokenUsage")
    usage = usage if isinstance(usage, dict) else {}
    inputs, outputs = attrs.get("mlflow.spanInputs"), attrs.get("mlflow.spanOutputs")
    out = {k: v for k, v in attrs.items() if k not in _READ or kind not in (*_LLM_TYPES, "TOOL")}
    if kind in _LLM_TYPES:
        model = attrs.get("mlflow.llm.model")
        if model is None and isinstance(inputs, dict):
            model = inputs.get("model")
        system = inputs.get("system") if isinstance(inputs, dict) else None
        out |= {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": model,
            "gen_ai.system_instructions": system,  # Anthropic's request keeps it apart
            "gen_ai.input.messages": inputs,
            "gen_ai.output.messages": outputs,
        }
    elif kind == "TOOL":
        out |= {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.arguments": inputs,
            "gen_ai.tool.call.result": outputs,
        }
    elif kind == "AGENT":
        out |= {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name}
    cost = attrs.get("mlflow.llm.cost")
    out |= {
        "gen_ai.usage.input_tokens": usage.get("input_tokens"),
        "gen_ai.usage.output_tokens": usage.get("output_tokens"),
        "gen_ai.usage.cost": cost.get("total_cost") if isinstance(cost, dict) else None,
    }
    return {k: v for k, v in out.items() if v is not None}


def records(value: Any, file: str, line: int) -> list[dict[str, Any]]:
    """The trace's spans in the form :func:`reviewer.ingest.otlp.assemble` reads."""
    info = _info(value) or {}
    trace = str(info.get("trace_id") or info.get("request_id") or "")
    if not trace:
        raise RecordError("an MLflow trace without a trace id")
    meta = info.get("trace_metadata", info.get("request_metadata")) or {}
    if isinstance(meta, list):  # older protobuf JSON: [{key, value}]
        meta = {m.get("key"): m.get("value") for m in meta if isinstance(m, dict)}
    session = meta.get("mlflow.trace.session") if isinstance(meta, dict) else None
    out: list[dict[str, Any]] = []
    llm = False
    for span in _spans(value) or []:
        if not isinstance(span, dict):
            continue
        found = span.get("context")  # MLflow 2: {"span_id", "trace_id"}, hex
        ctx: dict[str, Any] = found if isinstance(found, dict) else {}
        span_id = _id(span.get("span_id") or ctx.get("span_id"))
        if not span_id:
            raise RecordError("an MLflow span without a span id")
        attrs = _attributes(span.get("attributes"))
        kind = str(attrs.get("mlflow.spanType") or "").upper()
        llm = llm or kind in _LLM_TYPES
        name = str(span.get("name") or attrs.get("mlflow.spanFunctionName") or "span")
        status, message = _status(span)
        parent = _id(span.get("parent_span_id") or span.get("parent_id")) or None
        record = otlp.span_record(
            trace=trace,
            span_id=span_id,
            parent=parent,
            name=name,
            start=_time(span, "start_time_unix_nano", "start_time"),
            end=_time(span, "end_time_unix_nano", "end_time"),
            status=status,
            status_message=message,
            attrs=_genai(name, attrs, kind),
            file=file,
            line=line,
            fmt=NAME,
        )
        record["events"] = _events(span)
        out.append(record)
    if not out:
        raise RecordError(f"MLflow trace {trace} has no spans")
    ids = {s["id"] for s in out}
    root = next((s for s in out if s["parent"] not in ids), out[0])
    if session:
        root["attrs"]["session.id"] = str(session)
    if not llm:  # plain traced functions: the root's inputs asked, its outputs answered
        a = root["attrs"]
        if a.get("mlflow.spanInputs") is not None:
            a["gen_ai.input.messages"] = [
                {"role": "user", "content": _text(a.get("mlflow.spanInputs"))}
            ]
        if a.get("mlflow.spanOutputs") is not None:
            a["gen_ai.output.messages"] = [
                {"role": "assistant", "content": _text(a.get("mlflow.spanOutputs"))}
            ]
    return out


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        only = next(iter(value.values()))
        if isinstance(only, str):
            return only
    return json.dumps(value, ensure_ascii=False, default=str)


def sessions(value: Any, file: str, line: int) -> Iterator[Session]:
    """The sessions of one record on its own (an import assembles all of its records)."""
    yield from otlp.assemble(records(value, file, line))
