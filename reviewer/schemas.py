"""JSON Schemas of every persisted or exchanged shape, generated from the pydantic models.

`python -m reviewer.schemas` rewrites `schemas/`; a test fails when the committed files
drift from the models.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from reviewer.domain.batch import Batch, BatchSummary, Plan
from reviewer.domain.figures import StatsReport
from reviewer.domain.pack import (
    AuditRecord,
    PackedPreference,
    PackedReview,
    PackManifest,
    ResultPreference,
    ResultReview,
    ResultsManifest,
)
from reviewer.domain.review import Review
from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Session
from reviewer.export import pair_shapes, shapes
from reviewer.export.manifest import ExportManifest
from reviewer.services.importing import ImportSummary
from reviewer.services.merging import MergeReport

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def _model(model: type[BaseModel], title: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        schema = model.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = title
        return schema

    return build


def _list(model: type[BaseModel], title: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        schema = TypeAdapter(list[model]).json_schema(mode="validation")  # type: ignore[valid-type]
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = title
        return schema

    return build


REGISTRY: dict[str, Callable[[], dict[str, Any]]] = {
    "session.schema.json": _model(Session, "AgentOps Reviewer canonical session (v1)"),
    "rubric.schema.json": _model(Rubric, "AgentOps Reviewer rubric (v1)"),
    "review.schema.json": _model(Review, "AgentOps Reviewer review"),
    "import-summary.schema.json": _model(ImportSummary, "`reviewer import --json` summary"),
    "batch.schema.json": _model(Batch, "`reviewer sample --json` / `reviewer batch show --json`"),
    "pack-manifest.schema.json": _model(PackManifest, "Review pack manifest.json (v3)"),
    "pack-review.schema.json": _model(PackedReview, "Review pack reviews.jsonl line (v1)"),
    "results-manifest.schema.json": _model(ResultsManifest, "Pack results manifest.json (v3)"),
    "results-review.schema.json": _model(ResultReview, "Pack results reviews.jsonl line (v1)"),
    "pack-preference.schema.json": _model(
        PackedPreference, "Review pack preferences.jsonl line (v1)"
    ),
    "results-preference.schema.json": _model(
        ResultPreference, "Pack results preferences.jsonl line (v1)"
    ),
    "audit-entry.schema.json": _model(
        AuditRecord, "Audit trail entry (`reviewer audit --json` items, results audit.jsonl)"
    ),
    "merge-report.schema.json": _model(MergeReport, "`reviewer merge --json` report"),
    "batch-plan.schema.json": _model(Plan, "`reviewer sample --plan --json`"),
    "batch-list.schema.json": _list(BatchSummary, "`reviewer batch list --json`"),
    "stats.schema.json": _model(StatsReport, "`reviewer stats --json` (format version 1)"),
    "export-manifest.schema.json": _model(ExportManifest, "Export manifest (v1)"),
    "export-review-row.schema.json": _model(shapes.ReviewRow, "Export row, --level review (v1)"),
    "export-session-row.schema.json": _model(shapes.SessionRow, "Export row, --level session (v1)"),
    "export-openai-sft.schema.json": _model(shapes.OpenAISftLine, "openai-sft line (v1)"),
    "export-openai-dpo.schema.json": _model(shapes.OpenAIDpoLine, "openai-dpo line (v1)"),
    "export-trl-sft.schema.json": _model(shapes.TrlSftLine, "trl-sft line (v1)"),
    "export-trl-dpo.schema.json": _model(shapes.TrlDpoLine, "trl-dpo line (v1)"),
    "export-pair-row.schema.json": _model(pair_shapes.PairRow, "Export row, --level pair (v1)"),
    "export-trl-pair-dpo.schema.json": _model(pair_shapes.TrlPairDpoLine, "trl-pair-dpo line (v1)"),
    "export-langsmith-pairwise.schema.json": _model(
        pair_shapes.LangsmithPairFeedback, "langsmith-pairwise line"
    ),
    "export-eval.schema.json": _model(shapes.EvalLine, "eval-jsonl line (v1)"),
    "export-step-row.schema.json": _model(shapes.StepRow, "Export row, --level step (v1)"),
    "export-openai-step-dpo.schema.json": _model(
        shapes.OpenAIStepDpoLine, "openai-step-dpo line (v1)"
    ),
    "export-trl-step-dpo.schema.json": _model(shapes.TrlStepDpoLine, "trl-step-dpo line (v1)"),
    "export-trl-prm.schema.json": _model(shapes.TrlPrmLine, "trl-prm line (v1)"),
    "export-langfuse-score.schema.json": _model(shapes.LangfuseScore, "langfuse-scores line"),
    "export-langsmith-feedback.schema.json": _model(
        shapes.LangsmithFeedback, "langsmith-feedback line"
    ),
    "export-phoenix-annotation.schema.json": _model(
        shapes.PhoenixAnnotation, "phoenix-annotations line"
    ),
    "export-mlflow-assessment.schema.json": _model(
        shapes.MlflowAssessment, "mlflow-assessments line"
    ),
    "export-otel-evaluation.schema.json": _model(
        shapes.OtelEvaluations, "otel-evaluations line (OTLP/JSON LogsData)"
    ),
    "export-inspect-score-edit.schema.json": _model(shapes.InspectScoreEdit, "inspect-scores line"),
}
"""File name → schema builder. Add a line here for every new shape we write."""


def render(name: str) -> str:
    return json.dumps(REGISTRY[name](), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def all_rendered() -> dict[str, str]:
    return {name: render(name) for name in sorted(REGISTRY)}


def write_all(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in all_rendered().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR):
        print(p)
