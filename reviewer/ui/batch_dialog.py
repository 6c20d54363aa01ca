"""Batch → New batch: the sampling options with a live preview of strata and sample sizes."""

from __future__ import annotations

from itertools import pairwise

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

from reviewer.domain.batch import Batch, PairSpec, Plan, SamplingSpec
from reviewer.services.batches import PRIORITY_SIGNALS, STRATUM_FIELDS, create_batch, plan
from reviewer.services.pairwise import (
    COLUMN_FIELDS,
    PairPlan,
    compared_values,
    create_pair_batch,
    plan_pairs,
)
from reviewer.services.workspaces import Workspace
from reviewer.ui.messages import plain_label
from reviewer.ui.tasks import TaskRunner

COLUMNS = ("Stratum", "Sessions", "Gets", "Chance", "Needs")
"""Preview columns: matching sessions, what the batch draws, the inclusion probability,
and what the planner says the stratum needs for the margin at the confidence."""
PAIR_KEYS = ("first_user_text", "metadata.task_id")
"""Task keys offered for pairing (any ``metadata.NAME`` may be typed)."""
COMPARED_FIELDS = ("version", "model", "agent")
"""Fields offered for comparing (any ``metadata.NAME`` may be typed)."""


def _combo(items: tuple[str, ...] = ()) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    box.addItems(list(items))
    return box


class NewBatchDialog(QDialog):
    """Builds a :class:`SamplingSpec`; the preview and the batch are computed on a worker."""

    preview_ready = Signal()
    """The strata table shows the current options."""
    batch_created = Signal(object)
    """The stored :class:`Batch`."""
    values_ready = Signal()
    """The compared field's values found are offered (pairwise batches)."""

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
        self.compare = QCheckBox("&Compare two versions: pairs of sessions on the same task")
        self.compare.setToolTip(
            "A pairwise batch: each item shows a session with one value and a session with"
            " the other, on the same task, side by side"
        )
        self.pair_on = _combo(PAIR_KEYS)
        self.pair_on.setToolTip(
            "Sessions on the same task share this: " + ", ".join(COLUMN_FIELDS)
            + " or metadata.NAME"
        )  # fmt: skip
        self.compare_field = _combo(COMPARED_FIELDS)
        self.compare_field.setToolTip("version, model, agent or metadata.NAME")
        self.value_a = _combo()
        self.value_b = _combo()
        for combo in (self.value_a, self.value_b):
            combo.setToolTip("Values found among sessions with a task key (tasks that have one)")
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
        self.form = form
        form.addRow("Name", self.name)
        form.addRow("", self.compare)
        for label, w in (
            ("Pair on", self.pair_on), ("Compare", self.compare_field),
            ("Value A", self.value_a), ("Value B", self.value_b),
            ("Size", self.size_box), ("Seed", self.seed),
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
        self.planner = planner
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
        self._values_timer = QTimer(self)
        self._values_timer.setSingleShot(True)
        self._values_timer.setInterval(300)
        self._values_timer.timeout.connect(self.refresh_values)
        for combo in (self.pair_on, self.compare_field):
            combo.currentTextChanged.connect(lambda _t: self._values_timer.start())
        self.where.textChanged.connect(lambda _t: self.pairwise and self._values_timer.start())
        for combo in (self.value_a, self.value_b):
            combo.currentTextChanged.connect(lambda _t: self._timer.start())
        self.compare.toggled.connect(self._compare_toggled)
        chain: list[QWidget] = [
            self.name, self.compare, self.pair_on, self.compare_field, self.value_a,
            self.value_b, self.size_box, self.seed, self.stratify, self.allocation, self.where,
            self.priority, self.reviewers, self.overlap, self.gold, self.blind,
            self.include_reviewed,
        ]  # fmt: skip
        for before, after in pairwise(chain):
            QWidget.setTabOrder(before, after)
        self.resize(680, 760)
        self._generation = 0
        self._values_generation = 0
        self._compare_toggled(False)

    @property
    def pairwise(self) -> bool:
        """Whether the dialog draws a pairwise batch ("Compare two versions")."""
        return self.compare.isChecked()

    def _compare_toggled(self, on: bool) -> None:
        for combo in (self.pair_on, self.compare_field, self.value_a, self.value_b):
            self.form.setRowVisible(combo, on)
        single: tuple[QWidget, ...] = (self.stratify, self.allocation, self.priority, self.gold)
        for w in single:
            self.form.setRowVisible(w, not on)
        self.form.setRowVisible(self.include_reviewed, not on)
        self.form.setRowVisible(self.planner, not on)
        self.table.setVisible(not on)
        if on:
            self.refresh_values()
        self.refresh_preview()

    def refresh_values(self) -> None:
        """Find the values the compared field takes (on the worker) and offer them."""
        self._values_timer.stop()
        self._values_generation += 1
        generation = self._values_generation
        key, field = self.pair_on.currentText().strip(), self.compare_field.currentText().strip()
        try:
            scope = SamplingSpec(size=1, where=self.where.text().strip() or None)
        except ValidationError:
            return
        self.runner.run(
            compared_values,
            self.ws,
            scope,
            key,
            field,
            on_done=lambda found: self._offer_values(generation, found),
            on_error=lambda e: self._show_error(self._generation, e),
        )

    def _offer_values(self, generation: int, found: dict[str, int]) -> None:
        if generation != self._values_generation:
            return
        values = list(found)
        for box, default in ((self.value_a, 0), (self.value_b, 1)):
            current = box.currentText().strip()
            box.blockSignals(True)
            box.clear()
            for v in values:
                box.addItem(v)
                box.setItemData(box.count() - 1, f"{found[v]:,} tasks", Qt.ItemDataRole.ToolTipRole)
            if current in found:
                box.setCurrentText(current)
            elif default < len(values):
                box.setCurrentIndex(default)
            else:
                box.setCurrentText(current)
            box.blockSignals(False)
        self.values_ready.emit()
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
            if self.pairwise:
                return SamplingSpec(
                    size=self.size_box.value(),
                    seed=self.seed.value(),
                    where=self.where.text().strip() or None,
                    reviewers=[r.strip() for r in self.reviewers.text().split(",") if r.strip()],
                    overlap=self.overlap.value(),
                    blind=self.blind.isChecked(),
                    pairs=PairSpec(
                        key=self.pair_on.currentText().strip(),
                        field=self.compare_field.currentText().strip(),
                        a=self.value_a.currentText().strip(),
                        b=self.value_b.currentText().strip(),
                    ),
                )
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
        if spec.pairs is not None:
            self.runner.run(
                plan_pairs,
                self.ws,
                spec,
                on_done=lambda p: self._show_pairs(generation, p),
                on_error=lambda e: self._show_error(generation, e),
            )
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

    def _show_pairs(self, generation: int, p: PairPlan) -> None:
        if generation != self._generation:
            return
        self.table.setRowCount(0)
        takes = min(self.size_box.value(), p.pairs)
        self.message.setText(
            f"{p.pairs:,} pairs exist: tasks ({p.key}) with a session of {p.field}={p.a} and"
            f" one of {p.field}={p.b} ({p.sessions_a:,} sessions on {p.keys_a:,} tasks and"
            f" {p.sessions_b:,} on {p.keys_b:,}); the batch takes {takes:,}."
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
        create = create_pair_batch if spec.pairs is not None else create_batch
        self.runner.run(create, self.ws, name, spec, on_done=self._created, on_error=self._failed)

    def _created(self, batch: Batch) -> None:
        self.batch_created.emit(batch)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(str(exc))
