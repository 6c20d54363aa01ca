"""Fine-tuning and eval lines from reviewed sessions (one line per session revision at most).

The session's label is its consensus or adjudicated label (``reviewer.export.consensus``).
Two kinds of good example come out of a review:

- **corrected**: a reviewer wrote the answer the agent should have given (and it differs
  from what the agent said): the conversation up to the agent's final answer, then the
  corrected answer;
- **approved**: no correction, and the label meets the thresholds (``quality`` at least
  ``min_quality`` and every ``require`` dimension at its value — by default correct and
  compliant): the conversation up to and including the agent's final answer.

Sessions that give neither are left out and counted by reason in the manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reviewer.domain.session import Role, Session
from reviewer.export.chat import (
    Transcript,
    TranscriptProblem,
    messages,
    tool_definitions,
    transcript,
    trim_unanswered,
)
from reviewer.export.columns import LABEL_PREFIX, LabelPlan
from reviewer.export.options import ExportOptions
from reviewer.export.redact import redact_text

Line = dict[str, Any]
Builder = Callable[[bytes, dict[str, Any], list[dict[str, Any]]], "list[Line] | str"]


class _Case:
    """What one labelled session offers: its transcript, answer, correction, approval."""

    def __init__(self, session: Session, label: dict[str, Any], options: ExportOptions) -> None:
        self.session = session
        self.label = label
        self.redact = options.redact_pii
        self.t: Transcript = transcript(session)
        answer = self.t.answer_text
        self.answer = redact_text(answer) if answer is not None and self.redact else answer
        corrected = label.get("corrected_response")
        if (
            corrected is not None
            and self.answer is not None
            and corrected.strip() == self.answer.strip()
        ):
            corrected = None  # the prefilled answer left as it was: not a correction
        self.corrected: str | None = corrected
        self.approved = _meets(label, options)

    def prompt_end(self) -> int:
        """Steps before the agent's final answer (every step when it gave none)."""
        return self.t.final_answer if self.t.final_answer is not None else len(self.t.steps)

    def prompt(self, style: Any) -> list[dict[str, Any]]:
        names = self.session.tool_name_for
        return trim_unanswered(
            messages(self.t, style, end=self.prompt_end(), redact=self.redact, names=names)
        )

    def approved_messages(self, style: Any) -> list[dict[str, Any]]:
        assert self.t.final_answer is not None
        names = self.session.tool_name_for
        msgs = messages(self.t, style, end=self.t.final_answer + 1, redact=self.redact, names=names)
        msgs[-1].pop("tool_calls", None)  # calls made with the answer are cut off with it
        return msgs

    def tools(self) -> list[dict[str, Any]]:
        return tool_definitions(self.session, self.t.steps)


def _meets(label: dict[str, Any], options: ExportOptions) -> bool:
    quality = label.get(LABEL_PREFIX + "quality")
    if not isinstance(quality, int | float) or quality < options.min_quality:
        return False
    return all(label.get(LABEL_PREFIX + k) == v for k, v in options.require.items())


def _labels(label: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in label.items()
        if k.startswith(("label_", "detail_")) and k not in ("label_source",)
    }


def _sft(case: _Case, style: Any) -> Line | str:
    if case.corrected is not None:
        prompt = case.prompt(style)
        if style == "openai":
            for m in prompt:
                if m["role"] == "assistant":
                    m["weight"] = 0  # train on the corrected answer, not the agent's turns
        answer: dict[str, Any] = {"role": "assistant", "content": case.corrected}
        if style == "openai":
            answer["weight"] = 1
        msgs = [*prompt, answer]
    elif case.approved:
        if case.t.final_answer is None:
            return "no_agent_answer"
        msgs = case.approved_messages(style)
    else:
        return "below_threshold"
    if not any(m["role"] == "user" for m in msgs):
        return "no_user_message"
    line: Line = {"messages": msgs}
    tools = case.tools()
    if tools:
        line["tools"] = tools
    return line


def _dpo(case: _Case, style: Any) -> Line | str:
    if case.corrected is None:
        unchanged = case.label.get("corrected_response") is not None
        return "correction_same_as_answer" if unchanged else "no_correction"
    if case.answer is None:
        return "no_agent_answer"
    prompt = case.prompt(style)
    if not any(m["role"] == "user" for m in prompt):
        return "no_user_message"
    chosen = [{"role": "assistant", "content": case.corrected}]
    rejected = [{"role": "assistant", "content": case.answer}]
    if style == "openai":
        inp: dict[str, Any] = {"messages": prompt}
        tools = case.tools()
        if tools:
            inp["tools"] = tools
        return {"input": inp, "preferred_output": chosen, "non_preferred_output": rejected}
    line: Line = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
    if any(m.get("tool_calls") for m in prompt):
        line["tools"] = case.tools()
    return line


def _eval(case: _Case) -> Line | str:
    label = case.label
    if case.corrected is not None:
        target, expected_from = case.corrected, "corrected"
    elif case.approved and case.answer is not None:
        target, expected_from = case.answer, "approved"
    else:
        return "no_expected_answer"
    prompt = case.prompt("inspect")
    users = [m["content"] for m in prompt if m["role"] == "user"]
    if not users:
        return "no_user_message"
    return {
        "id": f"{label['session_id']}@{label['session_revision']}",
        "input": prompt,
        "target": target,
        "metadata": {
            "session_id": label["session_id"],
            "session_revision": label["session_revision"],
            "agent_name": label["agent_name"],
            "agent_version": label["agent_version"],
            "model": label["model"],
            "label_source": label["label_source"],
            "reviewer_count": label["reviewer_count"],
            "labels": _labels(label),
            "failure_tags": label["failure_tags"],
            "failure_step": label["failure_step"],
            "rationale": label["rationale"],
            "agent_answer": case.answer,
            "expected_from": expected_from,
        },
        "vars": {"question": users[-1], "expected": target},
    }


def dataset_builder(name: str, options: ExportOptions, plan: LabelPlan) -> Builder:
    def build(content: bytes, label: dict[str, Any], reviews: list[dict[str, Any]]) -> Any:
        if label["label_source"] == "none":
            return "no_label"
        session = Session.model_validate_json(content)
        if not any(s.role is Role.USER for s in session.steps):
            return "no_user_message"
        try:
            case = _Case(session, label, options)
        except TranscriptProblem as exc:
            return exc.reason
        if name == "openai-sft":
            result = _sft(case, "openai")
        elif name == "trl-sft":
            result = _sft(case, "trl")
        elif name == "openai-dpo":
            result = _dpo(case, "openai")
        elif name == "trl-dpo":
            result = _dpo(case, "trl")
        else:
            result = _eval(case)
        return result if isinstance(result, str) else [result]

    return build
