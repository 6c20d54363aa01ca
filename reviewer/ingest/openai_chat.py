"""OpenAI-style conversations: one object per line with `messages` (chat logs, chat
fine-tuning files, Hugging Face "messages" datasets)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson

from reviewer.domain.session import Agent, Role, Session, Source, Step, ToolCall
from reviewer.ingest.messages import message_steps
from reviewer.ingest.records import RecordError, too_deep

NAME = "openai-chat"

_ROLES = {
    "system": Role.SYSTEM,
    "developer": Role.SYSTEM,
    "user": Role.USER,
    "assistant": Role.ASSISTANT,
    "tool": Role.TOOL,
    "function": Role.TOOL,
    "ipython": Role.TOOL,
}
_ID_KEYS = ("id", "session_id", "conversation_id", "thread_id")


def looks_like(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("messages"), list)


def _text(content: Any) -> tuple[str, list[dict[str, Any]] | None]:
    """Plain text of a message's content, and its structured parts when it had some."""
    if content is None:
        return "", None
    if isinstance(content, str):
        return content, None
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict):
                t = part.get("text") if isinstance(part.get("text"), str) else None
                if t is None and part.get("type") == "refusal":
                    t = part.get("refusal")
                texts.append(t if isinstance(t, str) else f"[{part.get('type', 'part')}]")
            elif isinstance(part, str):
                texts.append(part)
        return "\n".join(texts), [p for p in content if isinstance(p, dict)]
    raise RecordError(f"message content of type {type(content).__name__}")


def parse_arguments(raw: Any) -> Any:
    """Tool-call arguments: a JSON string parsed when it parses, else kept as given."""
    if isinstance(raw, str):
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
        return raw if too_deep(parsed) else parsed
    return raw


def _tool_calls(raw: Any) -> list[ToolCall]:
    calls = []
    for i, call in enumerate(raw or []):
        if not isinstance(call, dict):
            raise RecordError("a tool call is not an object")
        fn = call.get("function") or call.get("custom") or {}
        name = fn.get("name") if isinstance(fn, dict) else None
        if not isinstance(name, str):
            raise RecordError("a tool call has no function name")
        args = fn.get("arguments", fn.get("input")) if isinstance(fn, dict) else None
        calls.append(
            ToolCall(
                id=str(call.get("id") or f"call_{i}"), name=name, arguments=parse_arguments(args)
            )
        )
    return calls


def _is_error(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    if head.startswith(("error", "traceback", "exception")):
        return True
    if head.startswith("{"):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return False
        return isinstance(value, dict) and "error" in value and value["error"] not in (None, "")
    return False


def _step(message: Any, index: int) -> Step:
    if not isinstance(message, dict):
        raise RecordError(f"message {index} is not an object")
    role = _ROLES.get(str(message.get("role")))
    if role is None:
        raise RecordError(f"message {index} has unknown role {message.get('role')!r}")
    text, parts = _text(message.get("content"))
    if role is Role.ASSISTANT and not text and isinstance(message.get("refusal"), str):
        text = message["refusal"]
    calls = _tool_calls(message.get("tool_calls")) if role is Role.ASSISTANT else []
    if role is Role.ASSISTANT and isinstance(message.get("function_call"), dict):
        fc = message["function_call"]
        calls.append(
            ToolCall(
                id=f"call_{index}",
                name=str(fc.get("name", "function")),
                arguments=parse_arguments(fc.get("arguments")),
            )
        )
    meta = {k: message[k] for k in ("weight",) if k in message}
    return Step(
        role=role,
        content=text,
        parts=parts,
        name=message.get("name") if isinstance(message.get("name"), str) else None,
        tool_calls=calls,
        tool_call_id=str(message["tool_call_id"]) if message.get("tool_call_id") else None,
        is_error=role is Role.TOOL and _is_error(text),
        metadata=meta,
    )


_PLAIN_PARTS = {"text", "image_url", "input_audio", "refusal", "file"}


def _other_shape(message: Any) -> bool:
    """A message not in the Chat Completions shape (Anthropic blocks, Gemini parts,
    LangChain types...): read by ``reviewer.ingest.messages``."""
    if not isinstance(message, dict):
        return False
    content = message.get("content")
    return (
        str(message.get("role")) not in _ROLES
        or "parts" in message
        or (
            isinstance(content, list)
            and any(isinstance(p, dict) and p.get("type") not in _PLAIN_PARTS for p in content)
        )
    )


def sessions(value: Any, file: str, line: int) -> Iterator[Session]:
    messages = value["messages"]
    steps: list[Step] = []
    for i, m in enumerate(messages):
        if _other_shape(m) and (found := message_steps(m, i, f"$.messages[{i}]")):
            steps += found
        else:
            steps.append(_step(m, i))
    meta = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    key = next((str(v) for k in _ID_KEYS if (v := value.get(k) or meta.get(k))), None)
    if key is None:
        # No id in the file (fine-tuning data): a stable id from the content itself.
        key = "chat-" + hashlib.sha256(orjson.dumps(messages)).hexdigest()[:20]
    extra = {k: v for k, v in value.items() if k not in ("messages", "metadata", *_ID_KEYS)}
    metadata = {**meta, **extra}
    model = value.get("model") or meta.get("model")
    agent = meta.get("agent") if isinstance(meta.get("agent"), str) else None
    version = meta.get("agent_version") or meta.get("version")
    yield Session(
        id=key,
        source=Source(format=NAME, file=file, position=str(line), ids={"id": key}),
        agent=Agent(name=agent, version=str(version) if version is not None else None),
        model=str(model) if model else None,
        metadata=metadata,
        steps=steps,
        tags=[t for t in meta.get("tags", []) if isinstance(t, str)]
        if isinstance(meta.get("tags"), list)
        else [],
    )
