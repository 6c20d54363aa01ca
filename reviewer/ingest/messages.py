"""Turning the message shapes agent frameworks record into steps.

Recognised (each looked up in its own documentation or source):

- OpenTelemetry GenAI semantic conventions: messages with `parts` (`text`, `tool_call`,
  `tool_call_response`, `reasoning`, `blob` / `file` / `uri`, `server_tool_call(_response)`)
  and `gen_ai.system_instructions` (a list of parts);
- OpenAI Chat Completions messages (content parts, `tool_calls`, `refusal`) and Responses
  API items (`message`, `function_call(_output)`, `reasoning`, `custom_tool_call(_output)`,
  `mcp_call` and the built-in `*_call` items);
- Anthropic content blocks (`text`, `tool_use`, `tool_result` with `is_error`, `thinking`,
  `server_tool_use` and `*_tool_result`, `image` / `document`);
- Gemini `contents` / `parts` (`text`, `functionCall`, `functionResponse`, `inlineData`,
  `fileData`, thought parts);
- Amazon Bedrock Converse blocks (`text`, `toolUse`, `toolResult` with `status`,
  `reasoningContent`, `image` / `document`);
- LangChain / LangGraph messages (`human` / `ai` / `tool` / `system` dicts, `tool_calls`,
  `additional_kwargs`, `status`, and the serialised `{"lc": 1, "type": "constructor"}` form);
- the Vercel AI SDK (`tool-call` / `tool-result` parts, `isError`, typed outputs);
- pydantic-ai messages (`kind` request / response, parts by `part_kind`, `retry-prompt` as a
  tool error).

Media (images, audio, files) become a placeholder naming them; their data is never loaded.
Anything else is kept as pretty-printed JSON under the note "shape not recognised", and the
step says where (``metadata["unrecognised"]``: JSON paths), so an import can count it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from reviewer.domain.session import UNRECOGNISED, Role, Step, ToolCall
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
    # LangChain class names (serialised `lc` constructors) and message types
    "humanmessage": Role.USER,
    "aimessage": Role.ASSISTANT,
    "aimessagechunk": Role.ASSISTANT,
    "systemmessage": Role.SYSTEM,
    "toolmessage": Role.TOOL,
    "functionmessage": Role.TOOL,
    "chatmessage": Role.USER,
}
NOT_RECOGNISED = "shape not recognised"
_MEDIA = {
    "image",
    "image_url",
    "input_image",
    "input_audio",
    "audio",
    "input_file",
    "file",
    "document",
    "blob",
    "uri",
    "inlineData",
    "inline_data",
    "fileData",
    "file_data",
    "video",
}
_TEXT_TYPES = {"text", "input_text", "output_text", "summary_text", "reasoning_text"}


def maybe_json(value: Any) -> Any:
    """A JSON string parsed when it parses as an object or array, else unchanged."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
        return value if too_deep(parsed) else parsed
    return value


LITERAL_LIMIT = 100_000
"""Longer text is never read as a Python literal (``ast`` is slow on large input)."""


def maybe_literal(value: Any) -> Any:
    """:func:`maybe_json`, and a Python literal's repr (``{'role': 'user', …}``, as some
    tracers write a dict they did not serialise) parsed safely (``ast.literal_eval``)."""
    parsed = maybe_json(value)
    if isinstance(parsed, str) and parsed[:1] in ("{", "[") and len(parsed) < LITERAL_LIMIT:
        try:
            literal = ast.literal_eval(parsed)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            return parsed
        if isinstance(literal, dict | list) and not too_deep(literal):
            return literal
    return parsed


_REPR_FIELD = re.compile(r"(?:^|\s)([a-z_][a-z0-9_]*)=")


