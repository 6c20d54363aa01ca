"""Pairwise figures: win rate with ties split, Wilson CI, sign test, position bias, kappa."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint

from reviewer.cli import main
from reviewer.domain.batch import SamplingSpec
from reviewer.domain.pairwise_stats import Judgement, pairwise_stats, sign_test
from reviewer.domain.preference import Preference, Winner
from reviewer.services.pairwise import create_pair_batch, pair_spec
from reviewer.services.preferences import PreferenceError, save_preference
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace
from tests.pairwise.helpers import fill_trials


@pytest.mark.parametrize(("k", "n"), [(0, 1), (3, 10), (5, 10), (17, 40), (60, 61), (0, 0)])
def test_sign_test_matches_scipy(k: int, n: int) -> None:
    got = sign_test(k, n)
    if n == 0:
        assert got is None
    else:
        assert got == pytest.approx(binomtest(k, n, 0.5).pvalue, rel=1e-9)


def _j(item: int, winner: str, left: str = "A", reviewer: str = "ann") -> Judgement:
    return Judgement(item, reviewer, "cmp", "version", "1.0", "2.0", winner, left)


def test_win_rate_splits_ties_and_its_interval_is_wilsons() -> None:
    # B wins 6 (3 shown left, 3 right), A wins 2, one tie, one both bad: 10 items
    rows = [_j(i, "left", "B") for i in range(3)] + [_j(i, "right", "A") for i in range(3, 6)]
    rows += [_j(6, "left"), _j(7, "right", "B"), _j(8, "tie"), _j(9, "both_bad")]
    stats = pairwise_stats(rows)
    (c,) = stats.comparisons
    assert (c.wins_b, c.wins_a, c.ties, c.both_bad, c.items) == (6, 2, 1, 1, 10)
    assert c.win_rate == pytest.approx(0.7)
    low, high = proportion_confint(7, 10, alpha=0.05, method="wilson")
    assert (c.ci_low, c.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert c.sign_test_p == pytest.approx(binomtest(6, 8, 0.5).pvalue)
    # position: left picked 3 + 1 = 4 times of 8 decided
    assert stats.position_bias.decided == 8
    assert stats.position_bias.left_share == pytest.approx(0.5)


def test_two_reviewers_of_one_item_count_once_and_give_a_kappa() -> None:
    rows = []
    for i in range(20):
        pick = "left" if i % 3 else "right"
        rows += [_j(i, pick, reviewer="ann"), _j(i, pick if i % 5 else "tie", reviewer="ben")]
    stats = pairwise_stats(rows)
    (c,) = stats.comparisons
    assert c.items == 20 and c.reviews == 40
    assert stats.agreement.items == 20 and stats.agreement.pairs == 20
    assert stats.agreement.kappa is not None and 0 < stats.agreement.kappa < 1


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = init_workspace(tmp_path / "stats.sqlite")
    fill_trials(w, tasks=12)
    return w


def test_stats_json_reports_the_win_rate_of_what_reviewers_picked(
    ws: Workspace, tmp_path: Path
) -> None:
    spec = SamplingSpec(size=12, seed=1, pairs=pair_spec("metadata.task_id", "version=1.0,2.0"))
    batch = create_pair_batch(ws, "cmp", spec)
    for item in batch.items:
        assert item.pair is not None
        # the reviewer always picks the 2.0 session, wherever it is shown
        winner = Winner.RIGHT if item.pair.left == "A" else Winner.LEFT
        pref = Preference(batch="cmp", position=item.position, reviewer="ann", winner=winner)
        save_preference(ws, pref, submit=True)
    with pytest.raises(PreferenceError, match="choose"):
        save_preference(ws, Preference(batch="cmp", position=0, reviewer="ben"), submit=True)
    ws.close()
    out = CliRunner().invoke(main, ["stats", str(tmp_path / "stats.sqlite"), "--json"])
    assert out.exit_code == 0, out.stderr
    figures = json.loads(out.stdout)["pairwise"]
    (c,) = figures["comparisons"]
    assert (c["a"], c["b"], c["items"], c["wins_b"]) == ("1.0", "2.0", 12, 12)
    assert c["win_rate"] == 1.0 and c["ci_low"] > 0.7
    assert c["sign_test_p"] == pytest.approx(2 / 2**12)
    lefts = sum(i.pair is not None and i.pair.left == "B" for i in batch.items)
    assert figures["position_bias"]["left_share"] == pytest.approx(lefts / 12)


def test_stats_without_pairwise_batches_say_null(ws: Workspace, tmp_path: Path) -> None:
    ws.close()
    out = CliRunner().invoke(main, ["stats", str(tmp_path / "stats.sqlite"), "--json"])
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["pairwise"] is None


def test_stats_text_shows_the_win_rate_and_position_bias(tmp_path: Path) -> None:
    from reviewer.services.demo import build_demo

    build_demo(tmp_path / "demo.sqlite", sessions=400).close()
    out = CliRunner().invoke(
        main, ["stats", str(tmp_path / "demo.sqlite"), "--batch", "demo-pairs"]
    )
    assert out.exit_code == 0, out.stderr
    assert "Pairwise: win rate of B over A" in out.stdout
    assert "version: 2.0 vs 1.0" in out.stdout
    assert "Position bias: left picked in" in out.stdout


def test_bradley_terry_ranks_three_versions_as_a_likelihood_fit_does() -> None:
    import numpy as np
    from scipy.optimize import minimize

    from reviewer.domain.pairwise_stats import bradley_terry

    def j(item: int, a: str, b: str, b_wins: bool | None) -> Judgement:
        winner = "tie" if b_wins is None else ("right" if b_wins else "left")
        return Judgement(item, "ann", "x", "version", a, b, winner, "A")

    rows, item = [], 0
    for a, b, b_rate in (("1.0", "2.0", 0.7), ("2.0", "3.0", 0.65), ("1.0", "3.0", 0.8)):
        for k in range(40):
            rows.append(j(item, a, b, None if k % 10 == 9 else (k % 10) < b_rate * 10))
            item += 1
    ranking = bradley_terry("version", rows)
    assert ranking is not None and ranking.preferences == 120
    assert [v.value for v in ranking.values] == ["3.0", "2.0", "1.0"]
    for v in ranking.values:
        assert v.ci_low is not None and v.ci_high is not None
        assert v.ci_low <= v.strength <= v.ci_high

    names = ["1.0", "2.0", "3.0"]
    wins = np.zeros((3, 3))
    for r in rows:
        a, b = names.index(r.a), names.index(r.b)
        s = {"A": 1.0, "B": 0.0, None: 0.5}[r.winning_value]
        wins[a, b] += s
        wins[b, a] += 1 - s
    wins += 0.5 - 0.5 * np.eye(3)  # the one virtual tie per compared couple

    def nll(x: np.ndarray) -> float:
        d = x[:, None] - x[None, :]
        return float(-(wins * (d - np.logaddexp(0, d))).sum())

    fit = minimize(nll, np.zeros(3), method="BFGS").x
    fit -= fit.mean()
    got = {v.value: v.strength for v in ranking.values}
    for i, name in enumerate(names):
        assert got[name] == pytest.approx(fit[i], abs=1e-4)


def test_two_versions_get_no_ranking() -> None:
    assert pairwise_stats([_j(0, "left")]).rankings == []


def test_the_html_report_has_a_pairwise_section(tmp_path: Path) -> None:
    from reviewer.services.demo import build_demo

    build_demo(tmp_path / "demo.sqlite", sessions=400).close()
    out = tmp_path / "r.html"
    got = CliRunner().invoke(main, ["report", str(tmp_path / "demo.sqlite"), "--out", str(out)])
    assert got.exit_code == 0, got.stderr
    html = out.read_text(encoding="utf-8")
    assert "<h2>Pairwise comparisons</h2>" in html and "version: 2.0 vs 1.0" in html
    assert "Position bias" in html


def test_coverage_counts_the_preferences_of_a_pair_batch(ws: Workspace) -> None:
    from reviewer.services.analytics import StatsQuery, compute_stats

    spec = SamplingSpec(
        size=6, seed=1, reviewers=["ann"], pairs=pair_spec("metadata.task_id", "version=1.0,2.0")
    )
    batch = create_pair_batch(ws, "cmp", spec)
    for item in batch.items[:4]:  # four of six pairs judged, one of them only drafted
        pref = Preference(batch="cmp", position=item.position, reviewer="ann", winner=Winner.TIE)
        save_preference(ws, pref, submit=item.position != batch.items[3].position)
    c = compute_stats(ws, StatsQuery(batch="cmp")).coverage
    (row,) = c.by_batch
    assert (row.key, row.assigned, row.submitted, row.remaining) == ("cmp", 6, 3, 3)
    assert c.total.percent_done == 50.0
    (ann,) = c.by_reviewer
    assert (ann.key, ann.submitted) == ("ann", 3)
