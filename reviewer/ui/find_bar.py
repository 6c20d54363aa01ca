"""Find in session (Ctrl+F): a slim bar under the transcript."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QTextCursor, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPlainTextEdit, QToolButton, QWidget

from reviewer.ui.messages import plain_label


class FindBar(QWidget):
    """Searches the transcript; Enter finds the next match, Shift+Enter the previous one."""

    def __init__(self, view: QPlainTextEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Find in session")
        self.edit.setClearButtonEnabled(True)
        self.edit.installEventFilter(self)
        self.result = plain_label()
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        prev = QToolButton()
        prev.setText("▲")
        prev.setToolTip("Previous match (Shift+Enter)")
        prev.clicked.connect(lambda: self.find_text(backward=True))
        nxt = QToolButton()
        nxt.setText("▼")
        nxt.setToolTip("Next match (Enter)")
        nxt.clicked.connect(lambda: self.find_text(backward=False))
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Close (Esc)")
        close.clicked.connect(self.close_bar)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for w in (self.edit, prev, nxt, self.result, close):
            layout.addWidget(w)
        self.hide()

    def open_bar(self) -> None:
        self.show()
        self.edit.setFocus()
        self.edit.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self.view.setFocus()

    def find_text(self, *, backward: bool = False) -> bool:
        """Select the next match after the cursor, wrapping around at the end."""
        text = self.edit.text()
        if not text:
            self.result.clear()
            return False
        flags = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
        found = self.view.find(text, flags)
        if not found:
            cur = self.view.textCursor()
            cur.movePosition(
                QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start
            )
            self.view.setTextCursor(cur)
            found = self.view.find(text, flags)
        self.result.setText("" if found else "No match")
        return found

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.edit
            and isinstance(event, QKeyEvent)
            and (event.type() == QEvent.Type.KeyPress)
        ):
            if event.key() == Qt.Key.Key_Escape:
                self.close_bar()
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                self.find_text(backward=shift)
                return True
        return super().eventFilter(watched, event)
