"""Turning the message shapes agent frameworks record into steps.

Recognised: OpenAI Chat Completions messages, OpenAI Responses API items
(`function_call`, `function_call_output`, `message`), Gemini-style `contents` with `parts`,
Anthropic-style content blocks (`tool_use`, `tool_result`), LangChain roles (`human`, `ai`)
and `tool_calls` with `args`. Anything else becomes text as recorded (never dropped).
"""

from __future__ import annotations

from typing import Any

import orjson

from reviewer.domain.session import Role, Step, ToolCall
from reviewer.ingest.records import too_deep

ROLES = {
    "system": Role.SYSTEM,
    "developer": Role.SYSTEM,
    "user": Role.USER,
    "human": Role.USER,
    "assistant": Role.ASSISTANT,
    "ai": Role.ASSISTANT,
    "model": Role.ASSISTANT,
    "tool": Role.TOOL,
    "function": Role.TOOL,
    "ipython": Role.TOOL,
}


def maybe_json(value: Any) -> Any:
    """A JSON string parsed when it parses as an object or array, else unchanged."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
        return value if too_deep(parsed) else parsed
    return value


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _call(call_id: Any, name: Any, args: Any, index: int) -> ToolCall:
    return ToolCall(
        id=str(call_id or f"call_{index}"), name=str(name or "tool"), arguments=maybe_json(args)
    )


def _content(content: Any) -> tuple[str, list[ToolCall], list[tuple[str, str, bool]]]:
    """Text, tool calls and tool results (id, text, error) found in a content value."""
    if content is None:
        return "", [], []
    if isinstance(content, str):
        return content, [], []
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return as_text(content), [], []
    texts: list[str] = []
    calls: list[ToolCall] = []
    results: list[tuple[str, str, bool]] = []
    for i, part in enumerate(content):
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            texts.append(as_text(part))
            continue
        kind = part.get("type")
        fc = part.get("function_call") or part.get("functionCall")
        fr = part.get("function_response") or part.get("functionResponse")
        if kind == "tool_use" or (kind is None and "toolName" in part):
            calls.append(
                _call(
                    part.get("id") or part.get("toolCallId"),
                    part.get("name") or part.get("toolName"),
                    part.get("input", part.get("args")),
                    i,
                )
            )
        elif kind == "tool_result":
            results.append(
                (
                    str(part.get("tool_use_id", "")),
                    as_text(part.get("content")),
                    bool(part.get("is_error")),
                )
            )
        elif isinstance(fc, dict):
            calls.append(_call(fc.get("id"), fc.get("name"), fc.get("args"), i))
        elif isinstance(fr, dict):
            results.append(
                (str(fr.get("id") or fr.get("name") or ""), as_text(fr.get("response")), False)
            )
        elif isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            texts.append(f"[{kind or 'part'}] " + as_text(part))
    return "\n".join(texts), calls, results


def message_steps(message: Any, index: int = 0) -> list[Step]:
    """Steps from one recorded message or item (usually one; tool results may add more)."""
    if isinstance(message, str):
        return [Step(role=Role.USER, content=message)]
    if not isinstance(message, dict):
        return [Step(role=Role.USER, content=as_text(message))]
    kind = message.get("type")
    if "toolName" in message:  # Vercel AI SDK tool call
        return [
            Step(
                role=Role.ASSISTANT,
                tool_calls=[
                    _call(
                        message.get("toolCallId"),
                        message.get("toolName"),
                        message.get("input", message.get("args")),
                        index,
                    )
                ],
            )
        ]
    if kind == "function_call":
        return [
            Step(
                role=Role.ASSISTANT,
                tool_calls=[
                    _call(
                        message.get("call_id") or message.get("id"),
                        message.get("name"),
                        message.get("arguments"),
                        index,
                    )
                ],
            )
        ]
    if kind == "function_call_output":
        return [
            Step(
                role=Role.TOOL,
                tool_call_id=str(message.get("call_id", "")),
                content=as_text(message.get("output")),
            )
        ]
    role = ROLES.get(str(message.get("role", "")).lower())
    if role is None:
        role = Role.ASSISTANT if kind in ("message", "reasoning") else Role.USER
    text, calls, results = _content(message.get("content", message.get("parts")))
    for i, raw in enumerate(message.get("tool_calls") or []):
        if isinstance(raw, dict):
            if isinstance(raw.get("function"), str):  # Inspect: function name, dict arguments
                calls.append(_call(raw.get("id"), raw["function"], raw.get("arguments"), i))
                continue
            fn: dict[str, Any] = raw["function"] if isinstance(raw.get("function"), dict) else raw
            calls.append(
                _call(raw.get("id"), fn.get("name"), fn.get("arguments", fn.get("args")), i)
            )
    if role is Role.TOOL:
        return [
            Step(
                role=Role.TOOL,
                content=text or as_text(message.get("error")),
                tool_call_id=str(message.get("tool_call_id") or message.get("id") or ""),
                name=next(
                    (n for k in ("name", "function") if isinstance(n := message.get(k), str)), None
                ),
                is_error=bool(message.get("error")) or message.get("status") == "error",
            )
        ]
    steps = []
    if results:
        steps += [
            Step(role=Role.TOOL, tool_call_id=cid, content=out, is_error=err)
            for cid, out, err in results
        ]
        if text or calls:
            steps.append(Step(role=role if role is not Role.USER else Role.USER, content=text))
        return steps
    if role is not Role.ASSISTANT and calls:
        role = Role.ASSISTANT
    return [Step(role=role, content=text, tool_calls=calls)]


def messages_to_steps(value: Any) -> list[Step]:
    """Steps from a recorded input or output of any recognised shape."""
    value = maybe_json(value)
    if value is None or value == "":
        return []
    if isinstance(value, dict):
        for key in ("messages", "contents", "input", "prompt"):
            if key in value and value[key] not in (None, ""):
                return messages_to_steps(value[key])
        if isinstance(value.get("choices"), list) and value["choices"]:
            first = value["choices"][0]
            return messages_to_steps(
                first.get("message", first) if isinstance(first, dict) else first
            )
        if isinstance(value.get("output"), list):
            return messages_to_steps(value["output"])
        if isinstance(value.get("message"), dict):
            return messages_to_steps(value["message"])
        if isinstance(value.get("content"), dict) and "parts" in value["content"]:
            inner = dict(value["content"])
            inner.setdefault("role", "model")
            return message_steps(inner)
        if "role" in value or "type" in value:
            return message_steps(value)
        return [Step(role=Role.USER, content=as_text(value))]
    if isinstance(value, list):
        steps: list[Step] = []
        for i, item in enumerate(value):
            steps += message_steps(item, i)
        return steps
    return [Step(role=Role.USER, content=as_text(value))]
