"""One conversation out of many partial recordings of it.

A trace records the same conversation many times over: each LLM call's input holds the
history so far, its output the answer; an agent span may hold the user's turn and the final
answer; tool spans hold a call's arguments and result (or error). :func:`transcript` merges
these views into one ordered list of steps, each message once:

- the recordings are merged in the order they ended; a recording that extends what is
  known (the usual case: the history so far and one more answer) adds its tail; otherwise
  it is aligned with what is known (longest common subsequence of the steps' identities)
  and what it adds is placed where the alignment puts it, after what it replaces;
- a tool run whose call is missing adds the call and its result where its start time puts
  them; a tool run that failed flags the result of its call as an error (adding the result
  when none was recorded). A run without a call id is matched to the calls of its tool's
  name in order.

Used by the span-based sources (OTLP, Langfuse observations) and to extend a stored
session with spans that arrived later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from difflib import SequenceMatcher
from typing import Any

from reviewer.domain.session import Role, Step, ToolCall
from reviewer.ingest.messages import as_text, maybe_json

EARLY = datetime.min.replace(tzinfo=UTC)


@dataclass
class Recorded:
    """Messages one span recorded: its input (known at ``start``) and output (at ``end``)."""

    start: datetime | None
    end: datetime | None
    input: list[Step] = field(default_factory=list)
    output: list[Step] = field(default_factory=list)


@dataclass
class ToolRun:
    """One execution of a tool, as a tool span or observation recorded it."""

    start: datetime | None
    end: datetime | None
    name: str
    call_id: str | None = None
    arguments: Any = None
    result: Any = None
    error: str | None = None
    """Set (possibly empty) when the run failed: its error text."""


Key = tuple[str, str, tuple[tuple[str, str], ...], str]


def step_key(step: Step) -> Key:
    """What makes two recordings of a message the same message (not how it was written)."""
    return (
        step.role.value,
        " ".join(step.content.split()),
        tuple((c.id, c.name) for c in step.tool_calls),
        step.tool_call_id or "",
    )


def _same(kept: Step, other: Step) -> Step:
    """``kept``, flagged as an error when either recording says so."""
    if other.is_error and not kept.is_error:
        return kept.model_copy(update={"is_error": True})
    return kept


def merge_steps(recordings: Iterable[Sequence[Step]]) -> list[Step]:
    """The steps of several recordings of one conversation, each message once (see the
    module's docstring)."""
    out: list[Step] = []
    keys: list[Key] = []
    for seq in recordings:
        if not seq:
            continue
        new = [step_key(s) for s in seq]
        n = len(keys)
        if new[:n] == keys:  # the history so far and more: the usual case
            out = [_same(a, b) for a, b in zip(out, seq, strict=False)] + list(seq[n:])
            keys += new[n:]
            continue
        merged: list[Step] = []
        merged_keys: list[Key] = []
        matcher = SequenceMatcher(a=keys, b=new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                merged += [
                    _same(out[i], seq[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                merged_keys += keys[i1:i2]
            else:
                merged += out[i1:i2] + list(seq[j1:j2])
                merged_keys += keys[i1:i2] + new[j1:j2]
        out, keys = merged, merged_keys
    return out


def _text(value: Any) -> str:
    value = maybe_json(value)
    if isinstance(value, dict) and set(value) <= {"result", "output", "content", "text"}:
        inner = next(iter(value.values()), None) if len(value) == 1 else None
        if isinstance(inner, str):
            return inner
    return as_text(value)


def apply_tool_runs(steps: list[Step], runs: Sequence[ToolRun]) -> list[Step]:
    """``steps`` with what the tool runs add: missing calls and results, error flags."""
    steps = list(steps)
    by_name: dict[str, int] = {}
    for run in sorted(runs, key=lambda r: (r.start is None, r.start or EARLY)):
        call_id = run.call_id
        if not call_id:
            # The n-th run of a tool answers the n-th call of that name.
            nth = by_name.get(run.name, 0)
            by_name[run.name] = nth + 1
            named = [c.id for s in steps for c in s.tool_calls if c.name == run.name]
            call_id = named[nth] if nth < len(named) else None
        where = _call_index(steps, call_id) if call_id else None
        if where is None or not call_id:
            call_id = call_id or f"{run.name}_{len(steps)}"
            at = _position(steps, run.start)
            call = Step(
                role=Role.ASSISTANT,
                tool_calls=[
                    ToolCall(id=call_id, name=run.name, arguments=maybe_json(run.arguments))
                ],
                timestamp=run.start,
            )
            steps[at:at] = [call, _result(run, call_id)]
            continue
        result = next(
            (i for i in range(where + 1, len(steps)) if steps[i].tool_call_id == call_id), None
        )
        if result is None:
            at = where + 1
            while at < len(steps) and steps[at].role is Role.TOOL:
                at += 1
            steps.insert(at, _result(run, call_id))
        elif run.error is not None and not steps[result].is_error:
            steps[result] = steps[result].model_copy(update={"is_error": True})
    return steps


def _result(run: ToolRun, call_id: str) -> Step:
    if run.error is not None:
        text = run.error or (_text(run.result) if run.result is not None else "") or "error"
    else:
        text = _text(run.result) if run.result is not None else ""
    return Step(
        role=Role.TOOL,
        tool_call_id=call_id,
        name=run.name,
        content=text,
        is_error=run.error is not None,
        timestamp=run.end,
    )


def _call_index(steps: Sequence[Step], call_id: str) -> int | None:
    for i, s in enumerate(steps):
        if any(c.id == call_id for c in s.tool_calls):
            return i
    return None


def _position(steps: Sequence[Step], at: datetime | None) -> int:
    """Where a step recorded at ``at`` goes: after the last step known to be earlier."""
    if at is None:
        return len(steps)
    pos = 0
    for i, s in enumerate(steps):
        if s.timestamp is None or s.timestamp <= at:
            pos = i + 1
    return pos


def transcript(recorded: Iterable[Recorded], runs: Sequence[ToolRun] = ()) -> list[Step]:
    """The conversation the recordings and tool runs of one session hold, in order."""
    ordered = sorted(
        recorded,
        key=lambda r: (r.end is None, r.end or r.start or EARLY, r.start or EARLY),
    )
    # Each step is stamped with when it was first recorded (its span's start for input,
    # end for output), once merged: only the steps kept are copied.
    when: dict[Key, datetime] = {}
    for r in ordered:
        for steps, at in ((r.input, r.start), (r.output, r.end)):
            if at is not None:
                for step in steps:
                    when.setdefault(step_key(step), at)
    merged = merge_steps([*r.input, *r.output] for r in ordered)
    stamped = [
        s.model_copy(update={"timestamp": at})
        if s.timestamp is None and (at := when.get(step_key(s))) is not None
        else s
        for s in merged
    ]
    return apply_tool_runs(stamped, runs)
