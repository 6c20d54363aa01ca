"""`reviewer export` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reviewer.cli import main
from reviewer.store.workspace import Workspace


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["export", *args])
    return result.exit_code, result.output


def test_export_writes_the_file_and_says_what_it_left_out(
    labelled: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "sft.jsonl"
    code, output = _run(str(labelled.path), "--format", "openai-sft", "--out", str(out))
    assert code == 0, output
    assert "wrote 3 lines" in output and "left out 1: below threshold" in output
    assert out.exists() and Path(f"{out}.manifest.json").exists()


def test_json_prints_the_manifest(labelled: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "labels.parquet"
    code, output = _run(
        str(labelled.path), "--format", "parquet", "--out", str(out), "--level", "session",
        "--batch", "week-1", "--json",
    )  # fmt: skip
    assert code == 0, output
    manifest = json.loads(output)
    assert (manifest["level"], manifest["batch"], manifest["counts"]["rows"]) == (
        "session",
        "week-1",
        1,
    )


def test_thresholds_and_options_reach_the_export(labelled: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "sft.jsonl"
    code, output = _run(
        str(labelled.path), "--format", "trl-sft", "--out", str(out), "--require", "none",
        "--min-quality", "1", "--json",
    )  # fmt: skip
    assert code == 0, output
    assert json.loads(output)["thresholds"] == {"min_quality": 1.0, "require": {}}
    code, output = _run(
        str(labelled.path), "--format", "trl-sft", "--out", str(out), "--require", "policy",
    )  # fmt: skip
    assert code == 2 and "expected DIMENSION=VALUE" in output


def test_bad_options_fail_with_one_line_and_write_nothing(
    labelled: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "x.csv"
    code, output = _run(str(labelled.path), "--format", "csv", "--out", str(out), "--where", "or")
    assert code == 2 and "filter:" in output and not out.exists()
    code, output = _run(str(labelled.path), "--format", "csv", "--out", str(out), "--batch", "b")
    assert code == 2 and "no batch named 'b'" in output
    code, output = _run(str(labelled.path), "--format", "csv", "--out", str(tmp_path / "no/x.csv"))
    assert code == 2 and "no folder" in output
    code, output = _run(str(labelled.path), "--format", "xlsx", "--out", str(out))
    assert code == 2 and "xlsx" in output