def fields_repr(text: str) -> dict[str, Any] | None:
    """The fields of a message logged as a pydantic model's ``str()``
    (``role='user' content='Hi' name=None tool_calls=[...] ...``, as Agno records them), or
    None when ``text`` is not one. Each value is read as a Python literal (safely, with
    ``ast.literal_eval``); one that is not a literal is kept as text."""
    if not text.startswith("role=") or len(text) > LITERAL_LIMIT:
        return None
    starts = [(m.start(1), m.end()) for m in _REPR_FIELD.finditer(text)]
    fields: dict[str, Any] = {}
    i = 0
    while i < len(starts):
        key = text[starts[i][0] : starts[i][1] - 1]
        begin = starts[i][1]
        # The value runs to the first later field start at which it reads as a literal.
        for j in range(i + 1, len(starts) + 1):
            end = starts[j][0] if j < len(starts) else len(text)
            raw = text[begin:end].strip()
            try:
                fields[key] = ast.literal_eval(raw)
            except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
                continue
            i = j
            break
        else:
            end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
            fields[key] = text[begin:end].strip()
            i += 1
    return fields if isinstance(fields.get("role"), str) else None


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode()


def raw_text(value: Any) -> str:
    """How a value whose shape was not recognised is shown: the note, then pretty JSON."""
    return f"({NOT_RECOGNISED})\n{as_text(value)}"


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _call(call_id: Any, name: Any, args: Any, index: int) -> ToolCall:
    return ToolCall(
        id=str(call_id or f"call_{index}"), name=str(name or "tool"), arguments=maybe_json(args)
    )


@dataclass
class _Found:
    """What the parts of one message hold."""

    texts: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    results: list[tuple[str, str, bool, str | None]] = field(default_factory=list)
    """(call id, text, error, tool name)"""
    raw: list[str] = field(default_factory=list)
    """JSON paths of what was kept raw."""

    def unknown(self, value: Any, path: str) -> None:
        self.texts.append(raw_text(value))
        self.raw.append(path)


def _result_text(value: Any) -> str:
    """A tool result's text: blocks of text joined, anything else as JSON."""
    value = maybe_json(value)
    if isinstance(value, list) and all(isinstance(b, dict | str) for b in value):
        texts = []
        for b in value:
            if isinstance(b, str):
                texts.append(b)
            elif isinstance(b.get("text"), str):
                texts.append(b["text"])
            elif "json" in b:
                texts.append(as_text(b["json"]))
            else:
                return as_text(value)
        return "\n".join(texts)
    if isinstance(value, dict) and value.get("type") in (
        "text",
        "json",
        "error-text",
        "error-json",
    ):
        return as_text(value.get("value", value.get("text")))
    return as_text(value)


def _media(part: dict[str, Any], kind: str) -> str:
    """A placeholder for media: what it is, never its data."""
    mime = part.get("mime_type") or part.get("mimeType") or part.get("media_type")
    got = part.get(kind)
    inner: dict[str, Any] = got if isinstance(got, dict) else {}
    mime = mime or inner.get("mimeType") or inner.get("mime_type") or inner.get("format")
    where = (
        part.get("uri")
        or part.get("file_id")
        or part.get("filename")
        or inner.get("fileUri")
        or inner.get("url")
        or inner.get("file_id")
        or part.get("image_url")
    )
    if isinstance(where, dict):
        where = where.get("url")
    if isinstance(where, str) and where.startswith("data:"):
        where = None  # inline data: not shown
    label = part.get("modality") or kind
    bits = [str(label)] + [str(x) for x in (mime, where) if x]
    return f"[{' '.join(bits)}, not loaded]"


