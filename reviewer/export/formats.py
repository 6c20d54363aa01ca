"""The export formats: their names, what they hold, and the schema of one row or line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["table", "dataset", "feedback"]

FORMAT_VERSION = 1
"""Version of every row and line shape written (their schemas are ``schemas/export-*``);
bumped when a field changes meaning or type. The manifest records it."""


@dataclass(frozen=True)
class ExportFormat:
    name: str
    kind: Kind
    """table: rows of labels; dataset: fine-tuning and eval lines built from the
    transcript; feedback: labels in a tracing system's own shape, keyed by provenance ids."""
    extension: str
    summary: str
    schema: str
    """Schema file (in ``schemas/``) of one row or line."""
    source: str | None = None
    """feedback formats: the importer (``source.format``) a session must come from."""
    required_ids: tuple[str, ...] = ()
    """feedback formats: the provenance ids (``source.ids``) a session must carry."""
    pairs: bool = False
    """Built from the preferences of pairwise batches (``services.pair_export``)."""


ROW_SCHEMAS = {
    "review": "export-review-row.schema.json",
    "session": "export-session-row.schema.json",
    "step": "export-step-row.schema.json",
    "pair": "export-pair-row.schema.json",
}

FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("csv", "table", ".csv", "labels as CSV (RFC 4180, UTF-8)", ""),
        ExportFormat("jsonl", "table", ".jsonl", "labels as JSON Lines", ""),
        ExportFormat("parquet", "table", ".parquet", "labels as Parquet", ""),
        ExportFormat(
            "openai-sft",
            "dataset",
            ".jsonl",
            "OpenAI chat fine-tuning lines (messages, tools, tool calls)",
            "export-openai-sft.schema.json",
        ),
        ExportFormat(
            "openai-dpo",
            "dataset",
            ".jsonl",
            "OpenAI preference fine-tuning lines (corrected vs agent's answer)",
            "export-openai-dpo.schema.json",
        ),
        ExportFormat(
            "trl-sft",
            "dataset",
            ".jsonl",
            "Hugging Face TRL conversational SFT lines (messages, tools)",
            "export-trl-sft.schema.json",
        ),
        ExportFormat(
            "trl-dpo",
            "dataset",
            ".jsonl",
            "Hugging Face TRL conversational preference lines (prompt, chosen, rejected)",
            "export-trl-dpo.schema.json",
        ),
        ExportFormat(
            "openai-step-sft",
            "dataset",
            ".jsonl",
            "OpenAI chat fine-tuning lines per corrected step (history, then the corrected step)",
            "export-openai-sft.schema.json",
        ),
        ExportFormat(
            "trl-step-sft",
            "dataset",
            ".jsonl",
            "TRL conversational SFT lines per corrected step",
            "export-trl-sft.schema.json",
        ),
        ExportFormat(
            "openai-step-dpo",
            "dataset",
            ".jsonl",
            "OpenAI preference lines per corrected step (corrected vs agent's step, tool calls"
            " as tool calls)",
            "export-openai-step-dpo.schema.json",
        ),
        ExportFormat(
            "trl-step-dpo",
            "dataset",
            ".jsonl",
            "TRL conversational preference lines per corrected step",
            "export-trl-step-dpo.schema.json",
        ),
        ExportFormat(
            "trl-prm",
            "dataset",
            ".jsonl",
            "TRL stepwise-supervision lines for process reward models (prompt, completions,"
            " labels: one per agent step)",
            "export-trl-prm.schema.json",
        ),
        ExportFormat(
            "openai-pair-dpo",
            "dataset",
            ".jsonl",
            "OpenAI preference lines from pairwise reviews (winner's vs loser's answer)",
            "export-openai-dpo.schema.json",
            pairs=True,
        ),
        ExportFormat(
            "trl-pair-dpo",
            "dataset",
            ".jsonl",
            "TRL preference lines from pairwise reviews (winner's vs loser's agent turns)",
            "export-trl-pair-dpo.schema.json",
            pairs=True,
        ),
        ExportFormat(
            "eval-jsonl",
            "dataset",
            ".jsonl",
            "eval cases: input messages, expected answer, labels (Inspect AI json_dataset)",
            "export-eval.schema.json",
        ),
        ExportFormat(
            "langfuse-scores",
            "feedback",
            ".jsonl",
            "Langfuse score objects (POST /api/public/scores)",
            "export-langfuse-score.schema.json",
            source="langfuse",
            required_ids=("trace_id",),
        ),
        ExportFormat(
            "langsmith-feedback",
            "feedback",
            ".jsonl",
            "LangSmith feedback (Client.create_feedback keyword arguments)",
            "export-langsmith-feedback.schema.json",
            source="langsmith",
            required_ids=("run_id",),
        ),
        ExportFormat(
            "langsmith-pairwise",
            "feedback",
            ".jsonl",
            "LangSmith pairwise feedback on both runs of each reviewed pair",
            "export-langsmith-pairwise.schema.json",
            source="langsmith",
            required_ids=("run_id",),
            pairs=True,
        ),
        ExportFormat(
            "phoenix-annotations",
            "feedback",
            ".jsonl",
            "Phoenix span annotations (POST /v1/span_annotations data items)",
            "export-phoenix-annotation.schema.json",
            source="otlp",
            required_ids=("span_id",),
        ),
        ExportFormat(
            "mlflow-assessments",
            "feedback",
            ".jsonl",
            "MLflow assessments: feedback and expected_response expectations"
            " (POST /api/3.0/mlflow/traces/{trace_id}/assessments)",
            "export-mlflow-assessment.schema.json",
            source="mlflow",
            required_ids=("trace_id",),
        ),
        ExportFormat(
            "otel-evaluations",
            "feedback",
            ".jsonl",
            "OTLP/JSON logs: gen_ai.evaluation.result events on the evaluated span",
            "export-otel-evaluation.schema.json",
            source="otlp",
            required_ids=("trace_id", "span_id"),
        ),
        ExportFormat(
            "inspect-scores",
            "feedback",
            ".jsonl",
            "Inspect AI score edits (inspect_ai.log.edit_score arguments)",
            "export-inspect-score-edit.schema.json",
            source="inspect-ai",
            required_ids=("sample_id",),
        ),
    )
}


def get_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(FORMATS)
        raise ValueError(f"unknown export format {name!r}; formats: {known}") from None


def row_schema(fmt: ExportFormat, level: str) -> str:
    return ROW_SCHEMAS[level] if fmt.kind == "table" else fmt.schema
