"""The canonical agent session: ordered steps, optional span tree, metrics and signals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

SESSION_SCHEMA_VERSION: Literal[1] = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


class Role(StrEnum):
    """Who produced a step."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class ToolCall(_Model):
    """A call the assistant asked a tool to make.

    ``arguments`` keeps what the source recorded: a parsed object when the source had one
    (Inspect, TRL) or when a JSON string parsed cleanly, otherwise the raw string.
    """

    id: str
    name: str
    arguments: Any = None


UNRECOGNISED = "unrecognised"
"""The key of a step's ``metadata`` listing the JSON paths of what an importer kept as
raw JSON because it did not recognise its shape."""


class Step(_Model):
    """One message of the conversation (a turn by a role)."""

    role: Role
    content: str = ""
    """Plain text of the message; structured parts are flattened here for display and search."""
    parts: list[dict[str, Any]] | None = None
    """Structured content as recorded (images, files, reasoning...), when the source had it."""
    name: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    """For tool results: the id of the call this answers."""
    is_error: bool = False
    """For tool results: the tool reported an error."""
    timestamp: datetime | None = None
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _tool_fields_match_role(self) -> Step:
        check_tool_fields(self.role, self.tool_calls)
        return self


def check_tool_fields(role: Role, tool_calls: list[Any]) -> None:
    """The rule a step obeys (also checked on plain dicts by ``session_dict``)."""
    if tool_calls and role is not Role.ASSISTANT:
        raise ValueError("only assistant steps carry tool_calls")


class Span(_Model):
    """A node of the trace tree (agent, LLM call, tool execution...)."""

    id: str
    parent_id: str | None = None
    name: str
    kind: str = "internal"
    start: datetime | None = None
    end: datetime | None = None
    status: Literal["unset", "ok", "error"] = "unset"
    attributes: dict[str, Any] = Field(default_factory=dict)


class Metrics(_Model):
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None


class Judgement(_Model):
    """One automated judge's verdict on the session (an LLM judge, an evaluator, a score)."""

    name: str = Field(min_length=1, max_length=200)
    """What was judged, e.g. "correctness" (matched to rubric dimensions by name)."""
    value: StrictBool | float | str
    """A number, a text label or a yes/no."""
    explanation: str | None = None
    source: str | None = None
    """Who judged: the evaluator, model or tool, where the source says."""


class Signals(_Model):
    """What is known about the session's outcome before a human looks at it."""

    user_feedback: float | None = None
    """-1 (negative) … +1 (positive); None when the user gave none."""
    feedback_comment: str | None = None
    escalated: bool | None = None
    task_success: bool | None = None
    reward: float | None = None
    judge_scores: dict[str, float] = Field(default_factory=dict)
    """Automated judge scores by name, each normalised to 0…1 where the source allows."""
    judgements: list[Judgement] = Field(default_factory=list)
    """Judges' verdicts as they gave them, shown to reviewers as suggestions for the rubric
    dimensions they match (``judge_scores`` keeps the numeric ones for filters and figures)."""


class Source(_Model):
    """Provenance: where the session was imported from."""

    format: str = "canonical"
    file: str | None = None
    position: str | None = None
    """Line number, record index or span id within the file."""
    ids: dict[str, str] = Field(default_factory=dict)
    """Ids in the source system (trace id, run id, sample id...), for pushing labels back."""


class Agent(_Model):
    name: str | None = None
    version: str | None = None


class Session(_Model):
    """One recorded agent session: the unit that is sampled and reviewed."""

    schema_version: Literal[1] = SESSION_SCHEMA_VERSION
    id: str = Field(min_length=1, max_length=512)
    source: Source = Field(default_factory=Source)
    agent: Agent = Field(default_factory=Agent)
    model: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    steps: list[Step] = Field(default_factory=list)
    spans: list[Span] = Field(default_factory=list)
    metrics: Metrics = Field(default_factory=Metrics)
    signals: Signals = Field(default_factory=Signals)

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(t.strip() for t in tags if t.strip()))

    # Derived figures, used for the indexed columns and the UI.
    @property
    def tool_call_count(self) -> int:
        return sum(len(s.tool_calls) for s in self.steps)

    @property
    def has_tool_error(self) -> bool:
        return any(s.is_error for s in self.steps if s.role is Role.TOOL)

    @property
    def final_answer(self) -> str | None:
        """The last assistant text, which a corrected response replaces."""
        for step in reversed(self.steps):
            if step.role is Role.ASSISTANT and step.content.strip():
                return step.content
        return None

    def tool_name_for(self, call_id: str) -> str | None:
        for step in self.steps:
            for call in step.tool_calls:
                if call.id == call_id:
                    return call.name
        return None


def session_summary(session: Session) -> dict[str, Any]:
    """The filterable fields of a session, as stored in indexed columns."""
    # One pass over the steps for both step figures (this runs for every imported session).
    tool_calls = 0
    tool_error = False
    for step in session.steps:
        if step.tool_calls:
            tool_calls += len(step.tool_calls)
        if step.is_error and step.role is Role.TOOL:
            tool_error = True
    return {
        "agent_name": session.agent.name,
        "agent_version": session.agent.version,
        "model": session.model,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "step_count": len(session.steps),
        "tool_call_count": tool_calls,
        "has_tool_error": tool_error,
        "input_tokens": session.metrics.input_tokens,
        "output_tokens": session.metrics.output_tokens,
        "cost_usd": session.metrics.cost_usd,
        "latency_ms": session.metrics.latency_ms,
        "user_feedback": session.signals.user_feedback,
        "escalated": session.signals.escalated,
        "task_success": session.signals.task_success,
    }
