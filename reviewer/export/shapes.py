"""Pydantic models of every row and line the exports write, for their JSON Schemas.

They describe the files (``python -m reviewer.schemas`` writes ``schemas/export-*.json``);
the exporters build plain dicts for speed, and the tests check each line against these
schemas.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Timestamp = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$",
        description="ISO-8601 UTC with microseconds",
    ),
]
LabelValue = int | float | str | bool | list[str] | None

_LABELS = {
    "^label_[a-z][a-z0-9_]*$": {
        "description": "One column per rubric dimension (its value: a number for ordinal"
        " scales, the option for choices, true/false, a list of tags, or text)",
        "anyOf": [
            {"type": "number"},
            {"type": "string"},
            {"type": "boolean"},
            {"type": "array", "items": {"type": "string"}},
            {"type": "null"},
        ],
    },
    "^detail_[a-z][a-z0-9_]*$": {
        "description": "Free-text detail of a choice dimension (e.g. the policy concerned)",
        "anyOf": [{"type": "string"}, {"type": "null"}],
    },
}


def _with_labels(schema: dict[str, Any]) -> None:
    schema["patternProperties"] = _LABELS
    schema["additionalProperties"] = False


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Labelled(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra=_with_labels)

    failure_tags: list[str]
    failure_step: int | None
    """Index (from 0) of the step where it went wrong."""
    rationale: str | None
    corrected_response: str | None


class ReviewRow(_Labelled):
    """One review (``--level review``): a row of csv / parquet, a line of jsonl."""

    review_uid: str
    session_id: str
    session_revision: int
    batch: str | None
    reviewer: str
    role: Literal["reviewer", "adjudicator", "gold"]
    status: Literal["draft", "submitted", "skipped", "flagged"]
    status_reason: str | None
    rubric_name: str
    rubric_version: int
    started_at: Timestamp | None
    submitted_at: Timestamp | None
    updated_at: Timestamp
    active_seconds: float
    simulated: bool
    origin: str
    conflict_of: str | None
    agent_name: str | None
    agent_version: str | None
    model: str | None
    session_started_at: Timestamp | None
    source_format: str


class NestedReview(_Labelled):
    """Each review of a session row (``reviews``)."""

    review_uid: str
    reviewer: str
    role: Literal["reviewer", "adjudicator", "gold"]
    status: Literal["draft", "submitted", "skipped", "flagged"]
    submitted_at: Timestamp | None
    active_seconds: float


class SessionRow(_Labelled):
    """One session revision (``--level session``) with its consensus or adjudicated label."""

    session_id: str
    session_revision: int
    batches: list[str]
    agent_name: str | None
    agent_version: str | None
    model: str | None
    session_started_at: Timestamp | None
    source_format: str
    rubric_name: str
    rubric_version: int
    label_source: Literal["adjudicated", "gold", "consensus", "single", "none"]
    reviewer_count: int
    unanimous: bool
    last_submitted_at: Timestamp | None
    reviews: list[NestedReview]


# --- OpenAI ------------------------------------------------------------------------------


class OpenAIFunctionCall(_Strict):
    name: str
    arguments: str
    """A JSON string, as OpenAI writes it."""


class OpenAIToolCall(_Strict):
    id: str
    type: Literal["function"]
    function: OpenAIFunctionCall


class FunctionDef(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class ToolDef(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["function"]
    function: FunctionDef


class SystemMessage(_Strict):
    role: Literal["system"]
    content: str


class UserMessage(_Strict):
    role: Literal["user"]
    content: str


class OpenAIAssistantMessage(_Strict):
    role: Literal["assistant"]
    content: str | None = None
    tool_calls: list[OpenAIToolCall] | None = None
    weight: Literal[0, 1] | None = None
    """0: not trained on (the agent's own turns in a corrected example)."""


class OpenAIToolMessage(_Strict):
    role: Literal["tool"]
    tool_call_id: str
    content: str


OpenAIMessage = Annotated[
    SystemMessage | UserMessage | OpenAIAssistantMessage | OpenAIToolMessage,
    Field(discriminator="role"),
]


class OpenAISftLine(_Strict):
    """``openai-sft``: one chat fine-tuning example."""

    messages: list[OpenAIMessage] = Field(min_length=2)
    tools: list[ToolDef] | None = None


class AssistantText(_Strict):
    role: Literal["assistant"]
    content: str


class OpenAIDpoInput(_Strict):
    messages: list[OpenAIMessage] = Field(min_length=1)
    tools: list[ToolDef] | None = None


class OpenAIDpoLine(_Strict):
    """``openai-dpo``: one preference example (preferred: the corrected answer)."""

    input: OpenAIDpoInput
    preferred_output: list[AssistantText] = Field(min_length=1, max_length=1)
    non_preferred_output: list[AssistantText] = Field(min_length=1, max_length=1)


# --- TRL ---------------------------------------------------------------------------------


class TrlFunctionCall(_Strict):
    name: str
    arguments: dict[str, Any] | list[Any] | str | int | float | bool | None
    """An object (kept as recorded when it was not valid JSON)."""


class TrlToolCall(_Strict):
    type: Literal["function"]
    function: TrlFunctionCall


class TrlAssistantMessage(_Strict):
    role: Literal["assistant"]
    content: str | None = None
    tool_calls: list[TrlToolCall] | None = None


class TrlToolMessage(_Strict):
    role: Literal["tool"]
    tool_call_id: str
    name: str | None = None
    content: str


TrlMessage = Annotated[
    SystemMessage | UserMessage | TrlAssistantMessage | TrlToolMessage,
    Field(discriminator="role"),
]


class TrlSftLine(_Strict):
    """``trl-sft``: a conversational language-modeling example."""

    messages: list[TrlMessage] = Field(min_length=2)
    tools: list[ToolDef] | None = None


class TrlDpoLine(_Strict):
    """``trl-dpo``: a conversational preference example (explicit prompt)."""

    prompt: list[TrlMessage] = Field(min_length=1)
    chosen: list[AssistantText] = Field(min_length=1, max_length=1)
    rejected: list[AssistantText] = Field(min_length=1, max_length=1)
    tools: list[ToolDef] | None = None
    """When the prompt calls tools (TRL passes them to the chat template)."""


# --- eval --------------------------------------------------------------------------------


class InspectToolCall(_Strict):
    id: str
    function: str
    arguments: dict[str, Any]
    type: Literal["function"]


class InspectAssistantMessage(_Strict):
    role: Literal["assistant"]
    content: str
    tool_calls: list[InspectToolCall] | None = None


class InspectToolMessage(_Strict):
    role: Literal["tool"]
    tool_call_id: str
    function: str | None = None
    content: str


InspectMessage = Annotated[
    SystemMessage | UserMessage | InspectAssistantMessage | InspectToolMessage,
    Field(discriminator="role"),
]


class EvalMetadata(_Strict):
    session_id: str
    session_revision: int
    agent_name: str | None
    agent_version: str | None
    model: str | None
    label_source: Literal["adjudicated", "gold", "consensus", "single"]
    reviewer_count: int
    labels: dict[str, LabelValue]
    """The ``label_*`` and ``detail_*`` values of the session's label."""
    failure_tags: list[str]
    failure_step: int | None
    rationale: str | None
    agent_answer: str | None
    expected_from: Literal["corrected", "approved"]
    """corrected: a reviewer wrote the target; approved: the agent's answer, judged good."""


class EvalVars(_Strict):
    question: str
    """The last user message (for promptfoo-style ``vars``)."""
    expected: str


class EvalLine(_Strict):
    """``eval-jsonl``: one case (Inspect AI ``json_dataset`` fields, promptfoo ``vars``)."""

    id: str
    input: list[InspectMessage] = Field(min_length=1)
    target: str
    metadata: EvalMetadata
    vars: EvalVars


# --- tracing systems ---------------------------------------------------------------------


class LangfuseScore(_Strict):
    """``langfuse-scores``: a body for ``POST /api/public/scores`` (upserts on ``id``)."""

    id: str
    traceId: str
    observationId: str | None = None
    """Only on the ``output`` correction: the generation whose output is corrected."""
    name: str
    value: float | str
    dataType: Literal["NUMERIC", "BOOLEAN", "CATEGORICAL", "CORRECTION"]
    timestamp: Timestamp | None = None
    """Stays the same when the label changes: Langfuse updates a score sent again with the
    same id and timestamp."""
    comment: str | None = None
    metadata: dict[str, Any]


class LangsmithCorrection(_Strict):
    output: str


class LangsmithFeedback(_Strict):
    """``langsmith-feedback``: keyword arguments of ``Client.create_feedback``."""

    run_id: str
    trace_id: str | None
    key: str
    score: float | None
    value: str | None
    comment: str | None
    correction: LangsmithCorrection | None
    feedback_id: str
    feedback_source_type: Literal["api"]
    source_info: dict[str, Any]
    session_id: str | None = None
    """The project (tracer session) id of the run, where the import kept it."""
    start_time: Timestamp | None = None
    """The run's start time."""


class PhoenixResult(_Strict):
    label: str | None
    score: float | None
    explanation: str | None


class PhoenixAnnotation(_Strict):
    """``phoenix-annotations``: one item of ``POST /v1/span_annotations`` ``data``."""

    span_id: str
    name: str
    annotator_kind: Literal["HUMAN"]
    result: PhoenixResult
    metadata: dict[str, Any]
    identifier: str
    """With the span and name, what Phoenix upserts on."""


class MlflowSource(_Strict):
    source_type: Literal["HUMAN"]
    source_id: str


class MlflowValue(_Strict):
    value: float | bool | str


class MlflowAssessment(_Strict):
    """``mlflow-assessments``: the ``assessment`` of MLflow's ``CreateAssessment``
    (``POST /api/3.0/mlflow/traces/{trace_id}/assessments``): feedback, or the corrected
    response as an ``expected_response`` expectation."""

    assessment_id: str
    """Stable (``a-`` and 32 hex digits): a changed review updates the same assessment."""
    assessment_name: str
    trace_id: str
    source: MlflowSource
    feedback: MlflowValue | None = None
    expectation: MlflowValue | None = None
    rationale: str | None = None
    metadata: dict[str, str]


class AnyValue(_Strict):
    stringValue: str | None = None
    doubleValue: float | None = None
    intValue: str | None = None


class KeyValue(_Strict):
    key: str
    value: AnyValue


class Resource(_Strict):
    attributes: list[KeyValue]


class Scope(_Strict):
    name: str
    version: str


class LogRecord(_Strict):
    timeUnixNano: str
    eventName: Literal["gen_ai.evaluation.result"]
    traceId: str
    spanId: str
    attributes: list[KeyValue]


class ScopeLogs(_Strict):
    scope: Scope
    logRecords: list[LogRecord] = Field(min_length=1)


class ResourceLogs(_Strict):
    resource: Resource
    scopeLogs: list[ScopeLogs]


class OtelEvaluations(_Strict):
    """``otel-evaluations``: one OTLP/JSON ``LogsData`` per label (file-exporter lines)."""

    resourceLogs: list[ResourceLogs]


class InspectProvenance(_Strict):
    author: str
    reason: str
    timestamp: Timestamp | None = None
    metadata: dict[str, Any]


class InspectEdit(_Strict):
    value: Literal["C", "P", "I"]
    explanation: str | None
    provenance: InspectProvenance


class InspectScoreEdit(_Strict):
    """``inspect-scores``: arguments of ``inspect_ai.log.edit_score`` for one score."""

    eval_id: str | None
    run_id: str | None
    task: str | None
    sample_id: int | str
    epoch: int
    score_name: str
    edit: InspectEdit


# --- step level ----------------------------------------------------------------------------


class StepRow(_Strict):
    """``--level step``: one labelled step of one review."""

    session_id: str
    session_revision: int
    review_uid: str
    reviewer: str
    step: int = Field(ge=0)
    role: str
    verdict: str | None
    error_type: str | None
    original: str
    """The step as the agent took it: its text, then one line per tool call."""
    corrected: str | None
    """The step as the reviewer corrected it (same layout), or null."""


class OpenAIStepDpoLine(_Strict):
    """``openai-step-dpo``: history, then the corrected step preferred to the agent's."""

    input: OpenAIDpoInput
    preferred_output: list[OpenAIAssistantMessage] = Field(min_length=1, max_length=1)
    non_preferred_output: list[OpenAIAssistantMessage] = Field(min_length=1, max_length=1)


class TrlStepDpoLine(_Strict):
    """``trl-step-dpo``: a conversational preference example for one step."""

    prompt: list[TrlMessage] = Field(min_length=1)
    chosen: list[TrlAssistantMessage] = Field(min_length=1, max_length=1)
    rejected: list[TrlAssistantMessage] = Field(min_length=1, max_length=1)


class TrlPrmLine(_Strict):
    """``trl-prm``: TRL's stepwise supervision (``PRMTrainer``): one label per agent step."""

    prompt: str
    completions: list[str] = Field(min_length=1)
    labels: list[bool] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_label_per_step(self) -> TrlPrmLine:
        if len(self.completions) != len(self.labels):
            raise ValueError("one label per completion")
        return self
