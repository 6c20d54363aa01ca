"""A session's transcript as chat messages in the shape each consumer expects.

- ``openai``: Chat Completions messages; tool-call arguments as a JSON string.
- ``trl``: Hugging Face TRL conversational messages; arguments as an object, tool results
  carry the tool's ``name``.
- ``inspect``: Inspect AI ``ChatMessage`` dicts; tool calls are ``{id, function,
  arguments, type}``, tool results carry ``function``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from reviewer.domain.session import Role, Session, Step, ToolCall
from reviewer.export.redact import redact_text, redact_value

Style = Literal["openai", "trl", "inspect"]


class TranscriptProblem(ValueError):
    """The transcript cannot be written as a valid conversation; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Transcript:
    """The steps of a session with every tool result tied to its call."""

    steps: list[Step]
    call_ids: list[str | None]
    """For each step that is a tool result, the id of the call it answers."""
    final_answer: int | None
    """Index of the agent's final answer (the last assistant step with text)."""

    @property
    def answer_text(self) -> str | None:
        return self.steps[self.final_answer].content if self.final_answer is not None else None


def transcript(session: Session) -> Transcript:
    """Check that every tool call is answered before the conversation moves on and every
    tool result answers a call (results without an id take the oldest unanswered call)."""
    steps = list(session.steps)
    call_ids: list[str | None] = []
    pending: list[str] = []
    for step in steps:
        if step.role is Role.TOOL:
            cid = step.tool_call_id
            if cid is None and pending:
                cid = pending[0]
            if cid is None or cid not in pending:
                raise TranscriptProblem("tool_result_without_call")
            pending.remove(cid)
            call_ids.append(cid)
            continue
        call_ids.append(None)
        if pending:
            raise TranscriptProblem("unanswered_tool_call")
        if step.role is Role.ASSISTANT:
            pending = [c.id for c in step.tool_calls]
    final = next(
        (
            i
            for i in range(len(steps) - 1, -1, -1)
            if steps[i].role is Role.ASSISTANT and steps[i].content.strip()
        ),
        None,
    )
    return Transcript(steps, call_ids, final)


def _arguments_text(args: Any) -> str:
    if isinstance(args, str):
        return args
    return orjson.dumps(args if args is not None else {}).decode()


def _arguments_object(args: Any) -> Any:
    if isinstance(args, str):
        try:
            parsed = orjson.loads(args)
        except orjson.JSONDecodeError:
            return args  # kept as recorded: it was never valid JSON
        return parsed
    return args if args is not None else {}


def messages(
    t: Transcript,
    style: Style,
    *,
    end: int | None = None,
    redact: bool = False,
    names: Callable[[str], str | None] | None = None,
) -> list[dict[str, Any]]:
    """Messages of steps ``[0, end)`` (all steps when ``end`` is None)."""
    text: Callable[[str], str] = redact_text if redact else (lambda s: s)
    out: list[dict[str, Any]] = []
    steps = t.steps if end is None else t.steps[:end]
    for step, cid in zip(steps, t.call_ids, strict=False):
        role = step.role.value
        if step.role is Role.TOOL:
            msg: dict[str, Any] = {"role": "tool", "tool_call_id": cid}
            tool = names(cid) if names and cid else None
            if style == "trl" and tool:
                msg["name"] = tool
            if style == "inspect" and tool:
                msg["function"] = tool
            msg["content"] = text(step.content)
            out.append(msg)
            continue
        msg = {"role": role}
        if step.role is Role.ASSISTANT and step.tool_calls:
            if step.content:
                msg["content"] = text(step.content)
            elif style == "inspect":
                msg["content"] = ""
            msg["tool_calls"] = [_call(c, style, redact) for c in step.tool_calls]
        else:
            msg["content"] = text(step.content)
        out.append(msg)
    return out


def _call(c: ToolCall, style: Style, redact: bool) -> dict[str, Any]:
    if style == "openai":
        if redact:
            args = _arguments_object(c.arguments)
            text = (
                redact_text(args) if isinstance(args, str) else _arguments_text(redact_value(args))
            )
        else:
            text = _arguments_text(c.arguments)  # a recorded JSON string stays as it was
        return {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": text}}
    args = _arguments_object(c.arguments)
    if redact:
        args = redact_value(args)
    if style == "trl":
        return {"type": "function", "function": {"name": c.name, "arguments": args}}
    return {
        "id": c.id,
        "function": c.name,
        "arguments": args if isinstance(args, dict) else {"value": args},
        "type": "function",
    }


def trim_unanswered(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without a trailing assistant message whose tool calls got no results (a prompt cut
    before the results came)."""
    while msgs and msgs[-1]["role"] == "assistant" and msgs[-1].get("tool_calls"):
        msgs = msgs[:-1]
    return msgs


def tool_definitions(session: Session, steps: Sequence[Step]) -> list[dict[str, Any]]:
    """The tools offered to the agent: as recorded with the session (``metadata.tools`` in
    OpenAI's shape), else one per tool the transcript calls, with an open parameter schema."""
    recorded = session.metadata.get("tools")
    if isinstance(recorded, list) and all(
        isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("function"), dict)
        for t in recorded
    ):
        return [t for t in recorded if isinstance(t, dict)]
    called = dict.fromkeys(c.name for s in steps for c in s.tool_calls)
    return [
        {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
        for n in called
    ]
