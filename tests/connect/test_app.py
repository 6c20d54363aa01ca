"""File → Pull sessions… and Review → Push labels… in the app, against the real Phoenix."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from reviewer.services.workspaces import init_workspace
from reviewer.ui.connect_action import ConnectDialog, start
from reviewer.ui.main_window import MainWindow
from tests.connect import servers
from tests.export.conftest import WRONG, add_review
from tests.ui.conftest import settings, window

__all__ = ["settings", "window"]  # the app's window fixtures, used here


def _run(qtbot: QtBot, dialog: ConnectDialog, url: str, project: str) -> str:
    qtbot.waitUntil(lambda: dialog.isAncestorOf(QApplication.focusWidget()))
    dialog.url.setText(url)
    dialog.project.setText(project)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.job is not None)
    job = dialog.job
    assert job is not None
    qtbot.waitUntil(lambda: job.summary_box is not None, timeout=60_000)
    box = job.summary_box
    assert box is not None
    text = str(box.text())  # type: ignore[attr-defined]
    box.close()  # the user reads it and closes it
    return text


def test_pull_then_push_from_the_menus(
    qtbot: QtBot, window: MainWindow, server: servers.Server, tmp_path: Path
) -> None:
    path = tmp_path / "app.sqlite"
    init_workspace(path).close()
    with qtbot.waitSignal(window.workspace_opened, timeout=10_000):
        window.open_workspace(str(path))
    servers.send_traces(server, "app", 0, 2)

    pull_dialog = start(window, pushing=False)
    assert pull_dialog is not None
    text = _run(qtbot, pull_dialog, server.url, "app")
    assert "2 traces, 2 imported" in text
    qtbot.waitUntil(lambda: window.model.rowCount() == 2)

    assert window.workspace is not None
    add_review(window.workspace, "conv-0", "alice", WRONG)
    push_dialog = start(window, pushing=True)
    assert push_dialog is not None
    text = _run(qtbot, push_dialog, server.url, "app")
    assert f"{server.url} (app): sent " in text and ", 0 unchanged." in text


def test_the_progress_dialog_shows_counts_and_the_time_left(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Once the count to do is known, the dialog says how many of how many and about how
    long is left at the pace so far."""
    from reviewer.services.pulling import PullSummary
    from reviewer.ui.connect_action import ConnectJob, time_left

    assert time_left(0, 100, 5.0) == ""  # nothing done yet: no pace
    assert time_left(10, 0, 5.0) == ""  # the count to do is not known
    assert time_left(25, 100, 10.0) == "about 30 s left"
    assert time_left(10, 100, 60.0) == "about 9 min left"

    release = threading.Event()

    def work(*, progress: object) -> PullSummary:
        release.wait(30)  # held while the dialog is looked at
        return PullSummary(source="phoenix", url="http://x", project="p")

    job = ConnectJob(window, window.import_runner, "Pull sessions", work)
    job._show_progress(250, 1000, "pulled 250 traces")
    text = job.dialog.labelText()
    assert text.startswith("pulled 250 traces of 1,000\nabout ") and text.endswith(" left")
    with qtbot.waitSignal(job.finished, timeout=10_000):
        release.set()
