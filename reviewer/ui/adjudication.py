"""The adjudication view: each reviewer's values side by side and the lead's final label."""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.review import Review
from reviewer.domain.rubric import Dimension, DimensionKind
from reviewer.services.adjudication import AdjudicationCase, adjudicate, load_case
from reviewer.services.workspaces import Workspace
from reviewer.ui.tasks import TaskRunner

_NONE = "(no value)"


def _shown(value: Any, dim: Dimension) -> str:
    """A reviewer's value as plain text for the table."""
    if value is None or value == "" or value == []:
        return "–"
    if dim.kind is DimensionKind.BOOLEAN:
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join((o.label if (o := dim.option(str(v))) else str(v)) for v in value)
    option = dim.option(str(value)) if dim.options else None
    text = option.label if option else str(value)
    return text if len(text) <= 120 else text[:119] + "…"


class AdjudicationDialog(QDialog):
    """Loads the item's labels on the worker, shows them side by side with an editable
    "Final" column, and stores the final label (a review with role adjudicator)."""

    case_loaded = Signal()
    """The reviewers' labels are shown and the final label can be edited."""
    adjudicated = Signal(str)
    """The final label was stored (its review uid)."""

    def __init__(
        self,
        ws: Workspace,
        runner: TaskRunner,
        batch: str | None,
        session_id: int,
        lead: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ws = ws
        self.runner = runner
        self.lead = lead
        self.case: AdjudicationCase | None = None
        self.editors: dict[str, QWidget] = {}
        self.tags: dict[str, QCheckBox] = {}
        self.setWindowTitle("Adjudicate")
        self.heading = QLabel("Loading the reviews…")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.tag_box = QGroupBox("Final failure categories")
        self.tag_grid = QGridLayout(self.tag_box)
        self.problem = QLabel()
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setStyleSheet("color: #b00020")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("Record final label")
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.tag_box)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(900, 520)
        runner.run(load_case, ws, batch, session_id, on_done=self._show, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.problem.setText(str(exc))

    def _show(self, case: AdjudicationCase) -> None:
        self.case = case
        rubric = case.rubric
        where = f" in batch {case.batch}" if case.batch else ""
        done = f"; final label by {case.existing.reviewer}" if case.existing else ""
        self.heading.setText(
            f"Session {case.session_key}{where}: {len(case.labels)} reviews{done}."
            " Choose the final value of each dimension; it is stored as your own review."
        )
        dims = [
            d
            for d in rubric.dimensions
            if d.kind is not DimensionKind.MULTI_SELECT
            and d.kind is not DimensionKind.CORRECTED_RESPONSE
        ]
        heads = [lab.reviewer for lab in case.labels] + ["Final"]
        self.table.setColumnCount(len(heads))
        self.table.setHorizontalHeaderLabels(heads)
        taxonomy = rubric.taxonomy
        rows = [*dims, *([taxonomy] if taxonomy else [])]
        self.table.setRowCount(len(rows))
        self.table.setVerticalHeaderLabels([d.label for d in rows])
        proposal = case.proposal()
        final = len(case.labels)
        for r, d in enumerate(rows):
            for c, lab in enumerate(case.labels):
                item = QTableWidgetItem(_shown(lab.values.get(d.name), d))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, c, item)
            if d is taxonomy:
                self.table.setItem(r, final, QTableWidgetItem("(below)"))
                continue
            editor = self._editor(d, proposal.get(d.name))
            self.editors[d.name] = editor
            self.table.setCellWidget(r, final, editor)
        if taxonomy is not None:
            chosen = proposal.get(taxonomy.name)
            for k, o in enumerate(taxonomy.options):
                box = QCheckBox(o.label)
                box.setChecked(isinstance(chosen, list) and o.value in chosen)
                self.tags[o.value] = box
                self.tag_grid.addWidget(box, k // 3, k % 3)
        self.tag_box.setVisible(taxonomy is not None)
        self.table.resizeColumnsToContents()
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(True)
        self.case_loaded.emit()

    @staticmethod
    def _editor(d: Dimension, value: JsonValue) -> QWidget:
        if d.kind in (DimensionKind.ORDINAL, DimensionKind.CHOICE, DimensionKind.BOOLEAN):
            box = QComboBox()
            box.addItem(_NONE, None)
            if d.kind is DimensionKind.BOOLEAN:
                box.addItem("yes", True)
                box.addItem("no", False)
            else:
                for o in d.options:
                    box.addItem(o.label, o.value)
            index = box.findData(value) if value is not None else 0
            box.setCurrentIndex(max(0, index))
            return box
        line = QLineEdit(value if isinstance(value, str) else "")
        line.setPlaceholderText("optional")
        return line

    def set_final(self, dimension: str, value: JsonValue) -> None:
        """Choose the final value of one dimension (a tag list for the taxonomy)."""
        if isinstance(value, list):
            for tag, box in self.tags.items():
                box.setChecked(tag in value)
            return
        editor = self.editors[dimension]
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(value)))
        elif isinstance(editor, QLineEdit):
            editor.setText(str(value))

    def values(self) -> dict[str, JsonValue]:
        """The final label as the editors hold it."""
        assert self.case is not None
        out: dict[str, JsonValue] = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QComboBox):
                data = editor.currentData()
                if data is not None:
                    out[name] = data
            elif isinstance(editor, QLineEdit) and editor.text().strip():
                out[name] = editor.text().strip()
        taxonomy = self.case.rubric.taxonomy
        if taxonomy is not None:
            out[taxonomy.name] = [tag for tag, box in self.tags.items() if box.isChecked()]
        return out

    def save(self) -> None:
        if self.case is None:
            return
        self.problem.clear()
        self.buttons.setEnabled(False)
        self.runner.run(
            adjudicate,
            self.ws,
            self.case,
            self.lead,
            self.values(),
            on_done=self._saved,
            on_error=self._not_saved,
        )

    def _saved(self, review: Review) -> None:
        self.buttons.setEnabled(True)
        self.adjudicated.emit(review.uid)
        self.accept()

    def _not_saved(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.problem.setText(f"Not recorded: {exc}")
