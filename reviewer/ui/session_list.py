"""A window listing the sessions behind one bar of a dashboard chart."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableView, QVBoxLayout, QWidget

from reviewer.services import browse
from reviewer.services.analytics import Selection, StatsQuery, matching_sessions
from reviewer.services.workspaces import Workspace
from reviewer.ui.session_model import SessionListModel
from reviewer.ui.tasks import TaskRunner


@dataclass(frozen=True)
class SessionsWanted:
    """What a click on a chart asks for: the sessions behind ``selection`` within ``query``."""

    query: StatsQuery
    selection: Selection


class SessionListWindow(QWidget):
    """The matching sessions, listed the way the workbench lists a queue (rows fetched a
    page at a time on the worker)."""

    loaded = Signal(int)
    """The list is shown (number of sessions)."""

    def __init__(
        self, ws: Workspace, runner: TaskRunner, wanted: SessionsWanted, parent: QWidget | None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.ws = ws
        self.runner = runner
        self.wanted = wanted
        scope = f" in batch {wanted.query.batch}" if wanted.query.batch else ""
        self.setWindowTitle(f"Sessions: {wanted.selection.describe()}{scope}")
        self.heading = QLabel("Loading…")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.model = SessionListModel(self._fetch_page, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnHidden(0, True)  # queue status: not a queue here
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        self.resize(900, 500)
        runner.run(matching_sessions, ws, wanted.query, wanted.selection, on_done=self._show)

    def _fetch_page(self, ids: list[int], done: object) -> None:
        self.runner.run(browse.summaries, self.ws, ids, on_done=done)  # type: ignore[arg-type]

    def _show(self, ids: list[int]) -> None:
        self.model.set_ids(ids)
        what = self.wanted.selection.describe()
        self.heading.setText(f"{len(ids):,} sessions: {what}")
        self.loaded.emit(len(ids))

    def session_ids(self) -> list[int]:
        return [sid for row in range(self.model.rowCount()) if (sid := self.model.session_id(row))]
