"""Reviewing a pairwise batch in the app, by keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from reviewer.domain.batch import SamplingSpec
from reviewer.services.pairwise import create_pair_batch, pair_spec
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.tables import AuditEntry, PreferenceReviewRow
from reviewer.ui.main_window import MainWindow
from reviewer.ui.pair_bench import PairBench
from tests.pairwise.helpers import fill_trials


@pytest.fixture
def pair_ws(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.sqlite"
    ws = init_workspace(path)
    fill_trials(ws, tasks=6)
    spec = SamplingSpec(
        size=4,
        seed=5,
        blind=True,
        reviewers=["alice"],
        pairs=pair_spec("metadata.task_id", "version=1.0,2.0"),
    )
    create_pair_batch(ws, "cmp", spec)
    ws.close()
    return path


@pytest.fixture
def pair_window(qtbot: QtBot, settings: QSettings, pair_ws: Path) -> Iterator[MainWindow]:
    w = MainWindow(settings, reviewer="alice", batch="cmp")
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    w.open_workspace(str(pair_ws))
    qtbot.waitUntil(lambda: isinstance(getattr(w, "pairs", None), PairBench), timeout=10_000)
    bench: PairBench = w.pairs  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: bench.item is not None, timeout=10_000)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    yield w
    w.close()


def _rows(path: Path) -> list[PreferenceReviewRow]:
    ws = open_existing(path)
    try:
        with ws.read() as s:
            return list(s.scalars(select(PreferenceReviewRow).order_by(PreferenceReviewRow.id)))
    finally:
        ws.close()


def _key(
    qtbot: QtBot, key: str | Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    focus = QApplication.focusWidget()
    assert focus is not None
    qtbot.keyClick(focus, key, mods)


def test_one_then_ctrl_enter_submits_left_better_and_opens_the_next_pair(
    qtbot: QtBot, pair_window: MainWindow, pair_ws: Path
) -> None:
    bench: PairBench = pair_window.pairs  # type: ignore[attr-defined]
    assert pair_window.centralWidget() is bench and not pair_window.bench.isVisible()
    first = bench.item
    assert first is not None
    # both transcripts shown with their headers; the batch is blind: no version shown
    assert bench.view.left_header.text().startswith(f"Left: {first.left.id}")
    assert bench.view.right_header.text().startswith(f"Right: {first.right.id}")
    assert "1.0" not in bench.view.left_header.text()
    assert "2.0" not in bench.view.right_header.text()
    qtbot.waitUntil(lambda: bench.view.left.complete and bench.view.right.complete)
    assert "Answer by" in bench.view.left.toPlainText()
    _key(qtbot, "1")
    assert bench.form.winner is not None and bench.form.winner.value == "left"
    with (
        qtbot.waitSignal(bench.preference_saved, timeout=5_000) as saved,
        qtbot.waitSignal(bench.pair_shown, timeout=5_000),
    ):
        _key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert saved.args[1] == "submitted"
    assert bench.item is not None and bench.item.position != first.position
    assert bench.form.winner is None, "the next pair starts empty"
    (row,) = _rows(pair_ws)
    assert (row.winner, row.status, row.reviewer) == ("left", "submitted", "alice")
    assert "1 of 4 submitted" in bench.counts.text()


def test_each_key_picks_its_choice_and_a_change_becomes_a_draft(
    qtbot: QtBot, pair_window: MainWindow, pair_ws: Path
) -> None:
    bench: PairBench = pair_window.pairs  # type: ignore[attr-defined]
    for key, winner in (("2", "right"), ("3", "tie"), ("4", "both_bad")):
        _key(qtbot, key)
        assert bench.form.winner is not None and bench.form.winner.value == winner
    with qtbot.waitSignal(bench.preference_saved, timeout=5_000) as saved:
        pass  # autosave within a second
    assert saved.args[1] == "draft"
    (row,) = _rows(pair_ws)
    assert (row.winner, row.status) == ("both_bad", "draft")
    ws = open_existing(pair_ws)
    with ws.read() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.review_uid == row.uid)).all()
    ws.close()
    assert audit and audit[-1].after is not None
    assert audit[-1].after["values"]["winner"] == "both_bad"


def test_submit_without_a_choice_says_what_to_press(
    qtbot: QtBot, pair_window: MainWindow, pair_ws: Path
) -> None:
    bench: PairBench = pair_window.pairs  # type: ignore[attr-defined]
    with qtbot.waitSignal(bench.message, timeout=2_000) as said:
        _key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "1 left" in said.args[0]
    assert _rows(pair_ws) == []


def test_scrolling_one_side_brings_the_other_to_the_same_step(qtbot: QtBot) -> None:
    from reviewer.domain.session import Role, Step
    from reviewer.ui.pair_view import PairView
    from reviewer.ui.transcript_plan import build_plan
    from tests.helpers.factories import make_session

    def long(key: str, words: int) -> object:
        s = make_session(key)
        s.steps = [
            Step(role=(Role.USER, Role.ASSISTANT)[i % 2], content=f"step {i} " + "w " * words)
            for i in range(40)
        ]
        return s

    left, right = long("l", 40), long("r", 400)  # the right steps are much longer
    view = PairView()
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    view.show_pair(("L", left, build_plan(left)), ("R", right, build_plan(right)))  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: view.left.complete and view.right.complete, timeout=5_000)
    view.left.scroll_to_step(25)
    step = view.top_step(view.left)
    assert step is not None and step > 5
    assert view.top_step(view.right) == step


def test_an_open_batch_shows_versions_and_a_new_reviewer_gets_their_own_queue(
    qtbot: QtBot, settings: QSettings, tmp_path: Path
) -> None:
    path = tmp_path / "open.sqlite"
    ws = init_workspace(path)
    fill_trials(ws, tasks=3)
    spec = SamplingSpec(size=3, seed=1, pairs=pair_spec("metadata.task_id", "version=1.0,2.0"))
    create_pair_batch(ws, "open", spec)
    ws.close()
    w = MainWindow(settings, reviewer="alice", batch="open")
    qtbot.addWidget(w)
    w.show()
    w.open_workspace(str(path))
    qtbot.waitUntil(lambda: getattr(w, "pairs", None) is not None, timeout=10_000)
    first: PairBench = w.pairs  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: first.item is not None, timeout=10_000)
    headers = first.view.left_header.text() + first.view.right_header.text()
    assert "1.0" in headers and "2.0" in headers
    w.set_reviewer("bob")
    qtbot.waitUntil(lambda: getattr(w, "pairs", None) is not first, timeout=10_000)
    second: PairBench = w.pairs  # type: ignore[attr-defined]
    assert second.reviewer == "bob" and w.centralWidget() is second
    w.close()


def test_ctrl_z_takes_back_the_last_choice(
    qtbot: QtBot, pair_window: MainWindow, pair_ws: Path
) -> None:
    bench: PairBench = pair_window.pairs  # type: ignore[attr-defined]
    _key(qtbot, "1")
    _key(qtbot, "2")
    assert bench.form.winner is not None and bench.form.winner.value == "right"
    _key(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert bench.form.winner is not None and bench.form.winner.value == "left"
    _key(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert bench.form.winner is None
    with qtbot.waitSignal(bench.preference_saved, timeout=5_000):
        pass
    (row,) = _rows(pair_ws)
    assert (row.winner, row.status) == (None, "draft")


def test_done_when_keyboard_only_review_exports_the_picked_side_and_stats_report_it(
    qtbot: QtBot, pair_window: MainWindow, pair_ws: Path, tmp_path: Path
) -> None:
    """The issue's "done when": every pair reviewed by `1 Ctrl+Enter` alone."""
    import json

    from click.testing import CliRunner

    from reviewer.cli import main

    bench: PairBench = pair_window.pairs  # type: ignore[attr-defined]
    lefts: dict[int, str] = {}
    for _ in range(4):
        item = bench.item
        assert item is not None
        lefts[item.position] = item.left.id
        _key(qtbot, "1")
        with qtbot.waitSignal(bench.preference_saved, timeout=5_000):
            _key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: not bench.runner.busy, timeout=5_000)
    assert "4 of 4 submitted" in bench.counts.text()
    pair_window.close()
    run = CliRunner()
    rows_out, dpo_out = tmp_path / "p.jsonl", tmp_path / "d.jsonl"
    got = run.invoke(main, ["export", str(pair_ws), "--format", "jsonl", "--level", "pair",
                            "--out", str(rows_out)])  # fmt: skip
    assert got.exit_code == 0, got.stderr
    rows = [json.loads(x) for x in rows_out.read_text().splitlines()]
    assert {r["position"]: r["winning_session"] for r in rows} == lefts
    got = run.invoke(main, ["export", str(pair_ws), "--format", "trl-pair-dpo",
                            "--out", str(dpo_out)])  # fmt: skip
    assert got.exit_code == 0, got.stderr
    for line, row in zip(dpo_out.read_text().splitlines(), rows, strict=True):
        chosen = json.loads(line)["chosen"][-1]["content"]
        version = row["left_value"]
        assert chosen.startswith(f"Answer by {version} ")
    stats = run.invoke(main, ["stats", str(pair_ws), "--json"])
    figures = json.loads(stats.stdout)["pairwise"]
    (c,) = figures["comparisons"]
    b_on_left = sum(r["left_is"] == "B" for r in rows)
    assert c["win_rate"] == b_on_left / 4 and c["ci_low"] is not None
    assert figures["position_bias"]["left_share"] == 1.0


