"""The main window: session list on the left, transcript on the right."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QModelIndex, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
)

from reviewer import __version__
from reviewer.domain.session import Session
from reviewer.services import browse
from reviewer.services.browse import SessionSummary
from reviewer.services.importing import ImportSummary
from reviewer.services.workspaces import open_existing
from reviewer.store.workspace import Workspace
from reviewer.ui.import_action import ImportJob, choose_files, summary_text
from reviewer.ui.session_model import SessionListModel
from reviewer.ui.tasks import TaskRunner
from reviewer.ui.transcript import TranscriptView

DEFAULT_COLUMN_WIDTHS = (170, 125, 150, 130, 50, 50, 75, 70)
"""Session list columns on first start (later, the widths the reviewer left them at)."""


class MainWindow(QMainWindow):
    workspace_opened = Signal(str)
    """A workspace finished opening and its session list is shown (display name)."""
    session_shown = Signal(int)
    """The transcript now shows this session id."""

    def __init__(self, settings: QSettings) -> None:
        super().__init__()
        self.settings = settings
        self.runner = TaskRunner(self)
        self.runner.failed.connect(self._show_error)
        self.workspace: Workspace | None = None
        self.last_import: ImportSummary | None = None
        self.setWindowTitle("AgentOps Reviewer")

        self.model = SessionListModel(self._fetch_page, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)

        self.transcript = TranscriptView()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.transcript)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.setCentralWidget(self.splitter)

        self.count_label = QLabel()
        self.statusBar().addPermanentWidget(self.count_label)
        self._build_menus()
        self._restore_layout()

    # Menus
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open workspace…", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.setStatusTip("Open a workspace file")
        open_action.triggered.connect(self._choose_workspace)
        file_menu.addAction(open_action)
        self.import_action = QAction("&Import sessions…", self)
        self.import_action.setShortcut("Ctrl+I")
        self.import_action.setStatusTip("Import agent sessions from files (format detected)")
        self.import_action.triggered.connect(lambda: self.import_files(choose_files(self)))
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About AgentOps Reviewer", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About AgentOps Reviewer",
            f"AgentOps Reviewer {__version__}\nHuman review of recorded AI-agent sessions.",
        )

    def _choose_workspace(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open workspace", "", "Workspaces (*.sqlite *.db);;All files (*)"
        )
        if path:
            self.open_workspace(path)

    def import_files(self, paths: list[Path]) -> ImportJob | None:
        """Import ``paths`` in the background; the list refreshes when it is done."""
        if not paths or self.workspace is None:
            return None
        job = ImportJob(self, self.workspace, self.runner, paths)
        job.finished.connect(self._import_finished)
        return job

    def _import_finished(self, summary: ImportSummary | None) -> None:
        if summary is None or self.workspace is None:
            return
        self.statusBar().showMessage(summary_text(summary).splitlines()[0], 10_000)
        self.runner.run(browse.session_ids, self.workspace, on_done=self._ids_ready)
        self.last_import = summary

    # Workspace
    def open_workspace(self, target: str) -> None:
        self.statusBar().showMessage(f"Opening {target}…")
        self.runner.run(
            open_existing, target, on_done=self._workspace_ready, on_error=self._open_failed
        )

    def _open_failed(self, exc: BaseException) -> None:
        self.statusBar().clearMessage()
        QMessageBox.critical(self, "Cannot open workspace", str(exc))

    def _workspace_ready(self, ws: Workspace) -> None:
        if self.workspace is not None:
            old = self.workspace
            self.runner.run(old.close)
        self.workspace = ws
        self.setWindowTitle(f"AgentOps Reviewer — {ws.display_name}")
        stored = self.settings.value("workspace/recent", [], type=list)
        recent = [ws.display_name] + [
            r for r in (stored if isinstance(stored, list) else []) if r != ws.display_name
        ]
        self.settings.setValue("workspace/recent", recent[:10])
        self.runner.run(browse.session_ids, ws, on_done=self._ids_ready)

    def _ids_ready(self, ids: list[int]) -> None:
        if self.workspace is None:
            return  # the window closed meanwhile
        self.model.set_ids(ids)
        self.count_label.setText(f"{len(ids):,} sessions")
        self.statusBar().clearMessage()
        self.workspace_opened.emit(self.workspace.display_name)
        if ids:
            self.table.selectRow(0)

    def _fetch_page(self, ids: list[int], done: object) -> None:
        ws = self.workspace
        if ws is None:
            return
        self.runner.run(browse.summaries, ws, ids, on_done=done)  # type: ignore[arg-type]

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        sid = self.model.session_id(current.row())
        ws = self.workspace
        if sid is None or ws is None:
            return
        self.runner.run(browse.get_session, ws, sid, on_done=lambda s: self._show_session(sid, s))

    def _show_session(self, sid: int, session: Session) -> None:
        current = self.model.session_id(self.table.currentIndex().row())
        if current != sid:
            return  # the reviewer moved on meanwhile
        self.transcript.show_session(session)
        self.session_shown.emit(sid)

    def current_summary(self) -> SessionSummary | None:
        return self.model.summary(self.table.currentIndex().row())

    def _show_error(self, summary: str, details: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Something went wrong",
            summary,
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setDetailedText(details)
        box.open()

    # Layout persistence
    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry", type=QByteArray)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = self.settings.value("window/splitter", type=QByteArray)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.splitter.restoreState(state)
        else:
            self.splitter.setSizes([600, 680])
        header = self.settings.value("window/session_header", type=QByteArray)
        if isinstance(header, QByteArray) and not header.isEmpty():
            self.table.horizontalHeader().restoreState(header)
        else:
            for column, width in enumerate(DEFAULT_COLUMN_WIDTHS):
                self.table.setColumnWidth(column, width)

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("window/session_header", self.table.horizontalHeader().saveState())

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.runner.shutdown()
        if self.workspace is not None:
            self.workspace.close()
            self.workspace = None
        super().closeEvent(event)
