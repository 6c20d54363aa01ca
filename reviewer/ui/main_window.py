"""The main window: menus and workspace handling around the review workbench."""

from __future__ import annotations

import getpass
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
)

from reviewer import __version__
from reviewer.services.browse import SessionSummary
from reviewer.services.importing import ImportSummary
from reviewer.services.workspaces import open_existing
from reviewer.store.workspace import Workspace
from reviewer.ui.batch_dialog import NewBatchDialog
from reviewer.ui.dashboard import Dashboard
from reviewer.ui.import_action import ImportJob, choose_files, summary_text
from reviewer.ui.session_list import SessionListWindow, SessionsWanted
from reviewer.ui.tasks import TaskRunner
from reviewer.ui.workbench import Workbench

SHORTCUTS: list[tuple[str, str]] = [
    ("1 – 9", "Pick the n-th option of the active dimension and move to the next one"),
    ("Tab / Shift+Tab", "Next / previous dimension"),
    ("Letter on a tag", "Toggle that failure tag (e.g. a, u, t, l, w, h, x, e, n, i, o)"),
    ("Click a step, [ / ]", "Mark the step where it went wrong; \\ clears the mark"),
    ("Ctrl+Enter", "Submit and open the next item still to do"),
    ("Ctrl+S", "Keep a draft now (drafts also save themselves within a second)"),
    ("Ctrl+Z", "Undo the last change in the form"),
    ("Alt+Right / Alt+Left", "Next / previous item"),
    ("Ctrl+Shift+S", "Skip, with a reason"),
    ("Ctrl+Shift+F", "Flag for escalation, with a reason"),
    ("Ctrl+F", "Find in session (Enter: next, Shift+Enter: previous, Esc: close)"),
    ("Ctrl+I", "Import sessions"),
    ("Ctrl+O", "Open a workspace"),
]
"""The keyboard contract, shown in Help → Keyboard shortcuts and the README."""


