"""A small horizontal bar chart drawn with QPainter: stacked segments, 95 % whiskers, and bars
that can be clicked (or chosen by keyboard) to ask for the sessions behind them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from reviewer.render import svg

ROW = 24
TITLE = 22


@dataclass
class Bar(svg.Bar):
    """One row of the chart (the report's bar, clickable). Texts are drawn as plain text."""

    payload: Any = None
    """What a click on the bar emits (None: the bar is not clickable)."""
    tooltip: str = ""


class BarChart(QWidget):
    """Horizontal bars, one per row, with a title."""

    bar_clicked = Signal(object)
    """A clickable bar was clicked or activated with Enter: its payload."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.bars: list[Bar] = []
        self.maximum: float | None = None
        self.current = -1
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_bars(self, bars: list[Bar], *, maximum: float | None = None) -> None:
        self.bars = bars
        self.maximum = maximum
        self.current = -1
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(480, TITLE + ROW * max(1, len(self.bars)) + 8)

    def minimumSizeHint(self) -> QSize:
        return QSize(240, self.sizeHint().height())

    # geometry
    def _columns(self) -> tuple[int, int, int]:
        """x of the bar area, its width, and the width kept for the text after a bar."""
        w = self.width()
        label_w = min(200, max(80, w // 3))
        text_w = min(150, max(70, w // 5))
        return label_w + 8, max(40, w - label_w - 8 - text_w - 8), text_w

    def _scale(self) -> float:
        top = self.maximum or max([max(b.value, b.high or 0.0) for b in self.bars] + [1e-9])
        return top if top > 0 else 1.0

    def bar_rect(self, index: int) -> QRect:
        """Where bar ``index`` is drawn (its full row width for empty bars)."""
        x0, width, _ = self._columns()
        b = self.bars[index]
        w = max(3, round(width * b.value / self._scale()))
        return QRect(x0, TITLE + index * ROW + 4, w, ROW - 8)

    def bar_at(self, pos: QPoint) -> int | None:
        row = (pos.y() - TITLE) // ROW
        if pos.y() < TITLE or not 0 <= row < len(self.bars):
            return None
        return int(row)

    # painting
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = p.fontMetrics()
        palette = self.palette()
        text_colour = palette.windowText().color()
        bold = p.font()
        bold.setBold(True)
        p.save()
        p.setFont(bold)
        p.drawText(QRect(0, 0, self.width(), TITLE), Qt.AlignmentFlag.AlignVCenter, self.title)
        p.restore()
        if not self.bars:
            p.setPen(palette.placeholderText().color())
            p.drawText(QRect(0, TITLE, self.width(), ROW), Qt.AlignmentFlag.AlignVCenter, "No data")
            return
        x0, width, text_w = self._columns()
        scale = self._scale()
        for i, b in enumerate(self.bars):
            y = TITLE + i * ROW
            if i == self.current and self.hasFocus():
                p.fillRect(QRect(0, y, self.width(), ROW), palette.highlight().color().lighter(170))
            label = fm.elidedText(b.label, Qt.TextElideMode.ElideRight, x0 - 12)
            p.setPen(text_colour)
            p.drawText(
                QRect(0, y, x0 - 8, ROW),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                label,
            )
            x = float(x0)
            for value, colour, _name in b.segments or [(b.value, b.colour, "")]:
                w = width * max(0.0, value) / scale
                p.fillRect(QRect(round(x), y + 4, max(1, round(w)), ROW - 8), QColor(colour))
                x += w
            if b.low is not None and b.high is not None:
                p.setPen(QPen(text_colour, 1))
                x1 = x0 + round(width * b.low / scale)
                x2 = x0 + round(width * b.high / scale)
                mid = y + ROW // 2
                p.drawLine(x1, mid, x2, mid)
                p.drawLine(x1, mid - 5, x1, mid + 5)
                p.drawLine(x2, mid - 5, x2, mid + 5)
            end = x0 + round(width * max(b.value, b.high or 0.0) / scale) + 6
            p.setPen(text_colour)
            shown = fm.elidedText(b.text or f"{b.value:g}", Qt.TextElideMode.ElideRight, text_w)
            p.drawText(QRect(end, y, text_w + 8, ROW), Qt.AlignmentFlag.AlignVCenter, shown)

    # interaction
    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        i = self.bar_at(event.position().toPoint())
        clickable = i is not None and self.bars[i].payload is not None
        self.setCursor(
            Qt.CursorShape.PointingHandCursor if clickable else Qt.CursorShape.ArrowCursor
        )
        if i is not None:
            b = self.bars[i]
            tip = b.tooltip or f"{b.label}: {b.text or f'{b.value:g}'}"
            if clickable:
                tip += "\nClick to list these sessions"
            QToolTip.showText(event.globalPosition().toPoint(), tip, self)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            i = self.bar_at(event.position().toPoint())
            if i is not None:
                self.current = i
                self.update()
                self._activate(i)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.bars:
            step = 1 if key == Qt.Key.Key_Down else -1
            self.current = max(0, min(len(self.bars) - 1, self.current + step))
            self.update()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and 0 <= self.current < len(self.bars):
            self._activate(self.current)
            return
        super().keyPressEvent(event)

    def _activate(self, index: int) -> None:
        payload = self.bars[index].payload
        if payload is not None:
            self.bar_clicked.emit(payload)