def _part(part: Any, path: str, index: int, found: _Found) -> None:
    """Read one content part or block into ``found``."""
    if isinstance(part, str):
        found.texts.append(part)
        return
    if not isinstance(part, dict):
        found.unknown(part, path)
        return
    kind = part.get("type") or part.get("part_kind")
    kind = kind if isinstance(kind, str) else None
    fc = part.get("function_call") or part.get("functionCall")
    fr = part.get("function_response") or part.get("functionResponse")
    if (
        kind in ("tool_use", "tool-call", "tool_call")
        or (kind or "").endswith("_tool_use")  # Anthropic server_tool_use, mcp_tool_use
        or (kind is None and "toolName" in part and "toolCallId" in part)
    ):
        found.calls.append(
            _call(
                part.get("id") or part.get("toolCallId") or part.get("tool_call_id"),
                part.get("name") or part.get("toolName") or part.get("tool_name"),
                part.get("input", part.get("args", part.get("arguments"))),
                index,
            )
        )
    elif kind == "server_tool_call":
        payload = part.get("server_tool_call")
        name = payload.get("type") if isinstance(payload, dict) else None
        found.calls.append(_call(part.get("id"), part.get("name") or name, payload, index))
    elif (
        kind in ("tool_result", "tool_call_response", "server_tool_call_response", "tool-return")
        or (kind or "").endswith("_tool_result")  # Anthropic web_search_tool_result …
    ):
        body = next(
            (
                part[k]
                for k in ("content", "response", "result", "output", "server_tool_call_response")
                if k in part
            ),
            None,
        )
        found.results.append(
            (
                str(part.get("tool_use_id") or part.get("id") or part.get("tool_call_id") or ""),
                _result_text(body),
                bool(part.get("is_error")),
                _name(part.get("tool_name") or part.get("name")),
            )
        )
    elif kind == "tool-result":  # Vercel AI SDK
        output = part.get("output", part.get("result"))
        error = bool(part.get("isError")) or (
            isinstance(output, dict) and str(output.get("type", "")).startswith("error")
        )
        found.results.append(
            (
                str(part.get("toolCallId") or ""),
                _result_text(output),
                error,
                _name(part.get("toolName")),
            )
        )
    elif kind == "retry-prompt":  # pydantic-ai: a tool's arguments or run were refused
        if part.get("tool_name"):
            found.results.append(
                (
                    str(part.get("tool_call_id") or ""),
                    _result_text(part.get("content")),
                    True,
                    _name(part.get("tool_name")),
                )
            )
        else:
            found.texts.append(_result_text(part.get("content")))
    elif isinstance(part.get("toolUse"), dict):  # Bedrock Converse
        use = part["toolUse"]
        found.calls.append(_call(use.get("toolUseId"), use.get("name"), use.get("input"), index))
    elif isinstance(part.get("toolResult"), dict):
        res = part["toolResult"]
        found.results.append(
            (
                str(res.get("toolUseId") or ""),
                _result_text(res.get("content")),
                res.get("status") == "error",
                None,
            )
        )
    elif isinstance(fc, dict):
        found.calls.append(_call(fc.get("id"), fc.get("name"), fc.get("args"), index))
    elif isinstance(fr, dict):
        found.results.append(
            (
                str(fr.get("id") or fr.get("name") or ""),
                _result_text(fr.get("response")),
                False,
                _name(fr.get("name")),
            )
        )
    elif kind in ("reasoning", "thinking", "redacted_thinking") or part.get("thought") is True:
        text = next(
            (part[k] for k in ("content", "thinking", "text", "reasoning") if k in part), None
        )
        if isinstance(text, str) and text:
            found.texts.append(f"(reasoning) {text}")
        elif kind == "redacted_thinking" or "signature" in part or "data" in part:
            found.texts.append("(reasoning not shown)")
        else:
            found.unknown(part, path)
    elif isinstance(part.get("reasoningContent"), dict):
        inner = part["reasoningContent"].get("reasoningText") or {}
        found.texts.append(f"(reasoning) {inner.get('text', '')}".rstrip())
    elif kind == "refusal" and isinstance(part.get("refusal"), str):
        found.texts.append(part["refusal"])
    elif kind in _TEXT_TYPES or kind in (None, "system-prompt", "user-prompt"):
        text = part.get("content") if kind in ("system-prompt", "user-prompt") else None
        text = text if text is not None else part.get("text", part.get("content"))
        if isinstance(text, str):
            found.texts.append(text)
        elif kind is None and (media := next((k for k in _MEDIA if k in part), None)):
            found.texts.append(_media(part, media))
        elif isinstance(text, list):
            _content_into(text, f"{path}.content", found)
        else:
            found.unknown(part, path)
    elif kind in _MEDIA:
        found.texts.append(_media(part, kind))
    else:
        found.unknown(part, path)


def _content_into(content: Any, path: str, found: _Found) -> None:
    if content is None:
        return
    if isinstance(content, str):
        found.texts.append(content)
        return
    if isinstance(content, dict):
        _part(content, path, 0, found)
        return
    if not isinstance(content, list):
        found.texts.append(as_text(content))
        return
    for i, part in enumerate(content):
        _part(part, f"{path}[{i}]", i, found)


