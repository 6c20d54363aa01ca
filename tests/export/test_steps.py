"""Step-level exports on the demo: every one is non-empty and follows its shape."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from reviewer.export import shapes
from reviewer.export.options import ExportOptions
from reviewer.export.steps import STEP_FORMATS
from reviewer.schemas import SCHEMA_DIR
from reviewer.services.demo import build_demo
from reviewer.services.exporting import export
from reviewer.store.workspace import Workspace

LINE_SHAPES = {
    "openai-step-sft": shapes.OpenAISftLine,
    "trl-step-sft": shapes.TrlSftLine,
    "openai-step-dpo": shapes.OpenAIStepDpoLine,
    "trl-step-dpo": shapes.TrlStepDpoLine,
    "trl-prm": shapes.TrlPrmLine,
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = build_demo(tmp_path_factory.mktemp("demo") / "demo.sqlite", sessions=300)
    yield ws
    ws.close()


@pytest.mark.parametrize("name", STEP_FORMATS)
def test_step_datasets_are_non_empty_and_follow_their_shapes(
    demo: Workspace, tmp_path: Path, name: str
) -> None:
    out = tmp_path / f"{name}.jsonl"
    manifest = export(demo, ExportOptions(format=name), out)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines and manifest.counts.rows == len(lines) and manifest.level == "step"
    schema = json.loads((SCHEMA_DIR / manifest.schema_file).read_text())
    for line in lines:
        LINE_SHAPES[name].model_validate(line)
        jsonschema.validate(line, schema)
    if name == "trl-prm":
        assert any(False in x["labels"] for x in lines) and any(all(x["labels"]) for x in lines)
        assert all(x["labels"].count(False) <= len(x["labels"]) for x in lines)
    if name == "openai-step-dpo":
        chosen = [x["preferred_output"][0] for x in lines]
        rejected = [x["non_preferred_output"][0] for x in lines]
        assert all(c != r for c, r in zip(chosen, rejected, strict=True))


def test_step_rows_in_every_table_format(demo: Workspace, tmp_path: Path) -> None:
    heads = ["session_id", "session_revision", "review_uid", "reviewer", "step", "role",
             "verdict", "error_type", "original", "corrected"]  # fmt: skip
    out = tmp_path / "steps.csv"
    manifest = export(demo, ExportOptions(format="csv", level="step"), out)
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0]) == heads and manifest.level == "step"
    assert {r["verdict"] for r in rows} >= {"correct", "wrong"}
    assert any(r["corrected"] for r in rows) and all(r["role"] == "assistant" for r in rows)
    for fmt in ("jsonl", "parquet"):
        m = export(demo, ExportOptions(format=fmt, level="step"), tmp_path / f"steps.{fmt}")
        assert m.counts.rows == len(rows)
    schema = json.loads((SCHEMA_DIR / "export-step-row.schema.json").read_text())
    first = json.loads((tmp_path / "steps.jsonl").read_text().splitlines()[0])
    jsonschema.validate(first, schema)
