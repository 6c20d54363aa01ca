"""The audit trail of one session: every change to its reviews, oldest first."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.pack import AuditRecord
from reviewer.services.audit import describe_change
from reviewer.ui.messages import plain_label


class HistoryDialog(QDialog):
    COLUMNS = ("When (UTC)", "Who", "Action", "Review", "What changed")

    def __init__(self, session_key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"History of session {session_key}")
        v = QVBoxLayout(self)
        self.summary = plain_label("Loading…")
        v.addWidget(self.summary)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        v.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        v.addWidget(buttons)
        self.resize(860, 420)

    def set_records(self, records: list[AuditRecord]) -> None:
        self.table.setRowCount(len(records))
        for r, rec in enumerate(records):
            cells = (
                f"{rec.at:%Y-%m-%d %H:%M:%S}",
                rec.actor,
                rec.action,
                (rec.review_uid or "")[:8],
                describe_change(rec),
            )
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        n = len(records)
        self.summary.setText(
            f"{n} change{'s' if n != 1 else ''} to the reviews of this session "
            "(append-only: nothing here can be edited or deleted)."
            if n
            else "No review of this session has been saved yet."
        )
