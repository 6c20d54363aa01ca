"""A small horizontal bar chart drawn with QPainter: stacked segments, 95 % whiskers, and bars
that can be clicked (or chosen by keyboard) to ask for the sessions behind them."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from reviewer.render import svg

ROW = 24
TITLE = 22


def _titled(widget: QWidget, title: str, has_data: bool) -> QPainter | None:
    """A painter on ``widget`` that has drawn its bold title; None (after saying "No data")
    when there is nothing to draw."""
    p = QPainter(widget)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    bold = p.font()
    bold.setBold(True)
    p.save()
    p.setFont(bold)
    p.drawText(QRect(0, 0, widget.width(), TITLE), Qt.AlignmentFlag.AlignVCenter, title)
    p.restore()
    if has_data:
        return p
    p.setPen(widget.palette().placeholderText().color())
    p.drawText(QRect(0, TITLE, widget.width(), ROW), Qt.AlignmentFlag.AlignVCenter, "No data")
    p.end()
    return None


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
        p = _titled(self, self.title, bool(self.bars))
        if p is None:
            return
        fm = p.fontMetrics()
        palette = self.palette()
        text_colour = palette.windowText().color()
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


@dataclass
class Point:
    """One period of a line chart: its value with a 95 % interval; ``marked`` draws it as a
    change point (it differs from the baseline beyond both intervals)."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    marked: bool = False
    tooltip: str = ""


LINE_HEIGHT = 170
_LEFT, _RIGHT, _BOTTOM = 52, 44, 34  # room for half the last date label
MARK_COLOUR = "#c0392b"


class LineChart(QWidget):
    """Values over ordered periods joined by a line, each with its 95 % whisker; change
    points are drawn as red rings. A fixed height, so a new series never relays out the
    page around it."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.points: list[Point] = []
        self.maximum = 1.0
        self.unit = ""
        self.colour = svg.PALETTE[0]
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(LINE_HEIGHT)

    def set_points(
        self, points: list[Point], *, maximum: float | None = None, unit: str = ""
    ) -> None:
        self.points = points
        top = max([max(p.value, p.high or 0.0) for p in points] + [1e-9])
        self.maximum = maximum if maximum is not None else top
        self.unit = unit
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(480, LINE_HEIGHT)

    def point_xy(self, index: int) -> QPoint:
        """Where point ``index`` is drawn."""
        n = len(self.points)
        plot_w = max(40, self.width() - _LEFT - _RIGHT)
        plot_h = LINE_HEIGHT - TITLE - _BOTTOM
        x = _LEFT + (plot_w * index / (n - 1) if n > 1 else plot_w / 2)
        v = min(self.points[index].value, self.maximum) / (self.maximum or 1.0)
        return QPoint(round(x), round(TITLE + plot_h * (1 - v)))

    def _y(self, value: float) -> int:
        plot_h = LINE_HEIGHT - TITLE - _BOTTOM
        return round(TITLE + plot_h * (1 - min(max(value, 0.0), self.maximum) / self.maximum))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = _titled(self, self.title, bool(self.points))
        if p is None:
            return
        palette = self.palette()
        text_colour = palette.windowText().color()
        base = LINE_HEIGHT - _BOTTOM
        p.setPen(QPen(palette.mid().color(), 1))
        p.drawLine(_LEFT, base, self.width() - _RIGHT, base)
        p.setPen(text_colour)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        p.drawText(QRect(0, TITLE - 8, _LEFT - 6, 16), right, f"{self.maximum:.3g}{self.unit}")
        p.drawText(QRect(0, base - 8, _LEFT - 6, 16), right, f"0{self.unit}")
        xy = [self.point_xy(i) for i in range(len(self.points))]
        colour = QColor(self.colour)
        p.setPen(QPen(colour, 2))
        for a, b in pairwise(xy):
            p.drawLine(a, b)
        fm = p.fontMetrics()
        every = max(1, (fm.horizontalAdvance("2026-09-01") + 12) * len(xy) // max(1, self.width()))
        for i, (pt, at) in enumerate(zip(self.points, xy, strict=True)):
            if pt.low is not None and pt.high is not None:
                p.setPen(QPen(text_colour, 1))
                y1, y2 = self._y(pt.low), self._y(pt.high)
                p.drawLine(at.x(), y1, at.x(), y2)
                p.drawLine(at.x() - 4, y1, at.x() + 4, y1)
                p.drawLine(at.x() - 4, y2, at.x() + 4, y2)
            if pt.marked:
                p.setPen(QPen(QColor(MARK_COLOUR), 2))
                p.setBrush(QColor(MARK_COLOUR))
                p.drawEllipse(at, 5, 5)
            else:
                p.setPen(QPen(colour, 1))
                p.setBrush(colour)
                p.drawEllipse(at, 3, 3)
            p.setBrush(Qt.BrushStyle.NoBrush)
            if i % every == 0:
                p.setPen(text_colour)
                p.drawText(
                    QRect(at.x() - 45, base + 2, 90, _BOTTOM - 4),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    pt.label,
                )

    def point_at(self, pos: QPoint) -> int | None:
        best, where = 12 * 12, None
        for i in range(len(self.points)):
            d = pos - self.point_xy(i)
            if d.x() * d.x() + d.y() * d.y() <= best:
                best, where = d.x() * d.x() + d.y() * d.y(), i
        return where

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        i = self.point_at(event.position().toPoint())
        if i is not None:
            pt = self.points[i]
            QToolTip.showText(event.globalPosition().toPoint(), pt.tooltip or pt.label, self)
        super().mouseMoveEvent(event)