def test_the_dashboards_pairwise_tab_charts_win_rates_and_position_bias(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from reviewer.services.analytics import StatsQuery, compute_stats
    from reviewer.services.demo import build_demo
    from reviewer.ui.pairwise_page import PairwisePage

    ws = build_demo(tmp_path / "demo.sqlite", sessions=400)
    with_pairs = compute_stats(ws, StatsQuery(batch="demo-pairs"))
    without = compute_stats(ws, StatsQuery(batch="demo-batch"))
    ws.close()
    page = PairwisePage()
    qtbot.addWidget(page)
    page.show_report(with_pairs)
    assert with_pairs.pairwise is not None
    (comparison,) = with_pairs.pairwise.comparisons
    (bar,) = page.win_chart.bars
    assert bar.label == "version: 2.0 vs 1.0" and bar.value == comparison.win_rate
    assert (bar.low, bar.high) == (comparison.ci_low, comparison.ci_high)
    assert [b.label for b in page.position_chart.bars] == ["left picked"]
    assert "pairs with a submitted preference" in page.note.text()
    page.show_report(without)
    assert page.win_chart.bars == [] and "No pairwise batch" in page.note.text()


def _right_while_away(
    qtbot: QtBot, bench: PairBench, monkeypatch: pytest.MonkeyPatch
) -> list[bool]:
    """With the workspace out of reach (until the returned list is cleared), ``2`` and
    Ctrl+Enter on the pair shown: the bench says it is offline."""
    from reviewer.services import drafts
    from reviewer.services.review_session import WorkspaceUnavailable

    real = drafts.save_preference
    away = [True]

    def save(*args: object, **kwargs: object) -> object:
        if away:
            raise WorkspaceUnavailable("the workspace server cannot be reached")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(drafts, "save_preference", save)
    _key(qtbot, "2")
    with qtbot.waitSignal(bench.pair_shown, timeout=5_000):
        _key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bench.banner.isVisible(), timeout=5_000)
    return away