def _content(content: Any, path: str = "content") -> _Found:
    found = _Found()
    _content_into(content, path, found)
    return found


def _lc_message(message: dict[str, Any]) -> dict[str, Any]:
    """A serialised LangChain message (``{"lc": 1, "type": "constructor", "id": [...,
    "HumanMessage"], "kwargs": {...}}``) as the plain dict it stands for."""
    kwargs = dict(message.get("kwargs") or {})
    ids = message.get("id") or []
    kwargs.setdefault("type", str(ids[-1]).lower() if ids else "human")
    return kwargs


def _calls_as_text(content: Any) -> bool:
    """Whether ``content`` is JSON text of a list of Chat Completions tool calls."""
    if not isinstance(content, str) or not content.startswith("[{"):
        return False
    value = maybe_json(content)
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(c, dict) and isinstance(c.get("function"), dict) and "name" in c["function"]
            for c in value
        )
    )


def _tool_step(message: dict[str, Any], found: _Found, path: str) -> Step:
    status = message.get("status")
    error = (
        bool(message.get("error"))
        or status == "error"
        or bool(message.get("is_error"))
        or bool(message.get("tool_call_error"))
        or any(r[2] for r in found.results)
    )
    text = "\n".join(found.texts) or "\n".join(r[1] for r in found.results)
    return Step(
        role=Role.TOOL,
        content=text or as_text(message.get("error")),
        tool_call_id=str(
            message.get("tool_call_id")
            or message.get("toolCallId")
            or message.get("call_id")
            or message.get("id")
            or next((r[0] for r in found.results), "")
        ),
        name=next(
            (n for k in ("name", "function", "tool_name") if isinstance(n := message.get(k), str)),
            None,
        ),
        is_error=error,
        metadata={UNRECOGNISED: found.raw} if found.raw else {},
    )


def _item_steps(message: dict[str, Any], kind: str, index: int, path: str) -> list[Step] | None:
    """OpenAI Responses API items other than messages (None: not such an item)."""
    if kind in ("function_call", "custom_tool_call", "mcp_call") or (
        kind.endswith("_call") and kind != "tool_call"
    ):
        name = message.get("name") or kind.removesuffix("_call")
        args = message.get("arguments", message.get("input", message.get("action")))
        if kind not in ("function_call", "custom_tool_call", "mcp_call") and args is None:
            args = {k: v for k, v in message.items() if k not in ("type", "id", "status")}
        call_id = message.get("call_id") or message.get("id")
        call = Step(role=Role.ASSISTANT, tool_calls=[_call(call_id, name, args, index)])
        if kind in ("function_call", "custom_tool_call"):
            return [call]
        # Built-in tools and MCP calls carry their own result.
        out = message.get("output", message.get("results", message.get("result")))
        failed = bool(message.get("error")) or message.get("status") in ("failed", "incomplete")
        if out is None and not failed:
            return [call]
        return [
            call,
            Step(
                role=Role.TOOL,
                tool_call_id=call.tool_calls[0].id,
                name=str(name),
                content=_result_text(out) if out is not None else as_text(message.get("error")),
                is_error=failed,
            ),
        ]
    if kind in ("function_call_output", "custom_tool_call_output"):
        return [
            Step(
                role=Role.TOOL,
                tool_call_id=str(message.get("call_id", "")),
                content=_result_text(message.get("output")),
            )
        ]
    if kind == "reasoning":
        summary = message.get("summary") or message.get("content") or []
        found = _content(summary, f"{path}.summary")
        text = "\n".join(found.texts)
        return [Step(role=Role.ASSISTANT, content=f"(reasoning) {text}")] if text else []
    return None