class MainWindow(QMainWindow):
    workspace_opened = Signal(str)
    """A workspace finished opening and its queue is shown (display name)."""
    session_shown = Signal(int)
    """The workbench now shows this session id with its review."""
    sessions_listed = Signal(int)
    """A list of the sessions behind a dashboard bar is shown (how many)."""

    def __init__(
        self, settings: QSettings, *, reviewer: str | None = None, batch: str | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.runner = TaskRunner(self)
        self.runner.failed.connect(self._show_error)
        self.import_runner = TaskRunner(self)
        self.import_runner.failed.connect(self._show_error)
        self.workspace: Workspace | None = None
        self.last_import: ImportSummary | None = None
        self.reviewer = (
            reviewer or str(settings.value("reviewer/name", "", type=str)) or (getpass.getuser())
        )
        self.batch = batch
        self._announce = False
        self.dashboard: Dashboard | None = None
        self.setWindowTitle("AgentOps Reviewer")

        self.bench = Workbench(settings, self)
        self.bench.runner.failed.connect(self._show_error)
        self.bench.items.failed.connect(self._show_error)
        self.bench.item_shown.connect(self.session_shown)
        self.bench.queue_loaded.connect(self._queue_loaded)
        self.bench.message.connect(lambda m: self.statusBar().showMessage(m, 8_000))
        self.model = self.bench.model
        self.table = self.bench.table
        self.transcript = self.bench.transcript
        self.form = self.bench.form
        self.splitter = self.bench.splitter
        self.setCentralWidget(self.bench)

        self.count_label = QLabel()
        self.reviewer_label = QLabel()
        self.statusBar().addPermanentWidget(self.reviewer_label)
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
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        batch_menu = self.menuBar().addMenu("&Batch")
        new_batch = QAction("&New batch…", self)
        new_batch.setShortcut("Ctrl+B")
        new_batch.setStatusTip("Draw a reproducible sample of sessions and assign it to reviewers")
        new_batch.triggered.connect(self.new_batch)
        batch_menu.addAction(new_batch)
        dashboard = QAction("&Dashboard", self)
        dashboard.setShortcut("Ctrl+Shift+D")
        dashboard.setStatusTip("Coverage, quality, agreement and judge figures; adjudication")
        dashboard.triggered.connect(self.open_dashboard)
        batch_menu.addAction(dashboard)
        review_menu = self.menuBar().addMenu("&Review")
        for action in self.bench.actions_:
            review_menu.addAction(action)
        review_menu.addSeparator()
        who = QAction("Change &reviewer name…", self)
        who.setStatusTip("The name every review you make records")
        who.triggered.connect(self._change_reviewer)
        review_menu.addAction(who)
        help_menu = self.menuBar().addMenu("&Help")
        keys = QAction("&Keyboard shortcuts", self)
        keys.setShortcut("F1")
        keys.triggered.connect(self._show_shortcuts)
        help_menu.addAction(keys)
        about = QAction("&About AgentOps Reviewer", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def new_batch(self) -> NewBatchDialog | None:
        """Open the New batch dialog (its preview and the drawing run on a worker)."""
        if self.workspace is None:
            return None
        dialog = NewBatchDialog(self.workspace, self.runner, self)
        dialog.batch_created.connect(
            lambda b: self.statusBar().showMessage(
                f"Batch {b.name} created: {len(b.items)} items", 10_000
            )
        )
        dialog.open()
        return dialog

    def open_dashboard(self) -> Dashboard | None:
        """Show the dashboard (computed on the worker); its bars open the sessions behind."""
        if self.workspace is None:
            return None
        board = self.dashboard
        if board is None:
            board = self.dashboard = Dashboard(self.runner, self, lead=self.reviewer)
            board.sessions_requested.connect(self.show_sessions)
        board.lead = self.reviewer
        board.set_workspace(self.workspace, self.batch)
        board.show()
        board.activateWindow()
        board.refresh()
        return board

    def show_sessions(self, wanted: SessionsWanted) -> SessionListWindow | None:
        if self.workspace is None:
            return None
        listing = SessionListWindow(self.workspace, self.runner, wanted, self)
        listing.loaded.connect(self.sessions_listed)
        listing.show()
        return listing

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        stored = self.settings.value("workspace/recent", [], type=list)
        for target in stored if isinstance(stored, list) else []:
            action = self.recent_menu.addAction(str(target))
            action.triggered.connect(lambda _c=False, t=str(target): self.open_workspace(t))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _show_shortcuts(self) -> None:
        text = "\n".join(f"{keys:<24}{what}" for keys, what in SHORTCUTS)
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", text, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        box.setFont(font)
        box.open()

    def _change_reviewer(self) -> None:
        name, ok = QInputDialog.getText(
            self, "Reviewer name", "Your name, as recorded on every review:", text=self.reviewer
        )
        if ok and name.strip():
            self.set_reviewer(name.strip())

    def set_reviewer(self, name: str) -> None:
        self.reviewer = name
        self.settings.setValue("reviewer/name", name)
        self.reviewer_label.setText(f"Reviewer: {name}")
        if self.workspace is not None:
            self.bench.set_workspace(self.workspace, name, self.batch)

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
        job = ImportJob(self, self.workspace, self.import_runner, paths)
        job.finished.connect(self._import_finished)
        return job

    def _import_finished(self, summary: ImportSummary | None) -> None:
        if summary is None or self.workspace is None:
            return
        self.statusBar().showMessage(summary_text(summary).splitlines()[0], 10_000)
        self.last_import = summary
        self.bench.reload_queue()

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
        old = self.workspace
        self.workspace = ws
        self.setWindowTitle(f"AgentOps Reviewer — {ws.display_name}")
        stored = self.settings.value("workspace/recent", [], type=list)
        recent = [ws.display_name] + [
            r for r in (stored if isinstance(stored, list) else []) if r != ws.display_name
        ]
        self.settings.setValue("workspace/recent", recent[:10])
        self.reviewer_label.setText(f"Reviewer: {self.reviewer}")
        self._announce = True
        self.bench.set_workspace(ws, self.reviewer, self.batch)
        if self.dashboard is not None:
            self.dashboard.set_workspace(ws, self.batch)
        if old is not None:
            self.runner.run(old.close)

    def _queue_loaded(self, count: int) -> None:
        self.count_label.setText(
            f"{count:,} items in {self.batch}" if self.batch else f"{count:,} sessions"
        )
        self.statusBar().clearMessage()
        if self._announce and self.workspace is not None:
            self._announce = False
            self.workspace_opened.emit(self.workspace.display_name)

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
            self.splitter.setSizes([380, 540, 360])
        header = self.settings.value("window/session_header", type=QByteArray)
        if isinstance(header, QByteArray) and not header.isEmpty():
            self.table.horizontalHeader().restoreState(header)

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("window/session_header", self.table.horizontalHeader().saveState())

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.bench.shutdown()
        self.import_runner.shutdown()
        self.runner.shutdown()
        if self.workspace is not None:
            self.workspace.close()
            self.workspace = None
        super().closeEvent(event)
