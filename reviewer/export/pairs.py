"""Pairwise exports, shaped: preference rows (``--level pair``) and DPO lines from them.

A DPO line's prompt is the conversation up to the winner's first agent turn (system and
user messages); chosen is the winner's agent turns from there (``trl-pair-dpo``: every
message; ``openai-pair-dpo``: its final answer, the one assistant message OpenAI's
preference format takes), rejected the loser's. Ties, "both bad", sessions whose opening
user messages differ and transcripts that cannot be written are left out, by reason.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from reviewer.domain.pair_record import PairRecord
from reviewer.domain.session import Role, Session
from reviewer.export.chat import TranscriptProblem, messages, tool_definitions, transcript
from reviewer.export.columns import Column
from reviewer.export.redact import redact_text

PAIR_COLUMNS: list[Column] = [
    Column("pair_id", "string"),
    Column("batch", "string"),
    Column("position", "int"),
    Column("task_key", "string"),
    Column("compared_field", "string"),
    Column("left_session", "string"),
    Column("left_revision", "int"),
    Column("left_value", "string"),
    Column("right_session", "string"),
    Column("right_revision", "int"),
    Column("right_value", "string"),
    Column("left_is", "string", safe=True),
    Column("winner", "string", safe=True),
    Column("winning_session", "string"),
    Column("winning_value", "string"),
    Column("dimensions", "list"),
    Column("rationale", "string", text=True),
    Column("reviewer", "string"),
    Column("review_uid", "string", safe=True),
    Column("status", "string", safe=True),
    Column("submitted_at", "timestamp"),
    Column("active_seconds", "float"),
    Column("simulated", "bool"),
]


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pair_row(r: PairRecord, *, redact: bool = False) -> tuple[Any, ...]:
    side = r.winning_side
    rationale = redact_text(r.rationale) if redact and r.rationale else r.rationale
    return (
        f"{r.batch}#{r.position}",
        r.batch,
        r.position,
        r.task_key,
        r.field,
        r.left_session,
        r.left_revision,
        r.left_value,
        r.right_session,
        r.right_revision,
        r.right_value,
        r.left_is,
        r.winner,
        None if side is None else (r.left_session if side == "left" else r.right_session),
        None if side is None else (r.left_value if side == "left" else r.right_value),
        [f"{k}={v}" for k, v in sorted(r.dimensions.items())],
        rationale,
        r.reviewer,
        r.uid,
        r.status,
        _iso(r.submitted_at),
        r.active_seconds,
        r.simulated,
    )


NAMESPACE = uuid.UUID("0b5f7c8e-2f4d-4a57-8f0e-6d3c1b9a4e21")
"""Namespace of the deterministic (UUID 5) ids of pairwise feedback."""
_VALUES = {"tie": ("tie", 0.5), "both_bad": ("both_bad", 0.0)}


def langsmith_lines(
    r: PairRecord, left: Session, right: Session, *, redact: bool = False
) -> list[dict[str, Any]] | str:
    """Feedback on both runs of the pair (``langsmith-pairwise``), or why it is left out."""
    if r.winner is None:
        return "no_winner"
    runs = []
    for s in (left, right):
        if s.source.format != "langsmith" or not s.source.ids.get("run_id"):
            return "not_from_langsmith"
        runs.append(s.source.ids)
    group = str(uuid.uuid5(NAMESPACE, f"langsmith:{r.uid}"))
    comment = redact_text(r.rationale) if redact and r.rationale else r.rationale
    out = []
    for side, ids, key, value in (
        ("left", runs[0], r.left_session, r.left_value),
        ("right", runs[1], r.right_session, r.right_value),
    ):
        if r.winning_side is None:
            label, score = _VALUES[r.winner]
        else:
            won = r.winning_side == side
            label, score = ("preferred", 1.0) if won else ("not_preferred", 0.0)
        out.append(
            {
                "run_id": ids["run_id"],
                "trace_id": ids.get("trace_id") or None,
                "key": "preference",
                "score": score,
                "value": label,
                "comment": comment,
                "feedback_id": str(uuid.uuid5(NAMESPACE, f"langsmith:{r.uid}:{side}")),
                "feedback_group_id": group,
                "feedback_source_type": "api",
                "source_info": {
                    "tool": "agentops-reviewer",
                    "pair_id": f"{r.batch}#{r.position}",
                    "side": side,
                    "session_id": key,
                    r.field or "compared": value,
                    "reviewer": r.reviewer,
                    "dimensions": dict(sorted(r.dimensions.items())),
                },
            }
        )
    return out


def _first_agent_turn(session: Session) -> int | None:
    return next((i for i, s in enumerate(session.steps) if s.role is Role.ASSISTANT), None)


def _opening(session: Session, end: int) -> list[str]:
    return [s.content.strip() for s in session.steps[:end] if s.role is Role.USER]


def dpo_line(
    style: str, r: PairRecord, left: Session, right: Session, *, redact: bool = False
) -> dict[str, Any] | str:
    """The line for ``r`` (``style``: "openai" or "trl"), or why it is left out."""
    if r.winner is None:
        return "no_winner"
    if r.winning_side is None:
        return r.winner  # "tie" or "both_bad"
    won, lost = (left, right) if r.winning_side == "left" else (right, left)
    try:
        tw, tl = transcript(won), transcript(lost)
    except TranscriptProblem as exc:
        return exc.reason
    fw, fl = _first_agent_turn(won), _first_agent_turn(lost)
    if fw is None or fl is None:
        return "no_agent_turn"
    if _opening(won, fw) != _opening(lost, fl):
        return "different_prompts"
    trl_or_openai: Any = "openai" if style == "openai" else "trl"
    prompt = messages(tw, trl_or_openai, end=fw, redact=redact, names=won.tool_name_for)
    if not any(m["role"] == "user" for m in prompt):
        return "no_user_message"
    if style == "openai":
        chosen, rejected = tw.answer_text, tl.answer_text
        if chosen is None or rejected is None:
            return "no_agent_answer"
        if redact:
            chosen, rejected = redact_text(chosen), redact_text(rejected)
        inp: dict[str, Any] = {"messages": prompt}
        tools = tool_definitions(won, tw.steps)
        if tools:
            inp["tools"] = tools
        return {
            "input": inp,
            "preferred_output": [{"role": "assistant", "content": chosen}],
            "non_preferred_output": [{"role": "assistant", "content": rejected}],
        }
    every_w = messages(tw, "trl", redact=redact, names=won.tool_name_for)
    every_l = messages(tl, "trl", redact=redact, names=lost.tool_name_for)
    return {"prompt": prompt, "chosen": every_w[fw:], "rejected": every_l[fl:]}
