"""Batch → New batch: live preview per stratum and planner, computed on the worker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from reviewer.domain.batch import PairSpec
from reviewer.services.batches import get_batch
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.workspace import Workspace
from reviewer.ui import batch_dialog
from reviewer.ui.batch_dialog import NewBatchDialog
from reviewer.ui.main_window import MainWindow
from reviewer.ui.tasks import TaskRunner
from tests.helpers.factories import make_session
from tests.pairwise.helpers import fill_trials


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = init_workspace(tmp_path / "dialog.sqlite")
    sessions = [
        make_session(f"s-{i:03d}", version=("1.0", "2.0")[i % 2], tool_error=i % 5 == 0)
        for i in range(300)
    ]
    store_sessions(workspace, sessions)
    yield workspace
    workspace.close()


@pytest.fixture
def dialog(qtbot: QtBot, ws: Workspace) -> Iterator[NewBatchDialog]:
    runner = TaskRunner()
    d = NewBatchDialog(ws, runner)
    qtbot.addWidget(d)
    yield d
    runner.shutdown()


def _spy(threads: list[str]) -> Any:
    """Wraps a function to note the name of each thread that calls it in ``threads``."""

    def spy(fn: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            threads.append(threading.current_thread().name)
            return fn(*args, **kwargs)

        return wrapped

    return spy


def _cells(d: NewBatchDialog) -> list[list[str]]:
    return [
        [d.table.item(r, c).text() for c in range(d.table.columnCount())]
        for r in range(d.table.rowCount())
    ]


def _preview(qtbot: QtBot, d: NewBatchDialog) -> None:
    with qtbot.waitSignal(d.preview_ready, timeout=10_000):
        d.refresh_preview()


def test_preview_shows_what_each_stratum_holds_gets_and_needs(
    qtbot: QtBot, dialog: NewBatchDialog
) -> None:
    dialog.size_box.setValue(60)
    _preview(qtbot, dialog)
    # N = 150 per version: 384.146 / (1 + 383.146/150) = 108.1 → 109
    assert _cells(dialog) == [
        ["version=1.0", "150", "30", "20.0%", "109"],
        ["version=2.0", "150", "30", "20.0%", "109"],
    ]
    assert "300 sessions match; the batch takes 60." in dialog.message.text()
    assert "218 for every stratum" in dialog.message.text()
    assert "169 for the overall rate only" in dialog.message.text()

    dialog.stratify.setText("version, tool_error")
    dialog.allocation.setCurrentText("equal")
    dialog.margin.setValue(10.0)
    _preview(qtbot, dialog)
    rows = _cells(dialog)
    assert [r[0] for r in rows] == [
        "version=1.0 | tool_error=False",
        "version=1.0 | tool_error=True",
        "version=2.0 | tool_error=False",
        "version=2.0 | tool_error=True",
    ]
    assert [r[1] for r in rows] == ["120", "30", "120", "30"]
    assert [r[2] for r in rows] == ["15", "15", "15", "15"]
    # ±10 %: n0 = 96.04; N = 120 → 53.6 → 54, N = 30 → 23.1 → 24
    assert [r[4] for r in rows] == ["54", "24", "54", "24"]


def test_bad_options_are_explained_without_a_table(qtbot: QtBot, dialog: NewBatchDialog) -> None:
    dialog.where.setText("colour=red")
    _preview(qtbot, dialog)
    assert "unknown field 'colour'" in dialog.message.text()
    assert dialog.table.rowCount() == 0
    dialog.where.setText("")
    dialog.priority.setText("negative_feedback=lots")
    _preview(qtbot, dialog)
    assert "Priority negative_feedback=lots: the weight must be a number" in dialog.message.text()
    dialog.priority.setText("")
    dialog.stratify.setText("mood")
    _preview(qtbot, dialog)
    assert "cannot stratify by mood" in dialog.message.text()


def test_the_preview_and_the_batch_are_computed_off_the_gui_thread(
    qtbot: QtBot, dialog: NewBatchDialog, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    created_on: list[str] = []
    spy = _spy(threads)
    monkeypatch.setattr(batch_dialog, "plan", spy(batch_dialog.plan))
    monkeypatch.setattr(batch_dialog, "create_batch", _spy(created_on)(batch_dialog.create_batch))
    _preview(qtbot, dialog)
    assert threads and threads[0] != threading.main_thread().name
    dialog.name.setText("from-dialog")
    dialog.size_box.setValue(20)
    dialog.seed.setValue(5)
    dialog.reviewers.setText("ann, ben")
    dialog.overlap.setValue(0.25)
    dialog.blind.setChecked(True)
    with qtbot.waitSignal(dialog.batch_created, timeout=10_000) as created:
        dialog.buttons.accepted.emit()
    # the edits above may start another preview (its timer runs while the batch is made)
    assert len(created_on) == 1
    assert all(name != threading.main_thread().name for name in threads + created_on)
    batch = created.args[0]
    assert batch == get_batch(ws, "from-dialog")
    assert len(batch.items) == 20 and batch.spec.blind and batch.spec.seed == 5
    assert sum(len(i.reviewers) == 2 for i in batch.items) == 5


def test_a_name_is_needed_and_a_taken_name_is_refused(
    qtbot: QtBot, dialog: NewBatchDialog, ws: Workspace
) -> None:
    dialog.buttons.accepted.emit()
    assert dialog.message.text() == "Give the batch a name."
    dialog.name.setText("twice")
    with qtbot.waitSignal(dialog.batch_created, timeout=10_000):
        dialog.buttons.accepted.emit()
    again = NewBatchDialog(ws, dialog.runner)
    qtbot.addWidget(again)
    again.name.setText("twice")
    with qtbot.waitSignal(again.preview_ready, timeout=10_000):
        again.refresh_preview()
    again.buttons.accepted.emit()
    assert not again.buttons.isEnabled()
    qtbot.waitUntil(lambda: again.buttons.isEnabled(), timeout=10_000)
    assert "exists already" in again.message.text()


def test_batch_menu_opens_the_dialog_on_the_open_workspace(
    qtbot: QtBot, settings: QSettings, filled_workspace: Path
) -> None:
    w = MainWindow(settings, reviewer="lead")
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.workspace_opened, timeout=10_000):
        w.open_workspace(str(filled_workspace))
    dialog = w.new_batch()
    assert dialog is not None
    dialog.name.setText("from-menu")
    dialog.size_box.setValue(20)
    with qtbot.waitSignal(dialog.batch_created, timeout=10_000):
        dialog.buttons.accepted.emit()
    w.close()
    ws = open_existing(filled_workspace)
    assert len(get_batch(ws, "from-menu").items) == 20
    ws.close()


def _type(qtbot: QtBot, text: str) -> None:
    """Replace the text of the focused field, as a keyboard does (select all, type)."""
    focus = QApplication.focusWidget()
    assert focus is not None
    qtbot.keyClick(focus, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(focus, text)


def _press(qtbot: QtBot, key: Qt.Key) -> None:
    focus = QApplication.focusWidget()
    assert focus is not None
    qtbot.keyClick(focus, key)


def test_a_pairwise_batch_is_made_by_keyboard_counting_its_pairs_first(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = init_workspace(tmp_path / "pairs.sqlite")
    fill_trials(ws, tasks=8)
    threads: list[str] = []
    spy = _spy(threads)
    for name in ("compared_values", "plan_pairs", "create_pair_batch"):
        monkeypatch.setattr(batch_dialog, name, spy(getattr(batch_dialog, name)))
    runner = TaskRunner()
    d = NewBatchDialog(ws, runner)
    qtbot.addWidget(d)
    d.show()
    d.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is d, timeout=5_000)
    d.name.setFocus()
    _type(qtbot, "v1-against-v2")
    _press(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is d.compare
    with qtbot.waitSignal(d.values_ready, timeout=10_000):
        _press(qtbot, Qt.Key.Key_Space)  # "Compare two versions"
    assert d.pairwise and d.pair_on.isVisible() and not d.stratify.isVisible()
    _press(qtbot, Qt.Key.Key_Tab)
    with qtbot.waitSignal(d.values_ready, timeout=10_000):
        _type(qtbot, "metadata.task_id")
    # the values found, most tasks first: 2.0 ran 9 tasks, 1.0 eight, 3.0 one
    offered = [d.value_a.itemText(i) for i in range(d.value_a.count())]
    assert offered == ["2.0", "1.0", "3.0"]
    assert d.value_a.itemData(0, Qt.ItemDataRole.ToolTipRole) == "9 tasks"
    assert d.compare_field.currentText() == "version"
    _press(qtbot, Qt.Key.Key_Tab)
    _press(qtbot, Qt.Key.Key_Tab)
    assert d.value_a.isAncestorOf(QApplication.focusWidget()) or d.value_a.hasFocus()
    _type(qtbot, "1.0")
    _press(qtbot, Qt.Key.Key_Tab)
    with qtbot.waitSignal(d.preview_ready, timeout=10_000):
        _type(qtbot, "2.0")
    qtbot.waitUntil(lambda: d.message.text().startswith("8 pairs exist"), timeout=10_000)
    assert "version=1.0" in d.message.text() and "the batch takes 8." in d.message.text()
    _press(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is d.size_box or d.size_box.isAncestorOf(
        QApplication.focusWidget()
    )
    _type(qtbot, "6")
    qtbot.waitUntil(lambda: "the batch takes 6." in d.message.text(), timeout=10_000)
    with qtbot.waitSignal(d.batch_created, timeout=10_000) as created:
        _press(qtbot, Qt.Key.Key_Return)
    batch = created.args[0]
    assert batch == get_batch(ws, "v1-against-v2")
    assert batch.spec.pairs == PairSpec(key="metadata.task_id", field="version", a="1.0", b="2.0")
    assert len(batch.items) == 6 and all(i.pair is not None for i in batch.items)
    assert threads and all(name != threading.main_thread().name for name in threads)
    runner.shutdown()
    ws.close()