def _pydantic_ai(message: dict[str, Any], index: int, path: str) -> list[Step]:
    """A pydantic-ai ``ModelRequest`` / ``ModelResponse``: parts by ``part_kind``."""
    steps: list[Step] = []
    response = message.get("kind") == "response"
    texts: list[str] = []
    calls: list[ToolCall] = []
    raw: list[str] = []

    def flush(role: Role) -> None:
        if texts or calls:
            steps.append(
                Step(
                    role=role,
                    content="\n".join(texts),
                    tool_calls=list(calls),
                    metadata={UNRECOGNISED: list(raw)} if raw else {},
                )
            )
            texts.clear()
            calls.clear()
            raw.clear()

    for i, part in enumerate(message.get("parts") or []):
        kind = part.get("part_kind") if isinstance(part, dict) else None
        where = f"{path}.parts[{i}]"
        if kind == "system-prompt":
            flush(Role.USER)
            steps.append(Step(role=Role.SYSTEM, content=as_text(part.get("content"))))
            continue
        found = _content([part], where)
        for cid, text, err, name in found.results:
            flush(Role.USER)
            steps.append(
                Step(role=Role.TOOL, tool_call_id=cid, content=text, is_error=err, name=name)
            )
        texts += found.texts
        calls += found.calls
        raw += found.raw
    flush(Role.ASSISTANT if response or calls else Role.USER)
    return steps


def message_steps(message: Any, index: int = 0, path: str = "$") -> list[Step]:
    """Steps from one recorded message or item (usually one; tool results may add more)."""
    message = maybe_literal(message)
    if isinstance(message, str):
        fields = fields_repr(message)
        if fields is None:
            return [Step(role=Role.USER, content=message)]
        message = fields
    if not isinstance(message, dict):
        return [Step(role=Role.USER, content=raw_text(message), metadata={UNRECOGNISED: [path]})]
    if "role" not in message and isinstance(message.get("message"), dict):
        # a wrapper: an LLM generation ({"message", "text"}), a choice, an event body
        return message_steps(message["message"], index, f"{path}.message")
    if message.get("lc") == 1 and message.get("type") == "constructor":
        message = _lc_message(message)
    elif isinstance(message.get("data"), dict) and "role" not in message:
        # LangChain's `messages_to_dict`: {"type": "human", "data": {...}}
        message = {**message["data"], "type": message.get("type") or message["data"].get("type")}
    kind = str(message.get("type") or "")
    if "toolName" in message and "toolCallId" in message and "role" not in message:
        found = _content([message], path)  # a Vercel AI SDK tool call or result on its own
        if found.results:
            cid, text, err, name = found.results[0]
            return [Step(role=Role.TOOL, tool_call_id=cid, content=text, is_error=err, name=name)]
        return [Step(role=Role.ASSISTANT, tool_calls=found.calls)]
    if message.get("kind") in ("request", "response") and isinstance(message.get("parts"), list):
        return _pydantic_ai(message, index, path)
    if "role" not in message and kind:
        items = _item_steps(message, kind, index, path)
        if items is not None:
            return items
    role = ROLES.get(str(message.get("role") or "").lower())
    if role is None:
        role = ROLES.get(kind.lower())
    if role is None:
        role = Role.ASSISTANT if kind == "message" else Role.USER
    content_key = next((k for k in ("content", "parts") if k in message), "content")
    raw_calls = message.get("tool_calls")
    content = message.get(content_key)
    if not raw_calls and _calls_as_text(content):
        # Tool calls written into the content as JSON text (as Koog records them).
        raw_calls, content, role = maybe_json(content), None, Role.ASSISTANT
    found = _content(content, f"{path}.{content_key}")
    if not raw_calls and isinstance(message.get("additional_kwargs"), dict):
        raw_calls = message["additional_kwargs"].get("tool_calls")
    for i, raw in enumerate(raw_calls or []):
        if isinstance(raw, dict):
            if isinstance(raw.get("function"), str):  # Inspect: function name, dict arguments
                found.calls.append(_call(raw.get("id"), raw["function"], raw.get("arguments"), i))
                continue
            fn: dict[str, Any] = raw["function"] if isinstance(raw.get("function"), dict) else raw
            found.calls.append(
                _call(raw.get("id"), fn.get("name"), fn.get("arguments", fn.get("args")), i)
            )
    if role is Role.TOOL:
        return [_tool_step(message, found, path)]
    # Tool results first (they answer earlier calls), then what the message says or calls,
    # then the results of calls made in this very message (server-side tools).
    own = {c.id for c in found.calls}
    results = [
        Step(role=Role.TOOL, tool_call_id=cid, content=out, is_error=err, name=name)
        for cid, out, err, name in found.results
    ]
    if found.results and not (found.texts or found.calls):
        return results
    if role is not Role.ASSISTANT and found.calls:
        role = Role.ASSISTANT  # only assistant steps carry tool calls
    said = Step(
        role=role,
        content="\n".join(found.texts),
        tool_calls=found.calls,
        name=message.get("name") if isinstance(message.get("name"), str) else None,
        metadata={UNRECOGNISED: found.raw} if found.raw else {},
    )
    return [
        *(r for r in results if r.tool_call_id not in own),
        said,
        *(r for r in results if r.tool_call_id in own),
    ]


