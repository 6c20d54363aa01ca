"""The main window: menus and workspace handling around the review workbench."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
)

from reviewer import __version__
from reviewer.services.audit import audit_trail
from reviewer.services.backups import (
    BackupInfo,
    WorkspaceDamaged,
    auto_backup,
    backup_now,
    list_backups,
    restore,
)
from reviewer.services.browse import SessionSummary
from reviewer.services.conflicts import Choice, open_conflicts, resolve_conflict
from reviewer.services.importing import ImportSummary
from reviewer.services.merging import MergeError, MergeReport, merge_results
from reviewer.services.packs import PackInfo, ResultsSummary, open_pack, pack_info, write_results
from reviewer.services.workspaces import Workspace, is_sealed_file, open_existing
from reviewer.ui.batch_dialog import NewBatchDialog
from reviewer.ui.connect_action import pull_action, push_action
from reviewer.ui.dashboard import Dashboard
from reviewer.ui.export_dialog import export_action
from reviewer.ui.history_dialog import HistoryDialog
from reviewer.ui.import_action import ImportJob, choose_files, problems_text, summary_text
from reviewer.ui.messages import Icon, inform, message_box, plain_label
from reviewer.ui.review_compare import ConflictsDialog
from reviewer.ui.session_list import SessionListWindow, SessionsWanted
from reviewer.ui.tasks import TaskRunner
from reviewer.ui.workbench import Workbench

SHORTCUTS: list[tuple[str, str]] = [
    ("1 – 9", "Pick the n-th option of the active dimension and move to the next one"),
    ("Tab / Shift+Tab", "Next / previous dimension"),
    ("Enter", "Take the judges' suggestions for the dimensions still unset"),
    ("Letter on a tag", "Toggle that failure tag (e.g. a, u, t, l, w, h, x, e, n, i, o)"),
    ("Click a step, [ / ]", "Mark the step where it went wrong; \\ clears the mark"),
    ("Ctrl+Enter", "Submit and open the next item still to do"),
    ("Ctrl+S", "Keep a draft now (drafts also save themselves within a second)"),
    ("Ctrl+Z", "Undo the last change in the form"),
    ("Alt+Right / Alt+Left", "Next / previous item"),
    ("Ctrl+Shift+S", "Skip, with a reason"),
    ("Ctrl+Shift+F", "Flag for escalation, with a reason"),
    ("Ctrl+F", "Find in session (Enter: next, Shift+Enter: previous, Esc: close)"),
    ("Ctrl+K or /", "Search the queue (Enter or Esc: back to the form)"),
    ("Ctrl+H", "History of this session's reviews (the audit trail)"),
    ("Ctrl+I", "Import sessions"),
    ("Ctrl+1 / 2 / 3", "Step at the cursor: correct / partly correct / wrong"),
    ("Ctrl+E", "Edit the step at the cursor as it should have been (with a diff)"),
    ("Ctrl+Shift+E", "Export labels (CSV, JSONL, Parquet, fine-tuning, eval and feedback files)"),
    ("Ctrl+Shift+D", "Dashboard: coverage, quality, agreement; adjudicate disagreements"),
    ("Ctrl+O", "Open a workspace"),
    ("Ctrl+Shift+O", "Open a review pack (offline review)"),
]

BACKUP_EVERY_MS = 30 * 60 * 1000
"""While a workspace is open, an online backup is taken this often (and once at opening),
unless nothing was written since the last one."""
"""The keyboard contract, shown in Help → Keyboard shortcuts and the README."""


def _with_pack_info(ws: Workspace) -> tuple[Workspace, PackInfo | None]:
    """Worker side of opening: the workspace, and the pack it came from (if it did)."""
    try:
        return ws, pack_info(ws)
    except BaseException:
        ws.close()
        raise


def _open_any(target: str | Path) -> tuple[Workspace, PackInfo | None]:
    if is_sealed_file(target):  # File → Open on a review pack opens it as a pack
        return _open_pack_file(Path(target))
    return _with_pack_info(open_existing(target))


def _open_pack_file(path: Path) -> tuple[Workspace, PackInfo | None]:
    return _with_pack_info(open_pack(path))


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
        self.pack: PackInfo | None = None
        """Set while the open workspace is a review pack opened offline."""
        self.last_merge: MergeReport | None = None
        self.last_results: ResultsSummary | None = None
        self.conflicts_dialog: ConflictsDialog | None = None
        self.history_dialog: HistoryDialog | None = None
        self.problem_box: QMessageBox | None = None
        self.last_backup: Path | None = None
        self._backup_timer = QTimer(self)
        self._backup_timer.setInterval(BACKUP_EVERY_MS)
        self._backup_timer.timeout.connect(self.auto_backup)
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

        self.count_label = plain_label()
        self.reviewer_label = plain_label()
        self.statusBar().addPermanentWidget(self.reviewer_label)
        self.statusBar().addPermanentWidget(self.count_label)
        self.statusBar().addPermanentWidget(self.bench.team.label)  # pool: item held until
        self._build_menus()
        self._restore_layout()
        self.bench.focus_form()

    # Menus
    def _add(
        self,
        menu: QMenu,
        text: str,
        slot: Callable[[], object],
        tip: str = "",
        shortcut: str | QKeySequence.StandardKey | None = None,
    ) -> QAction:
        """A menu entry: its text, what it does, a status-bar tip and an optional shortcut."""
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        add = self._add
        file_menu = self.menuBar().addMenu("&File")
        add(
            file_menu,
            "&Open workspace…",
            self._choose_workspace,
            "Open a workspace file",
            QKeySequence.StandardKey.Open,
        )
        self.import_action = add(
            file_menu,
            "&Import sessions…",
            lambda: self.import_files(choose_files(self)),
            "Import agent sessions from files (format detected)",
            "Ctrl+I",
        )
        file_menu.addAction(export_action(self, lambda: self.workspace, self.import_runner))
        file_menu.addAction(pull_action(self))
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        add(
            file_menu,
            "Open review &pack…",
            self._choose_pack,
            "Review a pack offline: a batch's items for one reviewer, cut by the lead",
            "Ctrl+Shift+O",
        )
        self.return_action = add(
            file_menu,
            "Return &results…",
            self._choose_results_out,
            "Write the results of this pack, to send to the lead",
        )
        self.return_action.setEnabled(False)
        self.merge_action = add(
            file_menu,
            "&Merge results…",
            self._choose_results_in,
            "Merge results files from reviewers into this workspace (a backup is taken first)",
        )
        file_menu.addSeparator()
        add(
            file_menu,
            "&Back up now",
            self.backup_now,
            "Take an online backup of this workspace (one is also taken at opening and every"
            " 30 minutes when something changed)",
        )
        add(
            file_menu,
            "Restore from bac&kup…",
            self._choose_backup,
            "Put a backup in place of this workspace (what is there is backed up first)",
        )
        file_menu.addSeparator()
        add(file_menu, "&Quit", self.close, shortcut=QKeySequence.StandardKey.Quit)
        batch_menu = self.menuBar().addMenu("&Batch")
        add(
            batch_menu,
            "&New batch…",
            self.new_batch,
            "Draw a reproducible sample of sessions and assign it to reviewers",
            "Ctrl+B",
        )
        add(
            batch_menu,
            "&Dashboard",
            self.open_dashboard,
            "Coverage, quality, agreement and judge figures; adjudication",
            "Ctrl+Shift+D",
        )
        add(
            batch_menu,
            "Resolve &conflicts…",
            self.show_conflicts,
            "Reviews changed in two places, kept side by side by a merge",
        )
        review_menu = self.menuBar().addMenu("&Review")
        for action in self.bench.actions_:
            review_menu.addAction(action)
        review_menu.addSeparator()
        review_menu.addAction(push_action(self))
        add(
            review_menu,
            "&History of this session",
            self.show_history,
            "Every change to this session's reviews: who, when, before, after",
            "Ctrl+H",
        )
        add(
            review_menu,
            "Change &reviewer name…",
            self._change_reviewer,
            "The name every review you make records",
        )
        help_menu = self.menuBar().addMenu("&Help")
        add(help_menu, "&Keyboard shortcuts", self._show_shortcuts, shortcut="F1")
        add(
            help_menu,
            "&Report a problem…",
            self.report_problem,
            "Copy diagnostics (versions, platform, recent errors; no content)",
        )
        add(help_menu, "&About AgentOps Reviewer", self._about)

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
            if self.batch:  # a pairwise batch's bench is made again for the new name
                from reviewer.ui.pair_bench import review_pairs_if_any

                review_pairs_if_any(self, self.workspace)

    def report_problem(self) -> QMessageBox:
        """Copy the diagnostics to the clipboard and show them."""
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion
        from PySide6.QtWidgets import QApplication

        from reviewer.services.diagnostics import report

        kind = "none open"
        if self.workspace is not None:
            kind = "SQLite" if self.workspace.is_sqlite else "PostgreSQL"
            kind += " (review pack)" if self.pack is not None else ""
        text = report({"Qt": f"{qVersion()} (PySide6 {pyside_version})", "Workspace": kind})
        QApplication.clipboard().setText(text)
        box = message_box(
            self,
            Icon.Information,
            "Report a problem",
            "These diagnostics are on the clipboard: paste them into your report, with what "
            "you did and what happened. They hold no session content, paths or passwords.",
            details=text,
        )
        box.addButton(QMessageBox.StandardButton.Ok)
        self.problem_box = box
        box.open()
        return box

    def _about(self) -> None:
        self.problem_box = inform(
            self,
            Icon.Information,
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
        if summary.rejected or summary.unreadable:
            self.import_problems = inform(
                self, Icon.Warning, "Import finished with problems", problems_text(summary)
            )
        self.bench.reload_queue()

    # Workspace
    def open_workspace(self, target: str) -> None:
        self.statusBar().showMessage(f"Opening {target}…")
        self.bench.expect_session()
        self.runner.run(_open_any, target, on_done=self._opened, on_error=self._open_failed)

    def open_pack_file(self, path: Path) -> None:
        """Open a review pack as a private workspace (continuing earlier work on it)."""
        self.statusBar().showMessage(f"Opening pack {path.name}…")
        self.bench.expect_session()
        self.runner.run(_open_pack_file, path, on_done=self._opened, on_error=self._open_failed)

    def _opened(self, result: tuple[Workspace, PackInfo | None]) -> None:
        ws, info = result
        self.pack = info
        self.return_action.setEnabled(info is not None)
        self.merge_action.setEnabled(info is None)
        if info is not None:
            self.batch = info.batch
            if self.reviewer != info.reviewer:
                self.statusBar().showMessage(
                    f"This pack is {info.reviewer}'s: reviewing as {info.reviewer}", 10_000
                )
            self.reviewer = info.reviewer
        self._workspace_ready(ws)
        if info is not None:
            self.setWindowTitle(
                f"AgentOps Reviewer — pack {info.batch} for {info.reviewer} (offline)"
            )

    def _choose_pack(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open review pack", "", "Review packs (*.reviewpack);;All files (*)"
        )
        if path:
            self.open_pack_file(Path(path))

    def _choose_results_out(self) -> None:
        if self.pack is None:
            return
        name = f"{self.pack.batch}-{self.pack.reviewer}.reviewresults"
        path, _ = QFileDialog.getSaveFileName(
            self, "Return results", name, "Review results (*.reviewresults)"
        )
        if path:
            self.return_results(Path(path))

    def return_results(self, out: Path) -> None:
        """Write the results of the open pack to ``out`` (on a worker)."""
        if self.workspace is None or self.pack is None:
            return
        self.bench.flush()
        ws = self.workspace
        self.statusBar().showMessage(f"Writing results to {out.name}…")

        def done(summary: ResultsSummary) -> None:
            self.last_results = summary
            self.statusBar().showMessage(
                f"Results written to {summary.path}: {summary.reviews} reviews"
                + (f", {summary.preferences} preferences" if summary.preferences else "")
                + f" ({summary.submitted} submitted). Send this file to your lead.",
                15_000,
            )

        # on the items runner, after every pending save of the workbench
        runner = self.bench.items
        if (pairs := getattr(self, "pairs", None)) is not None:
            pairs.save_draft()  # the pair bench saves on its own worker: after its saves
            runner = pairs.runner
        runner.run(
            write_results,
            ws,
            out,
            on_done=done,
            on_error=self._problem("Results not written"),
        )

    def _choose_results_in(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Merge results", "", "Review results (*.reviewresults);;All files (*)"
        )
        if paths:
            self.merge_files([Path(p) for p in paths])

    def merge_files(self, paths: list[Path]) -> None:
        """Merge results files into the open workspace (on a worker; backup first)."""
        if self.workspace is None or not paths:
            return
        self.bench.flush()
        self.statusBar().showMessage(f"Merging {len(paths)} results file(s)…")
        self.bench.items.run(
            merge_results,
            self.workspace,
            paths,
            actor=self.reviewer,
            on_done=self._merged,
            on_error=self._merge_failed,
        )

    def _merge_failed(self, exc: BaseException) -> None:
        """Nothing merged: the reason, and every refused review under Show Details."""
        self.statusBar().clearMessage()
        refused = exc.refused if isinstance(exc, MergeError) else []
        details = "\n".join(r.line() for r in refused) or None
        box = message_box(self, Icon.Warning, "Nothing merged", str(exc), details=details)
        box.addButton(QMessageBox.StandardButton.Ok)
        self.problem_box = box
        box.open()

    def _merged(self, report: MergeReport) -> None:
        self.last_merge = report
        conflicts = sum(len(f.conflicts) for f in report.files)
        text = (
            f"Added {report.added}, updated {report.updated}, skipped {report.skipped} "
            f"(already here), flagged {report.flagged} as conflicts."
        )
        self.statusBar().showMessage("Merged: " + text, 15_000)
        self.bench.reload_queue()
        if conflicts:
            self.show_conflicts()

    def show_conflicts(self) -> ConflictsDialog | None:
        """The conflicts merges kept, to settle one by one."""
        if self.workspace is None:
            return None
        if self.conflicts_dialog is None:
            dialog = ConflictsDialog(self)
            dialog.resolve.connect(self._resolve)
            self.conflicts_dialog = dialog
        self.runner.run(open_conflicts, self.workspace, on_done=self.conflicts_dialog.set_conflicts)
        self.conflicts_dialog.open()
        return self.conflicts_dialog

    def _resolve(self, kept_uid: str, use: Choice) -> None:
        if self.workspace is None:
            return
        ws = self.workspace

        def done(_review: object) -> None:
            self.statusBar().showMessage("Conflict resolved", 8_000)
            self.bench.reload_queue()
            if self.conflicts_dialog is not None:
                self.runner.run(open_conflicts, ws, on_done=self.conflicts_dialog.set_conflicts)

        self.bench.items.run(
            resolve_conflict,
            ws,
            kept_uid,
            use,
            actor=self.reviewer,
            on_done=done,
            on_error=self._problem("Not resolved"),
        )

    def show_history(self) -> HistoryDialog | None:
        """The audit trail of the session on screen."""
        item = self.bench.item
        if self.workspace is None or item is None:
            return None
        self.bench.flush()
        key = item.session.id
        dialog = HistoryDialog(key, self)
        self.bench.items.run(
            audit_trail, self.workspace, session_key=key, on_done=dialog.set_records
        )
        self.history_dialog = dialog
        dialog.open()
        return dialog

    def _problem(self, title: str) -> Callable[[BaseException], None]:
        """An error handler that shows ``title`` and the one-line reason (not blocking)."""

        def show(exc: BaseException) -> None:
            self.statusBar().clearMessage()
            box = message_box(self, Icon.Warning, title, str(exc))
            box.addButton(QMessageBox.StandardButton.Ok)
            self.problem_box = box
            box.open()

        return show

    def _open_failed(self, exc: BaseException) -> None:
        self.statusBar().clearMessage()
        self.bench.stop_expecting()
        box = message_box(self, Icon.Critical, "Cannot open workspace", str(exc))
        if isinstance(exc, WorkspaceDamaged) and exc.backup is not None:
            damaged = exc
            backup = exc.backup
            button = box.addButton("Restore the latest backup", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            button.clicked.connect(lambda: self.restore_backup(damaged.path, backup))
        else:
            box.addButton(QMessageBox.StandardButton.Ok)
        self.problem_box = box
        box.open()

    # Backups
    def backup_now(self) -> None:
        """Take an online backup of the open SQLite workspace (on a worker)."""
        self._backup(backup_now, "manual")

    def auto_backup(self) -> None:
        """The backup at opening and every half hour: skipped when nothing changed."""
        self._backup(auto_backup, None)

    def _backup(self, take: Callable[..., Path | None], kind: str | None) -> None:
        ws = self.workspace
        if ws is None or ws.path is None:
            return

        def done(path: Path | None) -> None:
            if path is not None:
                self.last_backup = path
                self.statusBar().showMessage(f"Backup taken: {path.name}", 5_000)

        args = (ws.path,) if kind is None else (ws.path, kind)
        self.runner.run(take, *args, on_done=done, on_error=self._problem("Backup failed"))

    def _choose_backup(self) -> None:
        ws = self.workspace
        if ws is None or ws.path is None:
            return
        path = ws.path
        self.runner.run(list_backups, path, on_done=lambda b: self._pick_backup(path, b))

    def _pick_backup(self, db: Path, backups: list[BackupInfo]) -> None:
        if not backups:
            self.problem_box = inform(
                self, Icon.Information, "Restore from backup", "No backups of this workspace yet."
            )
            return
        labels = [
            f"{b.taken_at:%Y-%m-%d %H:%M:%S} UTC · {b.kind} · {b.size / 1e6:.1f} MB"
            for b in backups
        ]
        label, ok = QInputDialog.getItem(
            self,
            "Restore from backup",
            "Put this backup in place of the workspace (what is there now is backed up first):",
            labels,
            0,
            False,
        )
        if ok:
            self.restore_backup(db, backups[labels.index(label)].path)

    def restore_backup(self, db: Path, backup: Path) -> None:
        """Close the workspace if it is open, restore ``backup`` over it, open it again."""
        self.bench.set_workspace(None, self.reviewer, self.batch)
        ws, self.workspace = self.workspace, None
        self._backup_timer.stop()
        self.statusBar().showMessage(f"Restoring {backup.name}…")

        def work() -> Path:
            if ws is not None:
                ws.close()
            return restore(db, backup)

        def done(chosen: Path) -> None:
            self.statusBar().showMessage(f"Restored from {chosen.name}", 10_000)
            self.open_workspace(str(db))

        # after every pending save of the workbench
        self.bench.items.run(work, on_done=done, on_error=self._problem("Not restored"))

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
        if self.batch:  # a pairwise batch is reviewed side by side
            from reviewer.ui.pair_bench import review_pairs_if_any

            review_pairs_if_any(self, ws)
        if self.dashboard is not None:
            self.dashboard.set_workspace(ws, self.batch)
        if old is not None:
            self.runner.run(old.close)
        if ws.path is not None:
            self.auto_backup()
            self._backup_timer.start()

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
        box = message_box(self, Icon.Warning, "Something went wrong", summary, details=details)
        box.addButton(QMessageBox.StandardButton.Ok)
        self.problem_box = box
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
        if (pairs := getattr(self, "pairs", None)) is not None:
            pairs.shutdown()
        self.import_runner.shutdown()
        self.runner.shutdown()
        if self.workspace is not None:
            self.workspace.close()
            self.workspace = None
        super().closeEvent(event)