def test_a_choice_made_while_the_workspace_is_away_is_kept_and_saved_when_back(
    qtbot: QtBot, pair_window: MainWindow, pair_ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same drafts kept on this computer as single reviews."""
    bench: PairBench = pair_window.pairs  # type: ignore[attr-defined]
    away = _right_while_away(qtbot, bench, monkeypatch)
    assert "cannot be reached" in bench.banner.text()
    assert "kept on this computer" in bench.banner.text()
    assert _rows(pair_ws) == []
    ws_id = bench.ws.workspace_id
    assert len(bench.session.drafts.pending_preferences(ws_id)) == 1
    away.clear()  # the server is back: the next try saves the kept choice
    with qtbot.waitSignal(bench.preference_saved, timeout=5_000) as saved:
        bench.retry_kept()
    assert saved.args[1] == "submitted"
    qtbot.waitUntil(lambda: not bench.banner.isVisible(), timeout=5_000)
    (row,) = _rows(pair_ws)
    assert (row.winner, row.status) == ("right", "submitted")
    assert bench.session.drafts.pending_preferences(ws_id) == []
    assert "1 of 4 submitted" in bench.counts.text()


def test_a_kept_choice_changed_elsewhere_is_shown_beside_the_saved_one_when_its_pair_opens(
    qtbot: QtBot, pair_window: MainWindow, pair_ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewer.domain.preference import Preference, Winner
    from reviewer.services.preferences import save_preference

    bench: PairBench = pair_window.pairs  # type: ignore[attr-defined]
    first = bench.item
    assert first is not None
    away = _right_while_away(qtbot, bench, monkeypatch)
    elsewhere = open_existing(pair_ws)  # meanwhile, the same reviewer on another computer
    save_preference(
        elsewhere,
        Preference(batch="cmp", position=first.position, reviewer="alice", winner=Winner.TIE),
        submit=True,
    )
    elsewhere.close()
    away.clear()
    said: list[str] = []
    bench.message.connect(said.append)
    bench.retry_kept()
    qtbot.waitUntil(lambda: any("changed elsewhere" in m for m in said), timeout=5_000)
    assert bench.conflict_box is None  # its pair is not on screen: not shown yet
    with qtbot.waitSignal(bench.pair_shown, timeout=5_000):
        bench.go(-1)
    qtbot.waitUntil(
        lambda: bench.conflict_box is not None and bench.conflict_box.isVisible(), timeout=5_000
    )
    box = bench.conflict_box
    assert box is not None
    assert "Yours: right" in box.text() and "Saved elsewhere: tie" in box.text()
    (keep,) = [b for b in box.buttons() if b.text() == "Keep mine"]
    with qtbot.waitSignal(bench.preference_saved, timeout=5_000):
        keep.click()
    (row,) = _rows(pair_ws)
    assert (row.winner, row.status) == ("right", "submitted")
    assert bench.session.drafts.pending_preferences(bench.ws.workspace_id) == []
