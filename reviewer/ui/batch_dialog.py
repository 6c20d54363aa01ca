"""Batch → New batch: the sampling options with a live preview of strata and sample sizes."""

from __future__ import annotations

from pydantic import ValidationError
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.batch import Batch, Plan, SamplingSpec
from reviewer.services.batches import PRIORITY_SIGNALS, STRATUM_FIELDS, create_batch, plan
from reviewer.services.workspaces import Workspace
from reviewer.ui.messages import plain_label
from reviewer.ui.tasks import TaskRunner

COLUMNS = ("Stratum", "Sessions", "Gets", "Chance", "Needs")
"""Preview columns: matching sessions, what the batch draws, the inclusion probability,
and what the planner says the stratum needs for the margin at the confidence."""


class NewBatchDialog(QDialog):
    """Builds a :class:`SamplingSpec`; the preview and the batch are computed on a worker."""

    preview_ready = Signal()
    """The strata table shows the current options."""
    batch_created = Signal(object)
    """The stored :class:`Batch`."""

    def __init__(self, ws: Workspace, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New batch")
        self.ws = ws
        self.runner = runner
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. week-48-support")
        self.size_box = QSpinBox()
        self.size_box.setRange(1, 1_000_000)
        self.size_box.setValue(100)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2_147_483_647)
        self.stratify = QLineEdit("version")
        self.stratify.setToolTip("Comma-separated: " + ", ".join(STRATUM_FIELDS))
        self.allocation = QComboBox()
        self.allocation.addItems(["proportional", "equal"])
        self.where = QLineEdit()
        self.where.setPlaceholderText("e.g. feedback<0 and steps=5..20")
        self.where.setToolTip(
            "Clauses joined by 'and': agent, version, model, tag (= != ~ !~), started,"
            " feedback, steps, tool_calls, cost, latency_ms, judge.NAME (= != < <= > >=,"
            " LOW..HIGH), flags tool_error, escalated, negative_feedback, task_success"
        )
        self.priority = QLineEdit()
        self.priority.setPlaceholderText("e.g. negative_feedback=4, low_judge")
        self.priority.setToolTip(
            "Over-sample sessions with these signals (weight 4 unless given): "
            + ", ".join(PRIORITY_SIGNALS)
        )
        self.reviewers = QLineEdit()
        self.reviewers.setPlaceholderText("alice, bob, carol")
        self.overlap = QDoubleSpinBox()
        self.overlap.setRange(0, 1)
        self.overlap.setSingleStep(0.05)
        self.gold = QSpinBox()
        self.gold.setRange(0, 10_000)
        self.blind = QCheckBox("Blind: hide agent, version and model from reviewers")
        self.include_reviewed = QCheckBox("Also draw sessions that already have a review")
        self.margin = QDoubleSpinBox()
        self.margin.setRange(0.5, 50.0)
        self.margin.setDecimals(1)
        self.margin.setSingleStep(0.5)
        self.margin.setPrefix("± ")
        self.margin.setSuffix(" %")
        self.margin.setValue(5.0)
        self.margin.setToolTip("Margin of error wanted on a failure rate")
        self.confidence = QDoubleSpinBox()
        self.confidence.setRange(50.0, 99.9)
        self.confidence.setDecimals(1)
        self.confidence.setSingleStep(1.0)
        self.confidence.setSuffix(" %")
        self.confidence.setValue(95.0)
        self.confidence.setToolTip("Confidence level of the margin")
        form = QFormLayout()
        for label, w in (
            ("Name", self.name), ("Size", self.size_box), ("Seed", self.seed),
            ("Stratify by", self.stratify), ("Allocation", self.allocation),
            ("Filter", self.where), ("Priority", self.priority), ("Reviewers", self.reviewers),
            ("Overlap", self.overlap), ("Gold items", self.gold),
        ):  # fmt: skip
            form.addRow(label, w)
        form.addRow("", self.blind)
        form.addRow("", self.include_reviewed)
        planner = QHBoxLayout()
        planner.addWidget(self.margin)
        planner.addWidget(plain_label("at"))
        planner.addWidget(self.confidence)
        planner.addWidget(plain_label("confidence"))
        planner.addStretch(1)
        form.addRow("Planner", planner)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(180)
        self.table.verticalHeader().hide()
        self.message = plain_label()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create batch")
        self.buttons.accepted.connect(self._create)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self.refresh_preview)
        for edit in (self.stratify, self.where, self.priority):
            edit.textChanged.connect(lambda _t: self._timer.start())
        for box in (self.size_box, self.margin, self.confidence):
            box.valueChanged.connect(lambda _v: self._timer.start())
        self.allocation.currentIndexChanged.connect(lambda _i: self._timer.start())
        self.include_reviewed.toggled.connect(lambda _c: self._timer.start())
        self.resize(680, 760)
        self._generation = 0
        self.refresh_preview()

    def spec(self) -> SamplingSpec:
        """The options as a spec; ValueError with a readable message when one is wrong."""
        priority: dict[str, float] = {}
        for part in self.priority.text().split(","):
            name, _, weight = part.strip().partition("=")
            if not name.strip():
                continue
            try:
                priority[name.strip()] = float(weight) if weight.strip() else 4.0
            except ValueError:
                raise ValueError(f"Priority {part.strip()}: the weight must be a number") from None
        try:
            return SamplingSpec(
                size=self.size_box.value(),
                seed=self.seed.value(),
                where=self.where.text().strip() or None,
                stratify_by=[f.strip() for f in self.stratify.text().split(",") if f.strip()],
                allocation="equal" if self.allocation.currentText() == "equal" else "proportional",
                priority=priority,
                reviewers=[r.strip() for r in self.reviewers.text().split(",") if r.strip()],
                overlap=self.overlap.value(),
                gold=self.gold.value(),
                include_reviewed=self.include_reviewed.isChecked(),
                blind=self.blind.isChecked(),
            )
        except ValidationError as exc:
            msg = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            raise ValueError(msg) from None

    def refresh_preview(self) -> None:
        """Recount the strata for the current options on the worker; newer requests win."""
        self._timer.stop()
        self._generation += 1
        generation = self._generation
        try:
            spec = self.spec()
        except ValueError as exc:
            self._show_error(generation, exc)
            return
        self.runner.run(
            plan,
            self.ws,
            spec,
            margin=self.margin.value() / 100,
            confidence=self.confidence.value() / 100,
            size=spec.size,
            on_done=lambda p: self._show_preview(generation, p),
            on_error=lambda e: self._show_error(generation, e),
        )

    def _show_preview(self, generation: int, result: Plan) -> None:
        if generation != self._generation:
            return  # the options changed since: a newer preview is on its way
        self.table.setRowCount(len(result.strata))
        for r, s in enumerate(result.strata):
            gets = s.allocated or 0
            chance = f"{gets / s.population:.1%}" if s.population else "–"
            row = (s.stratum, f"{s.population:,}", f"{gets:,}", chance, f"{s.needed:,}")
            for c, text in enumerate(row):
                cell = QTableWidgetItem(text)
                if c:
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, cell)
        takes = min(result.size or 0, result.population)
        self.message.setText(
            f"{result.population:,} sessions match; the batch takes {takes:,}."
            f" To estimate a failure rate within ±{result.margin:.1%} at"
            f" {result.confidence:.1%} confidence: {result.total:,} for every stratum"
            f" (the Needs column), {result.overall:,} for the overall rate only."
        )
        self.preview_ready.emit()

    def _show_error(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.table.setRowCount(0)
            self.message.setText(str(exc))
            self.preview_ready.emit()

    def _create(self) -> None:
        name = self.name.text().strip()
        if not name:
            self.message.setText("Give the batch a name.")
            return
        try:
            spec = self.spec()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self.buttons.setEnabled(False)
        self.message.setText("Drawing the batch…")
        self.runner.run(
            create_batch, self.ws, name, spec, on_done=self._created, on_error=self._failed
        )

    def _created(self, batch: Batch) -> None:
        self.batch_created.emit(batch)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(str(exc))
