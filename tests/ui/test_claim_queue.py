"""Team mode in the app: two windows (two reviewers, each with its own connection) work an
open pool batch on PostgreSQL; they never get the same item, the status bar says until
when an item is held, and an item released by a closing window comes back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QWidget
from pytestqt.qtbot import QtBot

from reviewer.services.workspaces import init_workspace
from reviewer.ui.main_window import MainWindow
from reviewer.ui.pair_bench import PairBench
from tests.helpers.postgres import temporary_database
from tests.team.pool import make_pair_pool, make_pool


@pytest.fixture
def pool_url() -> Iterator[str]:
    with temporary_database("reviewer_team_ui") as url:
        if url is None:
            pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
        ws = init_workspace(url)
        make_pool(ws, "pool", 3)
        ws.close()
        yield url


def _window(qtbot: QtBot, tmp_path: Path, who: str, url: str) -> MainWindow:
    settings = QSettings(str(tmp_path / f"{who}.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings, reviewer=who, batch="pool")
    qtbot.addWidget(w)
    w.show()
    w.open_workspace(url)
    qtbot.waitUntil(lambda: w.bench.team.held is not None, timeout=15_000)
    held = w.bench.team.held
    assert held is not None
    qtbot.waitUntil(
        lambda: w.bench.item is not None and w.bench.item.session_id == held.session_id,
        timeout=15_000,
    )
    return w


def _keys_to(qtbot: QtBot, w: MainWindow) -> QWidget:
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    focus = QApplication.focusWidget()
    assert focus is not None, "nothing has keyboard focus"
    return focus


def _submit(qtbot: QtBot, w: MainWindow) -> None:
    before = w.bench.team.held
    assert before is not None
    for k in "511":
        qtbot.keyClick(_keys_to(qtbot, w), k)
    qtbot.keyClick(_keys_to(qtbot, w), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.bench.team.held != before, timeout=15_000)


@pytest.mark.postgres
def test_two_windows_work_a_pool_and_a_released_item_comes_back(
    qtbot: QtBot, tmp_path: Path, pool_url: str
) -> None:
    ana = _window(qtbot, tmp_path, "ana", pool_url)
    bob = _window(qtbot, tmp_path, "bob", pool_url)
    a, b = ana.bench.team.held, bob.bench.team.held
    assert a is not None and b is not None
    assert a.item_id != b.item_id  # never the same item
    assert (a.position, b.position) == (0, 1)
    assert "Item 1 of pool pool held until" in ana.bench.team.label.text()
    assert "Item 2 of pool pool held until" in bob.bench.team.label.text()
    assert ana.bench.model.rowCount() == 1  # a pool shows the reviewer only what they claimed

    ana.close()  # ana goes home: item 1 goes back to the pool
    _submit(qtbot, bob)
    back = bob.bench.team.held
    assert back is not None and back.item_id == a.item_id  # the released item came back
    qtbot.waitUntil(lambda: bob.current_summary() is not None, timeout=5_000)
    qtbot.waitUntil(
        lambda: bob.bench.item is not None and bob.bench.item.session_id == back.session_id,
        timeout=15_000,
    )
    _submit(qtbot, bob)
    _submit(qtbot, bob)
    assert bob.bench.team.held is None
    assert "nothing left to claim" in bob.bench.team.label.text()
    bob.close()


@pytest.mark.postgres
def test_a_skipped_item_goes_to_the_other_window_not_back_to_the_skipper(
    qtbot: QtBot, tmp_path: Path, pool_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = _window(qtbot, tmp_path, "ana", pool_url)
    bob = _window(qtbot, tmp_path, "bob", pool_url)
    skipped = ana.bench.team.held
    assert skipped is not None and skipped.position == 0
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("not my language", True))
    qtbot.keyClick(
        _keys_to(qtbot, ana),
        Qt.Key.Key_S,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: ana.bench.team.held != skipped, timeout=15_000)
    mine = ana.bench.team.held
    assert mine is not None and mine.position == 2  # the skipper is not offered it again
    qtbot.waitUntil(lambda: ana.bench.model.row_of(skipped.session_id) is None, timeout=15_000)
    _submit(qtbot, bob)
    back = bob.bench.team.held
    assert back is not None and back.item_id == skipped.item_id  # the pool gave it to bob
    ana.close()
    bob.close()


@pytest.fixture
def pair_pool_url() -> Iterator[str]:
    with temporary_database("reviewer_team_ui") as url:
        if url is None:
            pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
        ws = init_workspace(url)
        make_pair_pool(ws, "pool", 2)
        ws.close()
        yield url


def _pair_bench(qtbot: QtBot, w: MainWindow) -> PairBench:
    qtbot.waitUntil(lambda: isinstance(getattr(w, "pairs", None), PairBench), timeout=15_000)
    bench: PairBench = w.pairs  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: bench.item is not None, timeout=15_000)
    return bench


@pytest.mark.postgres
def test_two_windows_get_different_pairs_of_a_pair_pool(
    qtbot: QtBot, tmp_path: Path, pair_pool_url: str
) -> None:
    benches: list[PairBench] = []
    for who in ("ana", "bob"):
        settings = QSettings(str(tmp_path / f"{who}.ini"), QSettings.Format.IniFormat)
        w = MainWindow(settings, reviewer=who, batch="pool")
        qtbot.addWidget(w)
        w.show()
        w.open_workspace(pair_pool_url)
        benches.append(_pair_bench(qtbot, w))
    ana, bob = benches
    assert ana.item is not None and bob.item is not None
    assert {ana.item.position, bob.item.position} == {0, 1}  # never the same pair
    assert ana.queue is not None and len(ana.queue.entries) == 1  # only the pair claimed
    assert ana.claims is not None and "held until" in ana.claims.label.text()
    for bench in benches:
        bench.window().close()
