"""Pairwise batches: pairs share a task, one side per compared value, seeded, stored."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from reviewer.cli import main
from reviewer.domain.batch import Batch, SamplingSpec
from reviewer.domain.pairing import PairCandidate, draw_pairs
from reviewer.services.batches import BatchError, create_batch, get_batch
from reviewer.services.pairwise import create_pair_batch, pair_spec, plan_pairs
from reviewer.services.workspaces import init_workspace
from reviewer.store.tables import BatchItemRow
from reviewer.store.workspace import Workspace
from tests.pairwise.helpers import fill_trials


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = init_workspace(tmp_path / "pairs.sqlite")
    fill_trials(w)
    return w


def _spec(size: int = 8, seed: int = 3, **kw: object) -> SamplingSpec:
    return SamplingSpec(
        size=size, seed=seed, pairs=pair_spec("metadata.task_id", "version=1.0,2.0"), **kw
    )


def _version(key: str) -> str:
    return key.split("-v")[1].rsplit("-", 1)[0]


def test_every_pair_shares_a_task_and_has_one_session_of_each_version(ws: Workspace) -> None:
    batch = create_pair_batch(ws, "cmp", _spec(size=8, reviewers=["ann", "ben"]))
    assert len(batch.items) == 8
    assert batch.spec.pairs is not None and batch.spec.pairs.field == "version"
    for item in batch.items:
        assert item.pair is not None
        left, right = item.session_key, item.pair.session_key
        assert left.split("-v")[0] == right.split("-v")[0]  # same task
        assert item.pair.task_key == "t-" + left[1:3]
        want = "1.0" if item.pair.left == "A" else "2.0"
        assert _version(left) == want
        assert {_version(left), _version(right)} == {"1.0", "2.0"}
        assert item.inclusion_probability == pytest.approx(8 / 20)
        assert len(item.reviewers) == 1
    # 3.0 and the task only 2.0 ran are never drawn
    assert not {i.session_key for i in batch.items} & {"v3", "lonely"}


def test_the_same_seed_gives_the_same_pairs_and_sides_another_seed_others(
    ws: Workspace,
) -> None:
    a = create_pair_batch(ws, "a", _spec(seed=7))
    b = create_pair_batch(ws, "b", _spec(seed=7))
    c = create_pair_batch(ws, "c", _spec(seed=8))
    assert a.items == b.items
    assert a.items != c.items


def test_left_and_right_are_randomised_and_both_candidates_get_chosen() -> None:
    cands = [PairCandidate(i * 4 + k, f"t{i}", side) for i in range(200) for k, side in
             enumerate(("A", "A", "B", "B"))]  # fmt: skip
    drawn = draw_pairs(cands, 200, seed=1)
    sides = Counter(d.left for d in drawn)
    assert 70 < sides["A"] < 130 and 70 < sides["B"] < 130
    firsts = Counter(d.a % 4 for d in drawn)  # which of the two A candidates was taken
    assert 70 < firsts[0] < 130 and firsts[0] + firsts[1] == 200


def test_plan_counts_the_pairs_that_exist(ws: Workspace) -> None:
    found = plan_pairs(ws, _spec())
    assert (found.pairs, found.sessions_a, found.sessions_b) == (20, 40, 41)
    assert (found.keys_a, found.keys_b) == (20, 21)
    narrowed = plan_pairs(ws, _spec(where="version=1.0"))
    assert narrowed.pairs == 0


def test_asking_for_more_pairs_than_exist_gives_all_of_them_once(ws: Workspace) -> None:
    batch = create_pair_batch(ws, "all", _spec(size=500))
    assert len(batch.items) == 20
    assert len({i.pair.task_key for i in batch.items if i.pair}) == 20


def test_an_impossible_comparison_says_why(ws: Workspace) -> None:
    spec = SamplingSpec(size=3, pairs=pair_spec("metadata.task_id", "version=1.0,9.9"))
    with pytest.raises(BatchError, match="no task"):
        create_pair_batch(ws, "none", spec)
    with pytest.raises(BatchError, match="FIELD=A,B"):
        pair_spec("metadata.task_id", "version=1.0")
    with pytest.raises(BatchError, match="unknown"):
        create_pair_batch(ws, "bad", SamplingSpec(size=3, pairs=pair_spec("colour", "version=1,2")))


def test_single_batches_are_unchanged(ws: Workspace) -> None:
    single = create_batch(ws, "single", SamplingSpec(size=5, seed=1))
    assert all(i.pair is None for i in single.items)
    with ws.read() as s:
        assert s.scalars(select(BatchItemRow.pair_session_id)).all() == [None] * 5
    assert get_batch(ws, "single") == single


def test_cli_draws_shows_and_plans_pairs(tmp_path: Path) -> None:
    path = tmp_path / "cli.sqlite"
    ws = init_workspace(path)
    fill_trials(ws)
    ws.close()
    run = CliRunner()
    args = ["sample", str(path), "--pairs", "--pair-on", "metadata.task_id",
            "--compare", "version=1.0,2.0"]  # fmt: skip
    plan = run.invoke(main, [*args, "--plan", "--json"])
    assert plan.exit_code == 0, plan.stderr
    assert json.loads(plan.stdout)["pairs"] == 20
    made = run.invoke(main, [*args, "--name", "p", "--size", "6", "--seed", "2", "--blind",
                             "--reviewers", "ann,ben", "--overlap", "0.5", "--json"])  # fmt: skip
    assert made.exit_code == 0, made.stderr
    batch = Batch.model_validate_json(made.stdout)
    assert len(batch.items) == 6 and batch.spec.blind
    assert sum(len(i.reviewers) == 2 for i in batch.items) == 3
    shown = run.invoke(main, ["batch", "show", str(path), "p"])
    assert shown.exit_code == 0
    assert "pairs on metadata.task_id, version=1.0 against version=2.0" in shown.stdout
    assert "batch p: 6 pairs drawn from 20 tasks with a pair" in shown.stdout
    assert batch.items[0].pair is not None
    assert batch.items[0].pair.session_key in shown.stdout
    bad = run.invoke(main, ["sample", str(path), "--pairs", "--name", "x", "--size", "2"])
    assert bad.exit_code != 0 and "--pair-on" in bad.stderr


def test_a_pairwise_batch_is_packed_with_both_sessions_of_each_pair(
    ws: Workspace, tmp_path: Path
) -> None:
    from reviewer.services.packs import create_pack, read_pack_manifest

    batch = create_pair_batch(ws, "cmp", _spec(reviewers=["ann"]))
    pack = create_pack(ws, "cmp", "ann", tmp_path / "ann.reviewpack")
    manifest = read_pack_manifest(pack.path)
    assert [(i.session_key, i.pair and i.pair.session_key) for i in manifest.items] == [
        (i.session_key, i.pair and i.pair.session_key) for i in batch.items
    ]
