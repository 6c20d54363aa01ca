"""Batches in a workspace: filters in SQL, stored spec, assignment, CLI JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.domain.batch import SamplingSpec
from reviewer.domain.filters import FilterError, parse_where
from reviewer.services.batches import BatchError, create_batch, get_batch, population
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session


def _fill(ws: Workspace) -> None:
    sessions = []
    for i in range(120):
        s = make_session(
            f"s-{i:03d}",
            version=("1.0", "2.0", "2.1")[i % 3],
            tool_error=i % 4 == 0,
            feedback=-1.0 if i % 10 == 0 else 1.0,
        )
        s.tags = ["refund"] if i % 2 else []
        sessions.append(s)
    store_sessions(ws, sessions)


@pytest.fixture
def filled(workspace: Workspace) -> Workspace:
    _fill(workspace)
    return workspace


def test_where_filters_run_in_sql(filled: Workspace) -> None:
    def count(where: str) -> int:
        return len(population(filled, SamplingSpec(size=1, where=where)))

    assert count("") == 120
    assert count("version=2.0") == 40
    assert count("version!=2.0 and tool_error") == 20
    assert count("feedback<0") == 12
    assert count("tag=refund and not tool_error") == 60
    assert count("version~2. and steps=5..5") == 80
    assert count('agent="support-agent\' OR 1=1 --"') == 0, "values are parameters, not SQL"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("colour=red", "unknown field 'colour'"),
        ("steps>many", "'many' is not a number"),
        ("version>2", "version takes =, != or ~"),
        ("tool_error and", "empty clause"),
        ("started<soon", "not a date"),
        ("feedback", "needs an operator"),
    ],
)
def test_bad_filters_say_what_is_wrong(text: str, needle: str) -> None:
    with pytest.raises(FilterError, match=needle):
        parse_where(text)


def test_same_workspace_spec_and_seed_give_the_same_batch(tmp_path: Path) -> None:
    spec = SamplingSpec(
        size=30, seed=9, stratify_by=["version"], reviewers=["a", "b", "c"], overlap=0.2
    )
    batches = []
    for n in range(2):
        ws = init_workspace(tmp_path / f"w{n}.sqlite")
        _fill(ws)
        batches.append(create_batch(ws, "b", spec))
        ws.close()
    first, second = batches
    assert [i.model_dump() for i in first.items] == [i.model_dump() for i in second.items]
    assert sum(len(i.reviewers) == 2 for i in first.items) == 6
    assert first.strata == {
        "version=1.0": {"population": 40, "sample": 10},
        "version=2.0": {"population": 40, "sample": 10},
        "version=2.1": {"population": 40, "sample": 10},
    }
    assert first.spec.rubric_name == "default" and first.spec.rubric_version == 1


def test_reviewed_sessions_are_left_out_and_names_are_unique(filled: Workspace) -> None:
    from reviewer.domain.review import Review, ReviewStatus
    from reviewer.resources import default_rubric
    from reviewer.store.reviews import save_review

    rubric = default_rubric()
    with filled.write() as s:
        for i in range(20):
            save_review(
                s,
                Review(
                    session_key=f"s-{i:03d}",
                    reviewer="x",
                    rubric_name="default",
                    rubric_version=1,
                    values={"quality": "4", "correctness": "correct", "policy": "compliant"},
                    status=ReviewStatus.SUBMITTED,
                ),
                rubric,
            )
    batch = create_batch(filled, "rest", SamplingSpec(size=200))
    assert len(batch.items) == 100
    assert not {i.session_key for i in batch.items} & {f"s-{i:03d}" for i in range(20)}
    with pytest.raises(BatchError, match="exists already"):
        create_batch(filled, "rest", SamplingSpec(size=5))
    assert get_batch(filled, "rest").population == 100


def test_cli_sample_json_and_batch_show(tmp_path: Path) -> None:
    path = tmp_path / "cli.sqlite"
    ws = init_workspace(path)
    _fill(ws)
    ws.close()
    runner = CliRunner()
    args = ["sample", str(path), "--name", "q4", "--size", "12", "--seed", "4"]
    args += ["--stratify-by", "version", "--reviewers", "ann,ben", "--overlap", "0.5", "--json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["items"]) == 12
    assert sum(len(i["reviewers"]) == 2 for i in data["items"]) == 6
    assert {"session_key", "stratum", "inclusion_probability", "reviewers"} <= set(data["items"][0])
    shown = runner.invoke(main, ["batch", "show", str(path), "q4", "--json"])
    assert json.loads(shown.output)["items"] == data["items"]
    plan = runner.invoke(
        main, ["sample", str(path), "--plan", "--stratify-by", "version", "--json"]
    )
    assert [s["needed"] for s in json.loads(plan.output)["strata"]] == [37, 37, 37]
    bad = runner.invoke(
        main, ["sample", str(path), "--name", "x", "--size", "3", "--where", "nope=1"]
    )
    assert bad.exit_code == 2 and "unknown field 'nope'" in bad.output
