"""Two versions of a review side by side, and the dialogs that choose between them.

Used when a save finds the review changed elsewhere (team mode) and when a lead settles the
conflicts a merge kept (File → Resolve conflicts). Every value is shown as plain text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.review import Review
from reviewer.domain.rubric import Rubric
from reviewer.services.conflicts import Choice, OpenConflict
from reviewer.ui.messages import plain_label


def _shown(rubric: Rubric | None, name: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    dim = rubric.dimension(name) if rubric is not None else None
    if dim is not None and isinstance(value, str):
        opt = dim.option(value)
        if opt is not None:
            return f"{opt.label} ({value})" if opt.label != value else value
    if isinstance(value, list):
        labels = []
        for v in value:
            opt = dim.option(str(v)) if dim is not None else None
            labels.append(opt.label if opt is not None else str(v))
        return ", ".join(labels)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def compare_rows(a: Review, b: Review, rubric: Rubric | None) -> list[tuple[str, str, str]]:
    """(field, a, b) for the status, every dimension either has, the step and the reason."""
    rows = [("Status", a.status.value, b.status.value)]
    names = [d.name for d in rubric.dimensions] if rubric is not None else []
    names += sorted((set(a.values) | set(b.values)) - set(names))
    for name in names:
        dim = rubric.dimension(name) if rubric is not None else None
        label = dim.label if dim is not None else name
        rows.append(
            (
                label,
                _shown(rubric, name, a.values.get(name)),
                _shown(rubric, name, b.values.get(name)),
            )
        )
    rows.append(
        ("Failure step", _shown(None, "", a.failure_step), _shown(None, "", b.failure_step))
    )
    rows.append(("Reason", _shown(None, "", a.status_reason), _shown(None, "", b.status_reason)))
    when = [f"{r.updated_at:%Y-%m-%d %H:%M:%S} UTC" if r.updated_at else "—" for r in (a, b)]
    rows.append(("Last changed", when[0], when[1]))
    return rows


class ReviewCompare(QTableWidget):
    """Field by field, two versions; rows that differ are highlighted."""

    def __init__(self, left: str, right: str, parent: QWidget | None = None) -> None:
        super().__init__(0, 3, parent)
        self.setHorizontalHeaderLabels(["", left, right])
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

    def show_pair(self, a: Review, b: Review, rubric: Rubric | None) -> None:
        rows = compare_rows(a, b, rubric)
        self.setRowCount(len(rows))
        mark = QBrush(self.palette().color(QPalette.ColorRole.Highlight).lighter(170))
        if self.palette().color(QPalette.ColorRole.Base).lightness() < 128:
            mark = QBrush(QColor(90, 70, 20))
        for r, (name, x, y) in enumerate(rows):
            cells = [QTableWidgetItem(name), QTableWidgetItem(x), QTableWidgetItem(y)]
            differs = x != y and name != "Last changed"
            for c, cell in enumerate(cells):
                if differs:
                    cell.setBackground(mark)
                self.setItem(r, c, cell)
        self.resizeRowsToContents()


class SaveConflictDialog(QDialog):
    """A save found the review changed elsewhere: keep mine (overwrite knowingly) or use
    the stored version. Closing the dialog keeps the edit in the form, unsaved."""

    chosen = Signal(str)
    """"mine" or "theirs"."""

    def __init__(
        self, mine: Review, stored: Review | None, rubric: Rubric, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("This review was changed elsewhere")
        v = QVBoxLayout(self)
        text = plain_label(
            "Someone saved this review (in another window or on another computer) after you "
            "opened it. Nothing was overwritten. Choose the version to keep."
        )
        text.setWordWrap(True)
        v.addWidget(text)
        self.table = ReviewCompare("Yours (not saved)", "Saved elsewhere")
        if stored is not None:
            self.table.show_pair(mine, stored, rubric)
        v.addWidget(self.table, 1)
        buttons = QDialogButtonBox()
        self.keep_mine = buttons.addButton("Keep &mine", QDialogButtonBox.ButtonRole.AcceptRole)
        self.use_theirs = buttons.addButton(
            "Use the &saved one", QDialogButtonBox.ButtonRole.RejectRole
        )
        self.use_theirs.setEnabled(stored is not None)
        self.keep_mine.clicked.connect(lambda: self._choose("mine"))
        self.use_theirs.clicked.connect(lambda: self._choose("theirs"))
        v.addWidget(buttons)
        self.resize(640, 420)

    def _choose(self, which: str) -> None:
        self.chosen.emit(which)
        self.accept()


class ConflictsDialog(QDialog):
    """The lead's list of conflicts kept by merges, each settled by choosing a version."""

    resolve = Signal(str, str)
    """(kept uid, "current" or "kept"): the main window runs it on a worker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Resolve conflicts")
        self.conflicts: list[OpenConflict] = []
        v = QVBoxLayout(self)
        self.summary = plain_label()
        self.summary.setWordWrap(True)
        v.addWidget(self.summary)
        h = QHBoxLayout()
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._show)
        h.addWidget(self.list, 1)
        self.table = ReviewCompare("In use", "Kept by the merge")
        h.addWidget(self.table, 2)
        v.addLayout(h, 1)
        row = QHBoxLayout()
        self.use_current = QPushButton("Keep the version &in use")
        self.use_kept = QPushButton("Use the &kept version")
        self.use_current.clicked.connect(lambda: self._resolve("current"))
        self.use_kept.clicked.connect(lambda: self._resolve("kept"))
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        row.addWidget(self.use_current)
        row.addWidget(self.use_kept)
        row.addStretch(1)
        row.addWidget(close)
        v.addLayout(row)
        self.resize(900, 480)

    def set_conflicts(self, conflicts: list[OpenConflict]) -> None:
        self.conflicts = conflicts
        self.list.clear()
        for c in conflicts:
            cur = c.current
            diff = ", ".join(c.differences()) or "same labels"
            item = QListWidgetItem(
                f"{cur.session_key} · {cur.reviewer} · {cur.batch or 'no batch'}\n  differs: {diff}"
            )
            item.setData(Qt.ItemDataRole.UserRole, c.kept_uid)
            self.list.addItem(item)
        n = len(conflicts)
        self.summary.setText(
            "No conflicts to resolve: every merged review fits."
            if n == 0
            else f"{n} conflict{'s' if n != 1 else ''}: the same reviewer's review of the same "
            "item was changed in two places. Neither version is deleted; the one you keep is "
            "the one analytics and exports count."
        )
        for b in (self.use_current, self.use_kept):
            b.setEnabled(n > 0)
        if n:
            self.list.setCurrentRow(0)
        else:
            self.table.setRowCount(0)

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.conflicts):
            c = self.conflicts[row]
            self.table.show_pair(c.current, c.kept, c.rubric)

    def _resolve(self, use: Choice) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.conflicts):
            for b in (self.use_current, self.use_kept):
                b.setEnabled(False)
            self.resolve.emit(self.conflicts[row].kept_uid, use)
