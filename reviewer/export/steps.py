"""Step-level exports: one row per labelled step (``--level step``), and trajectory training
data from step verdicts and corrections.

- **step rows**: session, revision, review, reviewer, step index, role, verdict, error type,
  the step as the agent took it and as the reviewer corrected it (text; tool calls as JSON);
- **step SFT** (``openai-step-sft``, ``trl-step-sft``): the history up to a corrected step,
  then the corrected step (tool calls as tool calls);
- **step DPO** (``openai-step-dpo``, ``trl-step-dpo``): prompt = that history, chosen = the
  corrected step, rejected = the agent's step;
- **process-reward labels** (``trl-prm``): TRL's stepwise-supervision shape — ``prompt``
  (the conversation before the first agent step), ``completions`` (each agent step, with the
  tool results that answer it) and ``labels`` (True for a step judged correct), cut after the
  first step judged wrong.

One line per review (each reviewer's step labels are their own); a review whose steps give
nothing is counted in the manifest by reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reviewer.domain.review import StepCorrection, StepLabel
from reviewer.domain.session import Role, Session, Step
from reviewer.export.chat import (
    Transcript,
    TranscriptProblem,
    messages,
    tool_definitions,
    transcript,
)
from reviewer.export.columns import Column
from reviewer.export.redact import redact_text

STEP_FORMATS = ("openai-step-sft", "trl-step-sft", "openai-step-dpo", "trl-step-dpo", "trl-prm")

STEP_COLUMNS = [
    Column("session_id", "string"),
    Column("session_revision", "int"),
    Column("review_uid", "string", safe=True),
    Column("reviewer", "string"),
    Column("step", "int"),
    Column("role", "string", safe=True),
    Column("verdict", "string"),
    Column("error_type", "string"),
    Column("original", "string", text=True),
    Column("corrected", "string", text=True),
]
"""The columns of ``--level step`` rows, in order (``schemas/export-step-row.schema.json``)."""

Line = dict[str, Any]


def step_as_text(content: str | None, calls: list[tuple[str, Any]]) -> str:
    """A step's text, then one line per tool call: ``→ name {"arg": …}``."""
    parts = [content] if content else []
    parts += [
        f"→ {name} {json.dumps(args, ensure_ascii=False, sort_keys=True)}" for name, args in calls
    ]
    return "\n".join(parts)


def _original_text(step: Step) -> str:
    return step_as_text(step.content, [(c.name, c.arguments) for c in step.tool_calls])


def _corrected_text(fix: StepCorrection | None) -> str | None:
    if fix is None:
        return None
    return step_as_text(fix.content, [(c.name, c.arguments) for c in fix.tool_calls])


def step_rows(
    session: Session,
    revision: int,
    uid: str,
    reviewer: str,
    labels: dict[int, StepLabel],
    *,
    redact: bool,
) -> list[tuple[Any, ...]]:
    """The ``--level step`` rows of one review (labelled steps that exist, in order)."""
    text: Callable[[str], str] = redact_text if redact else (lambda s: s)
    rows = []
    for i, label in sorted(labels.items()):
        if not 0 <= i < len(session.steps):
            continue
        step = session.steps[i]
        fixed = _corrected_text(label.corrected)
        rows.append(
            (
                session.id,
                revision,
                uid,
                reviewer,
                i,
                step.role.value,
                label.verdict,
                label.error_type,
                text(_original_text(step)),
                text(fixed) if fixed is not None else None,
            )
        )
    return rows


def _message(step: Step | None, fix: StepCorrection | None, style: str, index: int) -> Line:
    """An assistant message: the corrected step (``fix``) or the agent's ``step``."""
    if fix is not None:
        content: str | None = fix.content
        calls = [
            (f"call_step{index}_{n}", c.name, c.arguments) for n, c in enumerate(fix.tool_calls)
        ]
    else:
        assert step is not None
        content = step.content or None
        calls = [(c.id or f"call_step{index}_{n}", c.name, c.arguments)
                 for n, c in enumerate(step.tool_calls)]  # fmt: skip
    msg: Line = {"role": "assistant"}
    if content is not None or not calls:
        msg["content"] = content or ""
    if calls:
        if style == "openai":
            msg["tool_calls"] = [
                {"id": cid, "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}
                for cid, name, args in calls
            ]  # fmt: skip
        else:
            msg["tool_calls"] = [
                {"type": "function", "function": {"name": name, "arguments": args}}
                for _cid, name, args in calls
            ]
    return msg


def _history(session: Session, t: Transcript, style: str, end: int, redact: bool) -> list[Line]:
    return messages(t, style, end=end, redact=redact, names=session.tool_name_for)  # type: ignore[arg-type]


def step_lines(
    name: str,
    session: Session,
    labels: dict[int, StepLabel],
    *,
    correct: str,
    wrong: str,
    redact: bool,
) -> list[Line] | str:
    """The lines of format ``name`` from one review's step labels, or why there are none."""
    if not labels:
        return "no_step_labels"
    try:
        t = transcript(session)
    except TranscriptProblem as exc:
        return exc.reason
    if name == "trl-prm":
        return _prm(session, t, labels, correct=correct, wrong=wrong, redact=redact)
    style = "openai" if name.startswith("openai") else "trl"
    out: list[Line] = []
    for i, label in sorted(labels.items()):
        if label.corrected is None or not 0 <= i < len(t.steps):
            continue
        step = t.steps[i]
        if step.role is not Role.ASSISTANT:
            continue
        history = _history(session, t, style, i, redact)
        if not any(m["role"] == "user" for m in history):
            continue
        chosen = _message(None, label.corrected, style, i)
        tools = tool_definitions(session, t.steps)
        if name.endswith("-sft"):
            if style == "openai":
                for m in history:
                    if m["role"] == "assistant":
                        m["weight"] = 0
                chosen["weight"] = 1
            line: Line = {"messages": [*history, chosen]}
            if tools:
                line["tools"] = tools
        else:
            rejected = _message(step, None, style, i)
            if style == "openai":
                inp: Line = {"messages": history}
                if tools:
                    inp["tools"] = tools
                line = {
                    "input": inp,
                    "preferred_output": [chosen],
                    "non_preferred_output": [rejected],
                }
            else:
                line = {"prompt": history, "chosen": [chosen], "rejected": [rejected]}
        out.append(line)
    return out or "no_corrected_step"


def _prm(
    session: Session,
    t: Transcript,
    labels: dict[int, StepLabel],
    *,
    correct: str,
    wrong: str,
    redact: bool,
) -> list[Line] | str:
    text: Callable[[str], str] = redact_text if redact else (lambda s: s)
    agent = [i for i, s in enumerate(t.steps) if s.role is Role.ASSISTANT]
    if not agent:
        return "no_agent_step"
    prompt = "\n\n".join(
        f"{s.role.value}: {s.content}" for s in t.steps[: agent[0]] if s.role is not Role.ASSISTANT
    )
    completions: list[str] = []
    flags: list[bool] = []
    for n, i in enumerate(agent):
        label = labels.get(i)
        if label is None or label.verdict is None:
            return "step_without_verdict"
        end = agent[n + 1] if n + 1 < len(agent) else len(t.steps)
        results = [f"← {s.content}" for s in t.steps[i + 1 : end] if s.role is Role.TOOL]
        completions.append(text("\n".join([_original_text(t.steps[i]), *results])))
        flags.append(label.verdict == correct)
        if label.verdict == wrong:
            break  # what follows a wrong step is not judged against a good trajectory
    return [{"prompt": text(prompt), "completions": completions, "labels": flags}]
