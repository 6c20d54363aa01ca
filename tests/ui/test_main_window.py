from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from reviewer.ui.main_window import MainWindow
from reviewer.ui.session_model import SessionListModel


def _open(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    with (
        qtbot.waitSignal(window.workspace_opened, timeout=10_000),
        qtbot.waitSignal(window.session_shown, timeout=10_000),
        qtbot.waitSignal(window.model.rows_loaded, timeout=10_000),
    ):
        window.open_workspace(str(path))


def test_opening_a_workspace_lists_sessions_and_shows_the_first(
    qtbot: QtBot, window: MainWindow, filled_workspace: Path
) -> None:
    _open(qtbot, window, filled_workspace)
    assert window.model.rowCount() == 451
    assert window.count_label.text() == "451 sessions"
    first = window.model.summary(0)
    assert first is not None and first.first_user_text
    assert first.first_user_text in window.transcript.toPlainText()


def test_rows_arrive_lazily_page_by_page(
    qtbot: QtBot, window: MainWindow, filled_workspace: Path
) -> None:
    _open(qtbot, window, filled_workspace)
    model = window.model
    assert model.summary(0) is not None
    assert model.summary(449) is None  # far page not fetched yet
    with qtbot.waitSignal(model.rows_loaded, timeout=5_000):
        model.data(model.index(449, 1))
    assert model.summary(449) is not None


def test_html_in_a_session_is_shown_as_literal_text(
    qtbot: QtBot, window: MainWindow, filled_workspace: Path
) -> None:
    _open(qtbot, window, filled_workspace)
    rows = [r for r in range(200) if (s := window.model.summary(r)) and s.key == "hostile"]
    assert rows, "the newest-stored session is on the first page"
    row = rows[0]
    window.table.selectRow(1)
    with qtbot.waitSignal(window.session_shown, timeout=5_000):
        window.table.selectRow(row)
    assert '<img src="file:///etc/passwd"><b>bold</b>' in window.transcript.toPlainText()


def test_model_passes_qt_model_tester(qtbot: QtBot) -> None:
    model = SessionListModel(lambda ids, done: None)
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    requested: list[list[int]] = []
    model._fetch_page = lambda ids, done: requested.append(ids)
    model.set_ids(list(range(1000)))
    assert model.rowCount() == 1000
    assert model.data(model.index(5, 0)) == "to do"  # status comes with the queue
    assert model.data(model.index(5, 1)) == "…"
    model.data(model.index(999, 1))
    assert [len(r) for r in requested] == [200, 200]  # first page at once, last on demand


def test_window_layout_is_remembered(qtbot: QtBot, settings: QSettings) -> None:
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.resize(700, 500)  # the offscreen screen is 800×600
    w.show()
    w.splitter.setSizes([200, 300, 180])
    sizes = w.splitter.sizes()
    w.close()
    w2 = MainWindow(settings)
    qtbot.addWidget(w2)
    w2.show()
    assert (w2.width(), w2.height()) == (700, 500)
    assert w2.splitter.sizes() == sizes
    w2.close()


def test_report_a_problem_copies_diagnostics(qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtWidgets import QApplication

    box = window.report_problem()
    clip = QApplication.clipboard().text()
    assert clip.startswith("AgentOps Reviewer") and "SQLite" in clip and "Qt " in clip
    assert box.detailedText() == clip
