"""Pairwise exports: preference rows (--level pair) and DPO lines whose chosen side was picked."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.domain.batch import Batch, SamplingSpec
from reviewer.domain.preference import Preference, Winner
from reviewer.export.options import ExportOptions
from reviewer.services.exporting import ExportError, export
from reviewer.services.pairwise import create_pair_batch, pair_spec
from reviewer.services.preferences import save_preference
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace
from tests.export.conftest import check_lines, schema
from tests.pairwise.helpers import fill_trials

PICKS = [Winner.LEFT, Winner.RIGHT, Winner.TIE, Winner.BOTH_BAD, Winner.LEFT]


@pytest.fixture
def reviewed(tmp_path: Path) -> tuple[Workspace, Batch]:
    ws = init_workspace(tmp_path / "pairs.sqlite")
    fill_trials(ws, tasks=6)
    spec = SamplingSpec(size=6, seed=2, pairs=pair_spec("metadata.task_id", "version=1.0,2.0"))
    batch = create_pair_batch(ws, "cmp", spec)
    for pos, winner in enumerate(PICKS):
        pref = Preference(
            batch="cmp",
            position=pos,
            reviewer="ann",
            winner=winner,
            dimensions={"quality": Winner.LEFT} if pos == 4 else {},
            rationale="=cmd|' /C calc'!A0" if pos == 4 else None,
        )
        save_preference(ws, pref, submit=True)
    save_preference(ws, Preference(batch="cmp", position=5, reviewer="ann"))  # a draft
    return ws, batch


def _version(session_key: str) -> str:
    return session_key.split("-v")[1].rsplit("-", 1)[0]


def test_pair_rows_say_who_won_where_it_was_shown_and_what_it_is(
    reviewed: tuple[Workspace, Batch], tmp_path: Path
) -> None:
    ws, batch = reviewed
    out = tmp_path / "pairs.jsonl"
    manifest = export(ws, ExportOptions(format="jsonl", level="pair"), out)
    rows = check_lines(out, "export-pair-row.schema.json")
    assert manifest.level == "pair" and manifest.counts.rows == 5 and manifest.counts.reviews == 5
    assert [r["winner"] for r in rows] == [w.value for w in PICKS]
    for r, item in zip(rows, batch.items, strict=False):
        assert item.pair is not None
        assert r["pair_id"] == f"cmp#{item.position}"
        assert (r["left_session"], r["right_session"]) == (item.session_key, item.pair.session_key)
        assert r["left_is"] == item.pair.left
        assert r["left_value"] == _version(item.session_key)
        assert r["right_value"] == _version(item.pair.session_key)
        if r["winner"] == "left":
            assert r["winning_session"] == item.session_key
        elif r["winner"] == "right":
            assert r["winning_session"] == item.pair.session_key
        else:
            assert r["winning_session"] is None
    assert rows[4]["dimensions"] == ["quality=left"]
    again = tmp_path / "again.jsonl"
    export(ws, ExportOptions(format="jsonl", level="pair"), again)
    assert again.read_bytes() == out.read_bytes()
    drafts = export(ws, ExportOptions(format="jsonl", level="pair", status="all"), again)
    assert drafts.counts.rows == 6


def test_pair_rows_as_csv_and_parquet(reviewed: tuple[Workspace, Batch], tmp_path: Path) -> None:
    ws, _ = reviewed
    export(ws, ExportOptions(format="csv", level="pair"), tmp_path / "p.csv")
    with (tmp_path / "p.csv").open(encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 5 and table[4]["rationale"].startswith("'=")  # formula neutralised
    manifest = export(ws, ExportOptions(format="parquet", level="pair"), tmp_path / "p.parquet")
    read = pq.read_table(tmp_path / "p.parquet")
    assert read.num_rows == 5 and read.column("winner").to_pylist()[1] == "right"
    schema("export-manifest.schema.json").validate(manifest.model_dump(mode="json", by_alias=True))


@pytest.mark.parametrize("fmt", ["trl-pair-dpo", "openai-pair-dpo"])
def test_dpo_from_preferences_chooses_the_picked_side_and_counts_ties(
    reviewed: tuple[Workspace, Batch], tmp_path: Path, fmt: str
) -> None:
    ws, batch = reviewed
    out = tmp_path / f"{fmt}.jsonl"
    manifest = export(ws, ExportOptions(format=fmt), out)
    lines = check_lines(out, manifest.schema_file)
    assert len(lines) == 3
    assert manifest.left_out == {"both_bad": 1, "tie": 1}
    decided = [
        (i, w) for i, w in zip(batch.items, PICKS, strict=False) if w.value in ("left", "right")
    ]
    for line, (item, winner) in zip(lines, decided, strict=True):
        assert item.pair is not None
        won, lost = (
            (item.session_key, item.pair.session_key)
            if winner is Winner.LEFT
            else (item.pair.session_key, item.session_key)
        )
        if fmt == "trl-pair-dpo":
            prompt, chosen, rejected = line["prompt"], line["chosen"], line["rejected"]
        else:
            prompt = line["input"]["messages"]
            chosen, rejected = line["preferred_output"], line["non_preferred_output"]
        assert [m["role"] for m in prompt] == ["system", "user"]
        assert chosen[-1]["content"].startswith(f"Answer by {_version(won)} ")
        assert rejected[-1]["content"].startswith(f"Answer by {_version(lost)} ")
        if fmt == "trl-pair-dpo":
            assert [m["role"] for m in chosen] == ["assistant", "tool", "assistant"]


def test_cli_exports_pairs_and_refuses_what_does_not_fit(
    reviewed: tuple[Workspace, Batch], tmp_path: Path
) -> None:
    ws, _ = reviewed
    ws.close()
    path = tmp_path / "pairs.sqlite"
    run = CliRunner()
    args = ["export", str(path), "--format", "csv", "--level", "pair", "--batch", "cmp"]
    got = run.invoke(main, [*args, "--out", str(tmp_path / "x.csv"), "--json"])
    assert got.exit_code == 0, got.stderr
    assert json.loads(got.stdout)["counts"]["rows"] == 5
    bad = run.invoke(main, ["export", str(path), "--format", "openai-sft", "--level", "pair",
                            "--out", str(tmp_path / "y.jsonl")])  # fmt: skip
    assert bad.exit_code != 0 and "--level pair goes with" in bad.stderr
    ws2 = init_workspace(tmp_path / "other.sqlite")
    with pytest.raises(ExportError, match="no batch"):
        export(ws2, ExportOptions(format="jsonl", level="pair", batch="nope"), tmp_path / "z")
    ws2.close()


def test_langsmith_pairwise_feedback_scores_both_runs_of_a_pair(tmp_path: Path) -> None:
    from reviewer.domain.session import Source
    from reviewer.services.importing import store_sessions
    from tests.helpers.factories import make_session

    ws = init_workspace(tmp_path / "ls.sqlite")
    sessions = []
    for t in range(3):
        for version in ("1.0", "2.0"):
            s = make_session(f"t{t}-{version}", version=version, metadata={"task_id": f"t{t}"})
            if t < 2:  # task 2 was not imported from LangSmith
                s.source = Source(format="langsmith", ids={"run_id": f"run-{t}-{version}"})
            sessions.append(s)
    store_sessions(ws, sessions)
    spec = SamplingSpec(size=3, seed=1, pairs=pair_spec("metadata.task_id", "version=1.0,2.0"))
    batch = create_pair_batch(ws, "ls", spec)
    for item in batch.items:
        winner = Winner.TIE if item.session_key.startswith("t1") else Winner.LEFT
        pref = Preference(
            batch="ls", position=item.position, reviewer="ann", winner=winner, rationale="clearer"
        )
        save_preference(ws, pref, submit=True)
    out = tmp_path / "ls.jsonl"
    manifest = export(ws, ExportOptions(format="langsmith-pairwise"), out)
    lines = check_lines(out, "export-langsmith-pairwise.schema.json")
    assert manifest.left_out == {"not_from_langsmith": 1} and manifest.counts.rows == 4
    by_run = {line["run_id"]: line for line in lines}
    t0 = next(i for i in batch.items if i.session_key.startswith("t0"))
    assert t0.pair is not None
    left_run = f"run-0-{t0.session_key.split('-')[1]}"
    right_run = f"run-0-{t0.pair.session_key.split('-')[1]}"
    assert (by_run[left_run]["score"], by_run[left_run]["value"]) == (1.0, "preferred")
    assert (by_run[right_run]["score"], by_run[right_run]["value"]) == (0.0, "not_preferred")
    assert by_run[left_run]["feedback_group_id"] == by_run[right_run]["feedback_group_id"]
    assert {by_run["run-1-1.0"]["value"], by_run["run-1-2.0"]["score"]} == {"tie", 0.5}
    assert by_run[left_run]["comment"] == "clearer"
    again = tmp_path / "again.jsonl"
    export(ws, ExportOptions(format="langsmith-pairwise"), again)
    assert again.read_bytes() == out.read_bytes()  # the same ids: sending twice updates
    ws.close()


def test_where_keeps_pairs_either_of_whose_sessions_matches(
    reviewed: tuple[Workspace, Batch], tmp_path: Path
) -> None:
    ws, _ = reviewed
    out = tmp_path / "w.jsonl"

    def rows(where: str) -> int:
        options = ExportOptions(format="jsonl", level="pair", where=where)
        return export(ws, options, out).counts.rows

    # every pair has one 1.0 and one 2.0 session, on whichever side
    assert rows("version=1.0") == rows("version=2.0") == 5
    assert rows("version=3.0") == 0
    assert rows("version=2.0 and model~gpt") == 5
    with pytest.raises(ExportError, match="filter"):
        rows("versoin=1")
