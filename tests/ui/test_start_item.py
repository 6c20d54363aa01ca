"""Opening a workspace shows the reviewer's first item still to do, not the one reviewed
last; the item shown before is kept only while it is still to do."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from reviewer.domain.batch import SamplingSpec
from reviewer.domain.preference import Preference, Winner
from reviewer.domain.review import ReviewStatus
from reviewer.services.pairwise import create_pair_batch, pair_spec
from reviewer.services.preferences import save_preference
from reviewer.services.workspaces import init_workspace
from reviewer.store.rubrics import find_rubric
from reviewer.ui.main_window import MainWindow
from reviewer.ui.pair_bench import PairBench
from tests.packs.helpers import key, make_batch, review_item
from tests.pairwise.helpers import fill_trials


def _lead(tmp_path: Path) -> Path:
    path = tmp_path / "start.sqlite"
    ws = init_workspace(path)
    make_batch(ws, "b1", {"ana": range(6)}, items=6)
    with ws.read() as s:
        found = find_rubric(s, "default")
    assert found is not None
    for pos in (0, 1, 4):  # item 4 is the one reviewed last
        review_item(ws, found[1], pos, "ana")
    review_item(ws, found[1], 5, "ana", status=ReviewStatus.SKIPPED)
    ws.close()
    return path


def _open(qtbot: QtBot, settings: QSettings, path: Path) -> MainWindow:
    w = MainWindow(settings, reviewer="ana", batch="b1")
    qtbot.addWidget(w)
    w.show()
    with (
        qtbot.waitSignal(w.workspace_opened, timeout=10_000),
        qtbot.waitSignal(w.session_shown, timeout=10_000),
    ):
        w.open_workspace(str(path))
    return w


def test_opening_shows_the_first_item_to_do(
    qtbot: QtBot, settings: QSettings, tmp_path: Path
) -> None:
    path = _lead(tmp_path)
    w = _open(qtbot, settings, path)
    assert w.bench.item is not None and w.bench.item.session.id == key(2)
    w.close()


def test_reopening_after_reviewing_opens_the_first_item_still_to_do(
    qtbot: QtBot, settings: QSettings, tmp_path: Path
) -> None:
    path = _lead(tmp_path)
    w = _open(qtbot, settings, path)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    for k in "511":  # item 2: quality 5, correct, compliant; then submit and next
        focus = QApplication.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, k)
    with (
        qtbot.waitSignal(w.bench.review_saved, timeout=5_000),
        qtbot.waitSignal(w.session_shown, timeout=5_000),
    ):
        focus = QApplication.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert w.bench.item is not None and w.bench.item.session.id == key(3)
    with qtbot.waitSignal(w.session_shown, timeout=10_000):
        w.open_workspace(str(path))  # opened again (e.g. the next morning)
    assert w.bench.item is not None and w.bench.item.session.id == key(3)
    w.close()
    w2 = _open(qtbot, QSettings(str(tmp_path / "other.ini"), QSettings.Format.IniFormat), path)
    assert w2.bench.item is not None and w2.bench.item.session.id == key(3)
    w2.close()


def test_a_pair_batch_opens_on_the_first_pair_to_do(
    qtbot: QtBot, settings: QSettings, tmp_path: Path
) -> None:
    path = tmp_path / "pairs.sqlite"
    ws = init_workspace(path)
    fill_trials(ws, tasks=5)
    spec = SamplingSpec(size=5, seed=1, pairs=pair_spec("metadata.task_id", "version=1.0,2.0"))
    create_pair_batch(ws, "cmp", spec)
    for pos in (0, 3):  # 3 was the last one done
        pref = Preference(batch="cmp", position=pos, reviewer="ana", winner=Winner.LEFT)
        save_preference(ws, pref, submit=True)
    ws.close()
    w = MainWindow(settings, reviewer="ana", batch="cmp")
    qtbot.addWidget(w)
    w.show()
    w.open_workspace(str(path))
    qtbot.waitUntil(lambda: isinstance(getattr(w, "pairs", None), PairBench), timeout=10_000)
    bench: PairBench = w.pairs  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: bench.item is not None, timeout=10_000)
    assert bench.item is not None and bench.item.position == 1
    w.close()
