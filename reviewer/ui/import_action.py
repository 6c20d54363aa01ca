"""File → Import: runs the import on the worker with a progress dialog and Cancel."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from reviewer.logs import log_dir
from reviewer.services.importing import ImportSummary, import_with_report
from reviewer.services.progress import Progress
from reviewer.services.workspaces import Workspace
from reviewer.ui.messages import Icon, inform
from reviewer.ui.tasks import TaskRunner

SHOW_AFTER_MS = 600
SHOW_REJECTS = 10
"""Rejected records listed in the message after an import (the report has them all)."""


def reports_dir() -> Path:
    """Where the app's imports list their rejected records."""
    return log_dir() / "imports"


class ImportJob(QObject):
    """One import in flight. Progress arrives from the worker thread through a signal."""

    progressed = Signal(int, int, str)
    """Records read so far, the estimated total (0: not known yet) and a message (queued
    to the GUI thread)."""
    finished = Signal(object)
    """The :class:`ImportSummary`, once the import stopped (done or cancelled)."""

    def __init__(
        self, parent: QWidget, ws: Workspace, runner: TaskRunner, paths: Sequence[Path]
    ) -> None:
        super().__init__(parent)
        self.progress = Progress(
            lambda done, total, msg: self.progressed.emit(done, total or 0, msg)
        )
        self.dialog = QProgressDialog("Importing…", "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle("Import sessions")
        self.dialog.setMinimumDuration(SHOW_AFTER_MS)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.canceled.connect(self.progress.cancel)
        self.progressed.connect(self._show_progress)
        runner.run(
            import_with_report,
            ws,
            list(paths),
            reports_dir(),
            on_done=self._done,
            on_error=self._failed,
            progress=self.progress,
        )

    def _show_progress(self, done: int, total: int, message: str) -> None:
        if total:  # a bar once the files' sizes give an estimate; busy until then
            self.dialog.setRange(0, total)
            self.dialog.setValue(min(done, total))
            self.dialog.setLabelText(f"{message}\n{done:,} of about {total:,} records read")
        else:
            self.dialog.setLabelText(f"{message}\n{done:,} records read")

    def _done(self, summary: ImportSummary) -> None:
        self.dialog.reset()
        self.finished.emit(summary)

    def _failed(self, exc: BaseException) -> None:
        self.dialog.reset()
        self.error_box = inform(
            self.dialog.parentWidget(), Icon.Critical, "Import failed", str(exc)
        )
        self.finished.emit(None)


def summary_text(summary: ImportSummary) -> str:
    lines = [
        f"{summary.imported:,} imported, {summary.duplicates:,} already there, "
        f"{summary.revised:,} revised, {summary.rejected:,} rejected."
    ]
    if summary.cancelled:
        lines.append("Stopped: what was imported so far is kept; import again to finish.")
    lines += [f.error or f"{Path(f.path).name}: {f.counts_text()}." for f in summary.files]
    return "\n".join(lines)


def problems_text(summary: ImportSummary) -> str:
    """What went wrong, for the message after an import that rejected something: the first
    rejected records (file, line, reason) and where the rest are listed."""
    lines = [summary_text(summary), ""]
    shown = [r for r in summary.first_rejects if r.line is not None][:SHOW_REJECTS]
    for r in shown:
        lines.append(f"{Path(r.file).name}, line {r.line}: {r.reason}")
    if summary.rejected > len(shown):
        lines.append(f"… and {summary.rejected - len(shown):,} more.")
    if summary.report:
        lines += ["", f"The rejected records are listed in {summary.report}"]
    if summary.report_problem:
        lines += ["", summary.report_problem]
    return "\n".join(lines)


def choose_files(parent: QWidget) -> list[Path]:
    names, _ = QFileDialog.getOpenFileNames(
        parent, "Import sessions", "", "Session files (*.jsonl *.json *.gz);;All files (*)"
    )
    return [Path(n) for n in names]