def genai_steps(messages: Any, path: str = "$") -> list[Step]:
    """OpenTelemetry GenAI messages (``{role, parts: [...]}``), or any other shape."""
    messages = maybe_json(messages)
    if isinstance(messages, dict) and "role" in messages:
        messages = [messages]
    return messages_to_steps(messages, path)


def system_instructions(value: Any, path: str = "$") -> list[Step]:
    """``gen_ai.system_instructions``: a list of parts (or text), one system step."""
    value = maybe_json(value)
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, list) and all(isinstance(p, dict) and "role" not in p for p in value):
        found = _content(value, path)
        return [
            Step(
                role=Role.SYSTEM,
                content="\n".join(found.texts),
                metadata={UNRECOGNISED: found.raw} if found.raw else {},
            )
        ]
    return [s.model_copy(update={"role": Role.SYSTEM}) for s in messages_to_steps(value, path)]


_WRAPPERS = ("messages", "contents", "input", "prompt", "inputs", "args", "kwargs")


def messages_to_steps(value: Any, path: str = "$") -> list[Step]:
    """Steps from a recorded input or output of any recognised shape."""
    value = maybe_literal(value)
    if value is None or value == "":
        return []
    if isinstance(value, dict):
        if value.get("lc") == 1 and value.get("type") == "constructor":
            return message_steps(value, 0, path)
        for key in _WRAPPERS:
            if key in value and value[key] not in (None, "", [], {}):
                return messages_to_steps(value[key], f"{path}.{key}")
        if isinstance(value.get("choices"), list) and value["choices"]:
            first = value["choices"][0]
            return messages_to_steps(
                first.get("message", first) if isinstance(first, dict) else first,
                f"{path}.choices[0]",
            )
        if isinstance(value.get("output"), list):
            return messages_to_steps(value["output"], f"{path}.output")
        for key in ("message", "generations"):
            if isinstance(value.get(key), dict | list):
                return messages_to_steps(value[key], f"{path}.{key}")
        if isinstance(value.get("content"), dict) and "parts" in value["content"]:
            inner = dict(value["content"])
            inner.setdefault("role", "model")
            return message_steps(inner, 0, f"{path}.content")
        if "role" in value or "type" in value or "kind" in value or "toolName" in value:
            return message_steps(value, 0, path)
        if isinstance(value.get("text"), str) and len(value) <= 3:
            return [Step(role=Role.USER, content=value["text"])]
        if isinstance(value.get("output"), str):
            return [Step(role=Role.ASSISTANT, content=value["output"])]
        return [Step(role=Role.USER, content=raw_text(value), metadata={UNRECOGNISED: [path]})]
    if isinstance(value, list):
        steps: list[Step] = []
        for i, item in enumerate(value):
            if isinstance(item, list):  # LangChain batches: a list of message lists
                steps += messages_to_steps(item, f"{path}[{i}]")
            else:
                steps += message_steps(item, i, f"{path}[{i}]")
        return answer_calls(steps)
    return [Step(role=Role.USER, content=as_text(value))]


def answer_calls(steps: list[Step]) -> list[Step]:
    """Tool results recorded without the id of their call answer the calls still open,
    in order (some frameworks drop the id from the result)."""
    if all(s.tool_call_id or s.role is not Role.TOOL for s in steps):
        return steps
    open_calls: list[str] = []
    out = []
    for step in steps:
        if step.tool_calls:
            open_calls += [c.id for c in step.tool_calls]
        elif step.role is Role.TOOL:
            if step.tool_call_id:
                if step.tool_call_id in open_calls:
                    open_calls.remove(step.tool_call_id)
            elif open_calls:
                step = step.model_copy(update={"tool_call_id": open_calls.pop(0)})
        out.append(step)
    return out
