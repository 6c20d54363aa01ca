"""File → Import: runs the import on the worker with a progress dialog and Cancel."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from reviewer.services.importing import ImportSummary, import_paths
from reviewer.services.progress import Progress
from reviewer.store.workspace import Workspace
from reviewer.ui.messages import Icon, inform
from reviewer.ui.tasks import TaskRunner

SHOW_AFTER_MS = 600


class ImportJob(QObject):
    """One import in flight. Progress arrives from the worker thread through a signal."""

    progressed = Signal(int, str)
    """Records read so far and a message (queued to the GUI thread)."""
    finished = Signal(object)
    """The :class:`ImportSummary`, once the import stopped (done or cancelled)."""

    def __init__(
        self, parent: QWidget, ws: Workspace, runner: TaskRunner, paths: Sequence[Path]
    ) -> None:
        super().__init__(parent)
        self.progress = Progress(lambda done, _total, msg: self.progressed.emit(done, msg))
        self.dialog = QProgressDialog("Importing…", "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle("Import sessions")
        self.dialog.setMinimumDuration(SHOW_AFTER_MS)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.canceled.connect(self.progress.cancel)
        self.progressed.connect(self._show_progress)
        runner.run(
            import_paths,
            ws,
            list(paths),
            on_done=self._done,
            on_error=self._failed,
            progress=self.progress,
        )

    def _show_progress(self, done: int, message: str) -> None:
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
    lines += [f.error for f in summary.files if f.error]
    return "\n".join(lines)


def choose_files(parent: QWidget) -> list[Path]:
    names, _ = QFileDialog.getOpenFileNames(
        parent, "Import sessions", "", "Session files (*.jsonl *.json *.gz);;All files (*)"
    )
    return [Path(n) for n in names]
