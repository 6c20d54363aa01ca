"""File → Pull sessions… and Review → Push labels… take a filter as the commands' --where
does: one that cannot be read is refused in the dialog, one that can reaches the pull."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from reviewer.services.pulling import PullSummary
from reviewer.services.workspaces import init_workspace
from reviewer.ui import connect_action
from reviewer.ui.main_window import MainWindow


def _focus_line(qtbot: QtBot, dialog: connect_action.ConnectDialog, text: str) -> QLineEdit:
    """Tab to the field whose placeholder mentions ``text``, as a person would."""
    for _ in range(8):
        widget = QApplication.focusWidget()
        if isinstance(widget, QLineEdit) and text in widget.placeholderText():
            return widget
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    raise AssertionError(f"no field for {text!r} reached by Tab")


def test_a_pull_filter_is_checked_in_the_dialog_and_reaches_the_pull(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.sqlite"
    init_workspace(path).close()
    with qtbot.waitSignal(window.workspace_opened, timeout=10_000):
        window.open_workspace(str(path))
    asked: dict[str, Any] = {}

    def fake_pull(ws: Any, system: str, url: str, project: str | None, **kw: Any) -> PullSummary:
        asked.update(system=system, where=kw.get("where"))
        return PullSummary(
            source=system, url=url, project=project or "default", traces=3, imported=1,
            filtered_out=2,
        )  # fmt: skip

    monkeypatch.setattr(connect_action, "pull_from", fake_pull)
    dialog = connect_action.start(window, pushing=False)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.isAncestorOf(QApplication.focusWidget()))
    field = _focus_line(qtbot, dialog, "version=2.0")

    qtbot.keyClicks(QApplication.focusWidget(), 'agent="support')
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.job is None  # refused, nothing started
    assert "not closed" in dialog.problem.text() and dialog.problem.isVisible()
    assert QApplication.focusWidget() is field

    field.selectAll()
    qtbot.keyClicks(QApplication.focusWidget(), "version=2.0")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.job is not None)
    job = dialog.job
    assert job is not None
    qtbot.waitUntil(lambda: job.summary_box is not None, timeout=10_000)
    assert asked == {"system": "phoenix", "where": "version=2.0"}
    box = job.summary_box
    assert box is not None
    assert "2 sessions did not match the filter" in str(box.text())  # type: ignore[attr-defined]
    box.close()
