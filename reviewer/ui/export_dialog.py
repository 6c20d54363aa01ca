"""File → Export: the export options, run on the worker with a progress dialog and Cancel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.batch import BatchSummary
from reviewer.services.batches import list_batches
from reviewer.services.export_choices import (
    DEFAULT_REQUIRE,
    FORMATS,
    ExportManifest,
    ExportOptions,
)
from reviewer.services.exporting import ExportError, export, manifest_path_for
from reviewer.services.progress import Cancelled, Progress
from reviewer.services.workspaces import Workspace
from reviewer.ui.tasks import TaskRunner

SHOW_AFTER_MS = 600
ALL_BATCHES = "(all reviews, in a batch or not)"


class ExportDialog(QDialog):
    """Builds :class:`ExportOptions` and runs the export on ``runner``."""

    exported = Signal(object)
    """The :class:`ExportManifest` of a finished export."""
    failed = Signal(str)
    """The export stopped (cancelled or an error): what the dialog says about it."""
    progressed = Signal(int, int)
    """Reviews done and total (queued from the worker to the GUI thread)."""

    def __init__(self, ws: Workspace, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export labels")
        self.ws = ws
        self.runner = runner
        self.format = QComboBox()
        for fmt in FORMATS.values():
            self.format.addItem(fmt.name, fmt.name)
            self.format.setItemData(
                self.format.count() - 1, fmt.summary, Qt.ItemDataRole.ToolTipRole
            )
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.level = QComboBox()
        self.level.addItem("One row per review", "review")
        self.level.addItem("One row per session (consensus or adjudicated)", "session")
        self.level.addItem("One row per labelled step (verdict, correction)", "step")
        self.status = QComboBox()
        self.status.addItem("Submitted reviews", "submitted")
        self.status.addItem("All reviews (drafts, skipped, flagged too)", "all")
        self.batch = QComboBox()
        self.batch.addItem(ALL_BATCHES, None)
        self.where = QLineEdit()
        self.where.setPlaceholderText("e.g. version=2.0 and tag=refund")
        self.redact = QCheckBox("Mask e-mail addresses, phone numbers and card numbers")
        self.keep_formulas = QCheckBox(
            "Keep cells that start like spreadsheet formulas as they are"
        )
        self.min_quality = QDoubleSpinBox()
        self.min_quality.setRange(0, 100)
        self.min_quality.setDecimals(1)
        self.min_quality.setValue(4.0)
        self.require = QLineEdit(", ".join(f"{k}={v}" for k, v in DEFAULT_REQUIRE.items()))
        self.require.setToolTip(
            "An uncorrected session is a good example when its quality is at least the"
            " minimum and each of these dimensions has this value (empty: no condition)"
        )
        self.out = QLineEdit()
        if ws.path is not None:  # a first suggestion beside the workspace file
            self.out.setText(str(ws.path.with_name(f"{ws.path.stem}-labels.csv")))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        where_to = QHBoxLayout()
        where_to.addWidget(self.out, 1)
        where_to.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("", self.summary)
        form.addRow("Rows", self.level)
        form.addRow("Reviews", self.status)
        form.addRow("Batch", self.batch)
        form.addRow("Filter", self.where)
        form.addRow("", self.redact)
        form.addRow("", self.keep_formulas)
        form.addRow("Minimum quality", self.min_quality)
        form.addRow("Require", self.require)
        form.addRow("Save to", where_to)
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.progress: Progress | None = None
        self.progress_dialog: QProgressDialog | None = None
        self.progressed.connect(self._show_progress)
        self.format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()
        self.resize(620, 0)
        runner.run(list_batches, ws, on_done=self._fill_batches, on_error=lambda _e: None)

    def _fill_batches(self, batches: list[BatchSummary]) -> None:
        for b in batches:
            self.batch.addItem(b.name, b.name)

    def _format_changed(self) -> None:
        fmt = FORMATS[self.format.currentData()]
        self.summary.setText(fmt.summary)
        self.level.setEnabled(fmt.kind != "dataset")
        self.keep_formulas.setEnabled(fmt.name == "csv")
        self.min_quality.setEnabled(fmt.kind == "dataset")
        self.require.setEnabled(fmt.kind == "dataset")
        text = self.out.text().strip()
        if text:
            path = Path(text)
            stem = path.name.split(".")[0] or "labels"
            self.out.setText(str(path.with_name(stem + fmt.extension)))

    def _browse(self) -> None:
        fmt = FORMATS[self.format.currentData()]
        name, _ = QFileDialog.getSaveFileName(
            self, "Export to", self.out.text() or f"labels{fmt.extension}"
        )
        if name:
            self.out.setText(name)

    def options(self) -> ExportOptions:
        """The options as chosen; ValueError with a readable message when one is wrong."""
        require: dict[str, str] = {}
        for part in self.require.text().split(","):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise ValueError(f"Require {part.strip()!r}: write DIMENSION=VALUE")
            require[name.strip()] = value.strip()
        try:
            return ExportOptions(
                format=self.format.currentData(),
                level=self.level.currentData(),
                status=self.status.currentData(),
                batch=self.batch.currentData(),
                where=self.where.text().strip() or None,
                redact_pii=self.redact.isChecked(),
                neutralise_formulas=not self.keep_formulas.isChecked(),
                min_quality=self.min_quality.value(),
                require=require,
            )
        except ValidationError as exc:
            raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None

    def start(self) -> None:
        """Start the export on the worker (the dialog stays open to show the outcome)."""
        try:
            options = self.options()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        if not self.out.text().strip():
            self.message.setText("Choose where to save the file.")
            return
        path = Path(self.out.text().strip()).expanduser()
        self.export_button.setEnabled(False)
        self.message.setText(f"Exporting to {path}…")
        self.progress = Progress(lambda done, total, _m: self.progressed.emit(done, total or 0))
        dialog = QProgressDialog("Exporting…", "Cancel", 0, 0, self)
        dialog.setWindowTitle("Export labels")
        dialog.setMinimumDuration(SHOW_AFTER_MS)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.canceled.connect(self.progress.cancel)
        self.progress_dialog = dialog
        self.runner.run(
            export,
            self.ws,
            options,
            path,
            progress=self.progress,
            on_done=self._done,
            on_error=self._failed,
        )

    def cancel(self) -> None:
        """What the progress dialog's Cancel button does."""
        if self.progress is not None:
            self.progress.cancel()

    def _show_progress(self, done: int, total: int) -> None:
        if self.progress_dialog is not None:
            self.progress_dialog.setMaximum(total)
            self.progress_dialog.setValue(min(done, total))
            self.progress_dialog.setLabelText(f"{done:,} of {total:,} reviews")

    def _finish(self) -> None:
        if self.progress_dialog is not None:
            self.progress_dialog.reset()
            self.progress_dialog = None
        self.export_button.setEnabled(True)

    def _done(self, manifest: ExportManifest) -> None:
        self._finish()
        unit = "rows" if FORMATS[manifest.format].kind == "table" else "lines"
        lines = [
            f"Wrote {manifest.counts.rows:,} {unit} to {self.out.text().strip()}"
            f" from {manifest.counts.reviews:,} reviews of {manifest.counts.sessions:,}"
            " sessions."
        ]
        lines += [
            f"Left out {n:,}: {why.replace('_', ' ')}" for why, n in manifest.left_out.items()
        ]
        lines += manifest.notes
        lines.append(f"Manifest: {manifest_path_for(Path(self.out.text().strip())).name}")
        self.message.setText("\n".join(lines))
        self.exported.emit(manifest)

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        if isinstance(exc, Cancelled):
            text = "Cancelled: nothing was written."
        elif isinstance(exc, ExportError | OSError):
            text = f"Not exported: {exc}"
        else:
            text = f"Export failed: {type(exc).__name__}: {exc}"
        self.message.setText(text)
        self.failed.emit(text)


def open_export_dialog(
    window: QMainWindow, ws: Workspace | None, runner: TaskRunner
) -> ExportDialog | None:
    """Open the Export dialog on ``ws``, exporting on ``runner`` (None when no workspace
    is open)."""
    if ws is None:
        return None
    dialog = ExportDialog(ws, runner, window)
    dialog.exported.connect(
        lambda m: window.statusBar().showMessage(f"Exported {m.counts.rows:,} rows", 10_000)
    )
    dialog.open()
    return dialog


def export_action(
    window: QMainWindow, workspace: Callable[[], Workspace | None], runner: TaskRunner
) -> QAction:
    """File → Export… (Ctrl+Shift+E; Ctrl+E edits a step in the workbench) on the
    workspace open when it is chosen, run on ``runner`` (the window's long-job runner)."""
    action = QAction("&Export labels…", window)
    action.setShortcut("Ctrl+Shift+E")
    action.setStatusTip("Export labels to CSV, JSONL, Parquet, fine-tuning, eval or tracing files")
    action.triggered.connect(lambda: open_export_dialog(window, workspace(), runner))
    return action
