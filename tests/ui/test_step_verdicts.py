"""Verdicts on every step and the step as it should have been, by keyboard alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.reviews import get_review
from reviewer.ui.main_window import MainWindow
from reviewer.ui.step_edit import StepEditDialog
from tests.helpers.factories import make_session

CTRL = Qt.KeyboardModifier.ControlModifier
NONE = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    path = tmp_path / "steps.sqlite"
    ws = init_workspace(path)
    store_sessions(ws, [make_session("s-1"), make_session("s-2")])
    ws.close()
    return path


def _focus() -> QWidget:
    focus = QApplication.focusWidget()
    assert focus is not None
    return focus


def _key(qtbot: QtBot, key: Qt.Key | str, mods: Qt.KeyboardModifier = NONE) -> None:
    qtbot.keyClick(_focus(), key, mods)


def test_step_verdicts_and_a_corrected_tool_call_by_keyboard(
    qtbot: QtBot, settings: QSettings, ws_path: Path
) -> None:
    w = MainWindow(settings, reviewer="alice")
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    with qtbot.waitSignal(w.session_shown, timeout=10_000):
        w.open_workspace(str(ws_path))
    # steps: 0 system, 1 user, 2 assistant (tool call), 3 tool, 4 assistant (answer)
    _key(qtbot, "]")  # cursor on step 0
    _key(qtbot, "]")
    _key(qtbot, "]")  # step 2: the tool call
    _key(qtbot, Qt.Key.Key_3, CTRL)  # wrong
    with qtbot.waitSignal(w.bench.review_saved, timeout=5_000):
        pass  # the draft keeps it
    _key(qtbot, Qt.Key.Key_E, CTRL)  # the step as it should have been
    dialog = w.bench.step_dialog
    assert isinstance(dialog, StepEditDialog)
    qtbot.waitUntil(lambda: dialog.isActiveWindow(), timeout=5_000)
    name, arguments = dialog.calls[0]
    name.setFocus()
    _key(qtbot, Qt.Key.Key_End)
    qtbot.keyClicks(_focus(), "_v2")  # lookup_order_v2
    arguments.setFocus()
    arguments.selectAll()
    qtbot.keyClicks(_focus(), '{"order": 43')  # not JSON yet: refused, with the reason
    assert "not JSON" in dialog.problem.text()
    _key(qtbot, Qt.Key.Key_Return, CTRL)
    assert dialog.isVisible(), "an invalid edit is not taken"
    qtbot.keyClicks(_focus(), "}")
    assert '-  "order": 42' in dialog.diff.toPlainText()
    assert '+  "order": 43' in dialog.diff.toPlainText()
    assert "lookup_order_v2" in dialog.diff.toPlainText()
    _key(qtbot, Qt.Key.Key_Return, CTRL)
    assert not dialog.isVisible()
    w.activateWindow()  # a desktop's window manager does this when the dialog closes
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.form, timeout=5_000)
    _key(qtbot, "]")
    _key(qtbot, "]")  # step 4: the final answer
    _key(qtbot, Qt.Key.Key_2, CTRL)  # partly
    # the cards show it: step 2 tinted as wrong, the cursor on step 4
    assert len(w.transcript.extraSelections()) == 2
    for k in "211":
        _key(qtbot, k)
    with qtbot.waitSignal(w.bench.review_saved, timeout=5_000) as saved:
        _key(qtbot, Qt.Key.Key_Return, CTRL)
    w.close()
    ws = open_existing(ws_path)
    with ws.read() as s:
        review = get_review(s, saved.args[0])
    ws.close()
    assert review is not None and review.status.value == "submitted"
    assert {i: s.verdict for i, s in review.steps.items()} == {2: "wrong", 4: "partly"}
    corrected = review.steps[2].corrected
    assert corrected is not None
    assert [(c.name, c.arguments) for c in corrected.tool_calls] == [
        ("lookup_order_v2", {"order": 43})
    ]
    assert review.failure_step == 2, "the first step marked wrong"


def test_editing_a_non_agent_step_says_so(qtbot: QtBot, settings: QSettings, ws_path: Path) -> None:
    w = MainWindow(settings, reviewer="alice")
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    with qtbot.waitSignal(w.session_shown, timeout=10_000):
        w.open_workspace(str(ws_path))
    _key(qtbot, Qt.Key.Key_E, CTRL)
    assert "step cursor" in w.form.problem.text()
    _key(qtbot, "]")  # step 0: the system prompt
    _key(qtbot, Qt.Key.Key_E, CTRL)
    assert "not an agent step" in w.form.problem.text()
    w.close()
