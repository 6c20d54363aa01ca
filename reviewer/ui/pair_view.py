"""Two transcripts side by side, each under its header, scrolled step to step together."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from reviewer.domain.session import Session
from reviewer.ui.messages import plain_label
from reviewer.ui.transcript import TranscriptView
from reviewer.ui.transcript_plan import Card


class PairView(QWidget):
    """The left and the right session of a pair; scrolling one brings the other to the
    same step (step-aligned scrolling)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left = TranscriptView()
        self.right = TranscriptView()
        self.left_header = plain_label()
        self.right_header = plain_label()
        self._syncing = False
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for header, view in ((self.left_header, self.left), (self.right_header, self.right)):
            header.setTextFormat(Qt.TextFormat.PlainText)
            header.setWordWrap(True)
            header.setContentsMargins(6, 4, 6, 4)
            column = QVBoxLayout()
            column.addWidget(header)
            column.addWidget(view, 1)
            row.addLayout(column, 1)
        self.left.verticalScrollBar().valueChanged.connect(lambda _: self._follow(self.left))
        self.right.verticalScrollBar().valueChanged.connect(lambda _: self._follow(self.right))

    def show_pair(
        self,
        left: tuple[str, Session, list[Card]],
        right: tuple[str, Session, list[Card]],
    ) -> None:
        """Show (header, session, cards) on each side; headers are plain text."""
        for (header, session, cards), label, view in (
            (left, self.left_header, self.left),
            (right, self.right_header, self.right),
        ):
            label.setText(header)
            view.show_session(session, cards)

    def top_step(self, view: TranscriptView) -> int | None:
        """The step at the top of ``view``'s viewport."""
        return view.step_at(view.cursorForPosition(QPoint(4, 4)).position())

    def _follow(self, source: TranscriptView) -> None:
        if self._syncing:
            return
        other = self.right if source is self.left else self.left
        step = self.top_step(source)
        start = None if step is None else other.step_start(step)
        if start is None:
            return
        self._syncing = True
        try:
            # A plain-text view scrolls by (wrapped) lines: the step's first line.
            line = other.document().findBlock(start).firstLineNumber()
            other.verticalScrollBar().setValue(line)
        finally:
            self._syncing = False
