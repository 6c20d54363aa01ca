"""File → Pull sessions… and Review → Push labels…: a small form, then the pull or push
on the worker with a progress dialog and Cancel, and the same summary as the commands."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QWidget,
)

from reviewer.domain.filters import FilterError, parse_where
from reviewer.services.connecting import PULL_FROM, PUSH_TO, SYSTEMS, pull_from, push_to
from reviewer.services.progress import Progress
from reviewer.services.pulling import PullSummary
from reviewer.services.pushing import PushSummary
from reviewer.ui.messages import Icon, inform
from reviewer.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from reviewer.ui.main_window import MainWindow

SHOW_AFTER_MS = 600
DEFAULT_URL = {
    "phoenix": "http://127.0.0.1:6006",
    "mlflow": "http://127.0.0.1:5000",
    "langfuse": "https://cloud.langfuse.com",
    "langsmith": "https://api.smith.langchain.com",
}


class ConnectDialog(QDialog):
    """System, URL and project, an optional filter (as ``--where``) and, to push, a
    dry-run box. Keys are never asked for here: they come from the environment, as for
    the commands."""

    def __init__(self, parent: QWidget, *, pushing: bool) -> None:
        super().__init__(parent)
        self.setWindowTitle("Push labels" if pushing else "Pull sessions")
        self.system = QComboBox()
        for name in PUSH_TO if pushing else PULL_FROM:
            self.system.addItem(SYSTEMS[name], name)
        self.url = QLineEdit(DEFAULT_URL["phoenix"])
        self.project = QLineEdit()
        self.project.setPlaceholderText("default")
        self.where = QLineEdit()
        self.where.setPlaceholderText("all; e.g. version=2.0 and tool_error")
        self.where.setToolTip(
            "Only sessions this filter lets through (the language of sample --where): "
            + ("the others are not sent." if pushing else "the others are not imported.")
        )
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.dry_run = QCheckBox("Only count what would be sent")
        form = QFormLayout(self)
        form.addRow("&System:", self.system)
        form.addRow("&URL:", self.url)
        form.addRow("&Project:", self.project)
        form.addRow("Only sessions &where:", self.where)
        form.addRow("", self.problem)
        if pushing:
            form.addRow("", self.dry_run)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Push" if pushing else "Pull")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.system.currentIndexChanged.connect(self._system_changed)
        self.job: ConnectJob | None = None

    def _system_changed(self) -> None:
        self.url.setText(DEFAULT_URL.get(self.system.currentData(), ""))

    def choice(self) -> tuple[str, str, str | None]:
        return self.system.currentData(), self.url.text().strip(), self.project.text() or None

    def filter_text(self) -> str | None:
        """The filter typed, or None for every session."""
        return self.where.text().strip() or None

    def accept(self) -> None:
        """Refuse a filter that cannot be read, saying where, and stay open."""
        where = self.filter_text()
        if where is not None:
            try:
                parse_where(where)
            except FilterError as exc:
                self.problem.setText(f"The filter cannot be read: {exc}")
                self.problem.show()
                self.where.setFocus()
                return
        super().accept()


def time_left(done: int, total: int, elapsed: float) -> str:
    """``about 40 s left`` / ``about 3 min left`` at the pace so far; empty while the
    count to do is not known or nothing is done yet."""
    if total <= 0 or done <= 0 or done >= total:
        return ""
    left = elapsed / done * (total - done)
    if left < 90:
        return f"about {max(1, round(left))} s left"
    if left < 90 * 60:
        return f"about {round(left / 60)} min left"
    return f"about {left / 3600:.1f} h left"


class ConnectJob(QObject):
    """One pull or push in flight; progress arrives from the worker through a signal."""

    progressed = Signal(int, int, str)
    finished = Signal(object)
    """The summary once it stopped (done, cancelled or cut off), or None when it failed."""

    def __init__(
        self, parent: QWidget, runner: TaskRunner, title: str, fn: Any, *args: Any, **kw: Any
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.summary_box: QWidget | None = None
        self.error_box: QWidget | None = None
        self.progress = Progress(
            lambda done, total, msg: self.progressed.emit(done, total or 0, msg)
        )
        self.dialog = QProgressDialog(f"{title}…", "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle(title)
        self.dialog.setMinimumDuration(SHOW_AFTER_MS)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.canceled.connect(self.progress.cancel)
        self.progressed.connect(self._show_progress)
        self._started = time.monotonic()
        runner.run(
            fn, *args, progress=self.progress, on_done=self._done, on_error=self._failed, **kw
        )

    def _show_progress(self, done: int, total: int, message: str) -> None:
        if total:
            self.dialog.setRange(0, total)
            self.dialog.setValue(min(done, total))
            message = f"{message} of {total:,}"
        left = time_left(done, total, time.monotonic() - self._started)
        self.dialog.setLabelText(f"{message}\n{left}" if left else message)

    def _done(self, summary: PullSummary | PushSummary) -> None:
        self.dialog.reset()
        self.finished.emit(summary)

    def _failed(self, exc: BaseException) -> None:
        self.dialog.reset()
        parent = self.dialog.parentWidget()
        self.error_box = inform(parent, Icon.Critical, f"{self.title} failed", str(exc))
        self.finished.emit(None)


def pull_text(s: PullSummary) -> str:
    lines = [
        f"{s.url} ({s.project}): {s.traces:,} traces, {s.imported:,} imported, "
        f"{s.duplicates:,} already there, {s.revised:,} revised, {s.rejected:,} rejected."
    ]
    if s.filtered_out:
        lines.append(f"{s.filtered_out:,} sessions did not match the filter and were left out.")
    if s.cancelled or s.limited:
        lines.append("Stopped: what came so far is kept; pull again to go on.")
    if s.error:
        lines.append(s.error)
    return "\n".join(lines)


def push_text(s: PushSummary) -> str:
    verb = "would send" if s.dry_run else "sent"
    lines = [f"{s.url} ({s.project}): {verb} {s.sent:,}, {s.unchanged:,} unchanged."]
    if s.withdrawn:
        withdrew = "Would withdraw" if s.dry_run else "Withdrew"
        lines.append(f"{withdrew} {s.withdrawn:,} labels whose reviews were withdrawn.")
    if s.refused:
        lines += [f"{s.refused:,} refused:", *s.refusals]
    if s.not_from_here:
        lines.append(
            f"{s.not_from_here:,} sessions did not come from here and were not sent: "
            + ", ".join(s.not_from_here_sessions)
        )
    if s.cancelled:
        lines.append("Stopped: what was accepted is recorded; push again to send the rest.")
    if s.error:
        lines.append(s.error)
    return "\n".join(lines)


def start(window: MainWindow, *, pushing: bool) -> ConnectDialog | None:
    """Ask where, then run on the window's import worker."""
    if window.workspace is None:
        return None
    dialog = ConnectDialog(window, pushing=pushing)

    def go() -> None:
        ws = window.workspace
        if ws is None:
            return
        system, url, project = dialog.choice()
        where = dialog.filter_text()
        if pushing:
            job = ConnectJob(
                window,
                window.import_runner,
                "Push labels",
                push_to,
                ws,
                system,
                url,
                project,
                dry_run=dialog.dry_run.isChecked(),
                where=where,
            )
        else:
            job = ConnectJob(
                window,
                window.import_runner,
                "Pull sessions",
                pull_from,
                ws,
                system,
                url,
                project,
                where=where,
            )
        dialog.job = job
        job.finished.connect(lambda s: _finished(window, job, s))

    dialog.accepted.connect(go)
    dialog.open()
    return dialog


def _finished(
    window: MainWindow, job: ConnectJob, summary: PullSummary | PushSummary | None
) -> None:
    if summary is None:
        return
    text = pull_text(summary) if isinstance(summary, PullSummary) else push_text(summary)
    window.statusBar().showMessage(text.splitlines()[0], 10_000)
    title = "Pull finished" if isinstance(summary, PullSummary) else "Push finished"
    icon = Icon.Information if summary.exit_code == 0 else Icon.Warning
    job.summary_box = inform(window, icon, title, text)
    if isinstance(summary, PullSummary):
        window.bench.reload_queue()


def pull_action(window: MainWindow) -> QAction:
    """File → Pull sessions…"""
    action = QAction("&Pull sessions…", window)
    action.setStatusTip("Pull new sessions from a running Arize Phoenix, Langfuse or LangSmith")
    action.triggered.connect(lambda: start(window, pushing=False))
    return action


def push_action(window: MainWindow) -> QAction:
    """Review → Push labels…"""
    action = QAction("&Push labels…", window)
    action.setStatusTip("Send submitted reviews to Phoenix, Langfuse or LangSmith as their labels")
    action.triggered.connect(lambda: start(window, pushing=True))
    return action
