"""Batch → New batch: the sampling options with a live preview of strata and sample sizes."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.batch import Batch, SamplingSpec
from reviewer.domain.sampling import allocate
from reviewer.services.batches import Plan, create_batch, plan
from reviewer.store.workspace import Workspace
from reviewer.ui.tasks import TaskRunner


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
        self.stratify.setToolTip("Comma-separated: agent, version, model, tool_error, escalated")
        self.allocation = QComboBox()
        self.allocation.addItems(["proportional", "equal"])
        self.where = QLineEdit()
        self.where.setPlaceholderText("e.g. feedback<0 and steps=5..20")
        self.priority = QLineEdit()
        self.priority.setPlaceholderText("e.g. negative_feedback=4, low_judge")
        self.reviewers = QLineEdit()
        self.reviewers.setPlaceholderText("alice, bob, carol")
        self.overlap = QDoubleSpinBox()
        self.overlap.setRange(0, 1)
        self.overlap.setSingleStep(0.05)
        self.gold = QSpinBox()
        self.gold.setRange(0, 10_000)
        self.blind = QCheckBox("Blind: hide agent, version and model from reviewers")
        form = QFormLayout()
        for label, w in (
            ("Name", self.name), ("Size", self.size_box), ("Seed", self.seed),
            ("Stratify by", self.stratify), ("Allocation", self.allocation),
            ("Filter", self.where), ("Priority", self.priority), ("Reviewers", self.reviewers),
            ("Overlap", self.overlap), ("Gold items", self.gold),
        ):  # fmt: skip
            form.addRow(label, w)
        form.addRow("", self.blind)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Stratum", "Sessions", "Gets", "Needs (±5 %, 95 %)"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.message = QLabel()
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
        self.size_box.valueChanged.connect(lambda _v: self._timer.start())
        self.allocation.currentIndexChanged.connect(lambda _i: self._timer.start())
        self.resize(560, 620)
        self._generation = 0
        self.refresh_preview()

    def spec(self) -> SamplingSpec:
        priority: dict[str, float] = {}
        for part in self.priority.text().split(","):
            name, _, weight = part.strip().partition("=")
            if name:
                priority[name] = float(weight) if weight.strip() else 4.0
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
            blind=self.blind.isChecked(),
        )

    def refresh_preview(self) -> None:
        try:
            spec = self.spec()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self._generation += 1
        generation = self._generation
        self.runner.run(
            plan,
            self.ws,
            spec,
            margin=0.05,
            confidence=0.95,
            on_done=lambda p: self._show_preview(generation, spec, p),
            on_error=lambda e: self._show_error(generation, e),
        )

    def _show_preview(self, generation: int, spec: SamplingSpec, result: Plan) -> None:
        if generation != self._generation:
            return
        sizes = {s.stratum: s.population for s in result.strata}
        gets = allocate(sizes, spec.size, spec.allocation) if sizes else {}
        self.table.setRowCount(len(result.strata))
        for r, s in enumerate(result.strata):
            row = (s.stratum, f"{s.population:,}", f"{gets.get(s.stratum, 0):,}", f"{s.needed:,}")
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        takes = min(spec.size, result.population)
        self.message.setText(
            f"{result.population:,} sessions match; the batch takes {takes:,}. To estimate a"
            f" failure rate within ±5 % in every stratum: {result.total:,}."
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
