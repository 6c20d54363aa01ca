"""`reviewer sample` and `reviewer batch`: JSON on stdout, one-line errors, help texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.domain.batch import Batch, BatchSummary, Plan
from reviewer.resources import default_rubric
from reviewer.services.workspaces import init_workspace
from tests.batches.test_batches import _fill


@pytest.fixture
def path(tmp_path: Path) -> Path:
    target = tmp_path / "cli.sqlite"
    ws = init_workspace(target)
    _fill(ws)
    ws.close()
    return target


def _run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_sample_prints_the_batch_as_json_and_batch_show_prints_the_same(path: Path) -> None:
    code, out, _ = _run(
        "sample", path, "--name", "q4", "--size", "12", "--seed", "4",
        "--stratify-by", "version", "--reviewers", "ann,ben", "--overlap", "0.5",
        "--where", "not tool_error", "--priority", "negative_feedback=2", "--json",
    )  # fmt: skip
    assert code == 0
    batch = Batch.model_validate_json(out)
    assert len(batch.items) == 12
    assert sum(len(i.reviewers) == 2 for i in batch.items) == 6
    assert batch.spec.where == "not tool_error"
    assert batch.spec.priority == {"negative_feedback": 2.0}
    first = json.loads(out)["items"][0]
    assert {"position", "session_key", "stratum", "inclusion_probability", "reviewers"} <= set(
        first
    )
    code, shown, _ = _run("batch", "show", path, "q4", "--json")
    assert code == 0 and json.loads(shown) == json.loads(out)
    code, listed, _ = _run("batch", "list", path, "--json")
    (summary,) = [BatchSummary.model_validate(row) for row in json.loads(listed)]
    assert (summary.name, summary.items, summary.reviewers) == ("q4", 12, ["ann", "ben"])


def test_the_same_command_twice_draws_the_same_items(path: Path, tmp_path: Path) -> None:
    args = ["--size", "20", "--seed", "3", "--stratify-by", "version", "--json"]
    _, first, _ = _run("sample", path, "--name", "one", *args)
    _, again, _ = _run("sample", path, "--name", "two", *args)
    keys = [[i["session_key"] for i in json.loads(o)["items"]] for o in (first, again)]
    assert keys[0] == keys[1]


def test_plan_prints_sizes_per_stratum(path: Path) -> None:
    code, out, _ = _run("sample", path, "--plan", "--stratify-by", "version", "--json")
    assert code == 0
    result = Plan.model_validate_json(out)
    assert [s.needed for s in result.strata] == [37, 37, 37]
    assert all(s.allocated is None for s in result.strata)
    code, text, _ = _run(
        "sample", path, "--plan", "--margin", "0.1", "--confidence", "0.9", "--size", "30"
    )
    assert code == 0
    assert "within ±10.0% at 90% confidence" in text
    # N = 120, z = 1.645: n0 = 67.64, 67.64 / (1 + 66.64/120) = 43.5 → 44
    assert "all: needs 44 of 120, a batch of 30 gives it 30" in text


def test_text_output_names_design_strata_and_loads(path: Path) -> None:
    code, out, _ = _run(
        "sample", path, "--name", "t", "--size", "9", "--stratify-by", "version",
        "--reviewers", "ann,ben,cy",
    )  # fmt: skip
    assert code == 0
    assert "batch t: 9 items drawn from 120 sessions, 0 gold" in out
    assert "design: stratified by version (proportional); filter: none" in out
    assert "version=1.0: 3 of 40" in out and "ann: 3 items" in out
    code, shown, _ = _run("batch", "show", path, "t")
    lines = shown.splitlines()
    header = lines.index("position\tsession\tstratum\tprobability\treviewers")
    assert len(lines) - header - 1 == 9
    assert lines[header + 1].split("\t")[0] == "0"
    code, listed, _ = _run("batch", "list", path)
    assert listed.startswith("t: 9 items from 120 sessions, for ann, ben, cy; rubric default v1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "x", "--size", "3", "--where", "nope=1"], "unknown field 'nope'"),
        (["--name", "x", "--size", "3", "--where", "steps>"], "expected a value after '>'"),
        (["--name", "x", "--size", "3", "--priority", "escalated=-1"], "positive number"),
        (["--name", "x", "--size", "3", "--priority", "vibes"], "unknown priority signal"),
        (["--name", "x", "--size", "3", "--stratify-by", "mood"], "cannot stratify by mood"),
        (["--name", "x", "--size", "3", "--overlap", "0.5"], "at least two reviewers"),
        (["--size", "3"], "--name and --size are needed"),
    ],
)
def test_mistakes_get_one_clear_line_and_status_2(
    path: Path, args: list[str], message: str
) -> None:
    code, out, err = _run("sample", path, *args)
    assert code == 2 and out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_bad_rubric_file_and_a_missing_batch_are_named(path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "rubric.json"
    bad.write_text('{"name": "r"}', encoding="utf-8")
    code, _, err = _run("sample", path, "--name", "x", "--size", "3", "--rubric", bad)
    assert code == 2 and "not a valid rubric" in err and len(err.strip().splitlines()) == 1
    good = tmp_path / "edited.json"
    edited = default_rubric().model_copy(update={"title": "Edited"})
    good.write_text(edited.model_dump_json(), encoding="utf-8")
    code, out, _ = _run("sample", path, "--name", "y", "--size", "3", "--rubric", good, "--json")
    assert code == 0 and json.loads(out)["spec"]["rubric_version"] == 2
    code, _, err = _run("batch", "show", path, "nope")
    assert code == 2 and "no batch named 'nope'" in err


def test_every_option_has_help() -> None:
    from reviewer.cli.cmd_batches import batch_cmd, sample_cmd

    commands = [sample_cmd, *batch_cmd.commands.values()]  # type: ignore[attr-defined]
    for command in commands:
        assert command.help
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"{command.name} {param.name} has no help"
