"""The transcript: one card per step, shown as inert plain text with light styling.

Nothing in a session is interpreted as markup and nothing is loaded from it: the view is a
``QPlainTextEdit`` filled through ``QTextCursor.insertText``. Long sessions are inserted a
slice at a time so the first steps paint at once and the window stays responsive: the first
slice is about a screenful, each later one as many cards as fit in :data:`SLICE_SECONDS` of
one turn of the event loop (the plan itself is built on a worker).
"""

from __future__ import annotations

import time
from bisect import bisect_right
from dataclasses import dataclass

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QDesktopServices,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QMouseEvent,
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from reviewer.domain.session import Role, Session
from reviewer.ui.messages import Icon, ask, inform
from reviewer.ui.transcript_plan import Card, Style, build_card

SLICE_SECONDS = 0.008
"""Time spent inserting cards per turn of the event loop while a long session fills in:
well under a frame, so scrolling, typing and painting go on meanwhile."""
FIRST_SLICE_CHARS = 6_000
"""The first slice: about a screenful, so the first paint comes at once."""
SAFE_SCHEMES = {"http", "https", "mailto"}

_HUES = {Role.SYSTEM: 45, Role.USER: 210, Role.ASSISTANT: 140, Role.TOOL: 280}


@dataclass
class _Placed:
    card: Card
    start: int
    """Document position of the header."""
    body_start: int
    end: int


def _tint(base: QColor, hue: int, strength: float) -> QColor:
    dark = base.lightnessF() < 0.5
    lightness = 0.20 + 0.06 * strength if dark else 0.97 - 0.05 * strength
    sat = 0.35 if dark else 0.55
    return QColor.fromHslF(hue / 360, sat, lightness)


class TranscriptView(QPlainTextEdit):
    """Read-only, plain-text transcript with clickable step cards."""

    step_clicked = Signal(int)
    """The reviewer clicked inside the card of this step."""
    rendered = Signal()
    """Every card of the current session is in the document."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTextInteractionFlags(
            self.textInteractionFlags() | self.textInteractionFlags().TextSelectableByKeyboard
        )
        self.setPlaceholderText("Select a session to read its transcript.")
        self.session: Session | None = None
        self._placed: list[_Placed] = []
        self._starts: list[int] = []
        self._pending: list[Card] = []
        self._generation = 0
        self._more = False
        """Cards of later steps are still being built (see :meth:`add_cards`)."""
        self._next_slice = QTimer(self)
        """A timer, not a posted call: Qt runs calls posted meanwhile in the same turn of the
        event loop, so slices queued that way ran back to back, 20–30 ms without a break."""
        self._next_slice.setSingleShot(True)
        self._next_slice.setInterval(0)
        self._next_slice.timeout.connect(lambda: self._insert_slice(self._generation))
        self._format_cache: dict[
            tuple[int, bool], tuple[QTextBlockFormat, QTextBlockFormat, QTextCharFormat]
        ] = {}
        self._marked: int | None = None
        self._verdicts: dict[int, str] = {}
        """Step → "good", "partly" or "wrong": the step verdicts given, shown on the headers."""
        self._fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.confirm_link = self._confirm_link
        """Asked before a link opens; returns True to open it (tests replace it)."""
        self._viewport = self.viewport()
        """Asked for once here: the binding's first ``viewport()`` in a process takes 6–12 ms,
        which otherwise fell in a slice of the first long session to fill in."""

    # Filling the document
    def show_session(
        self, session: Session | None, cards: list[Card] | None = None, *, more: bool = False
    ) -> None:
        """Show ``session`` as ``cards`` (built on a worker with ``build_plan``); with
        ``more``, the cards of the later steps follow through :meth:`add_cards`."""
        self._generation += 1
        self._more = more and session is not None
        self.session = session
        self._placed.clear()
        self._starts.clear()
        self._marked = None
        self._verdicts = {}
        self._format_cache.clear()  # the palette may have changed since the last session
        self.setExtraSelections([])
        self.document().clear()
        self._pending = list(reversed(cards or []))
        self._next_slice.stop()
        self._insert_slice(self._generation, FIRST_SLICE_CHARS)

    def add_cards(self, session: Session, cards: list[Card]) -> None:
        """The cards of the remaining steps of ``session`` (dropped if another session is
        shown meanwhile)."""
        if session is not self.session or not self._more:
            return
        self._more = False
        self._pending[:0] = reversed(cards)
        # on the timer, not now: the worker's result is delivered in a turn of the event loop
        # already busy with the first paint of the session (a slice more made it 8 ms longer)
        self._next_slice.start()

    @property
    def complete(self) -> bool:
        return not self._pending and not self._more

    def _insert_slice(self, generation: int, chars: int | None = None) -> None:
        """Insert cards for ``chars`` characters, or else for :data:`SLICE_SECONDS`."""
        if generation != self._generation:
            return  # another session replaced this one meanwhile
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        # Cards added below the visible part need no repaint, only a longer scroll bar: the
        # layout asks for a repaint of the whole view on any change, which with long wrapped
        # lines cost 3–10 ms per slice.
        layout = self.document().documentLayout()
        quiet = chars is None and not self._end_visible()
        layout.blockSignals(quiet)
        cursor.beginEditBlock()
        deadline = time.perf_counter() + SLICE_SECONDS
        budget = chars if chars is not None else 0
        while self._pending:
            card = self._pending.pop()
            self._place(cursor, card)
            if chars is not None:
                budget -= len(card.body) + len(card.header)
                if budget <= 0:
                    break
            elif time.perf_counter() >= deadline:
                break
        cursor.endEditBlock()
        if quiet:
            layout.blockSignals(False)
            layout.documentSizeChanged.emit(layout.documentSize())
        if self._pending:
            self._next_slice.start()
        elif not self._more:
            if self._marked is not None:
                self.mark_step(self._marked)
            self.rendered.emit()

    def _end_visible(self) -> bool:
        """The end of the document shows (within a screenful below the view)."""
        last = self.document().lastBlock()
        top = self.blockBoundingGeometry(last).translated(self.contentOffset()).top()
        return top < 2 * self._viewport.height()

    def _formats(self, card: Card) -> tuple[QTextBlockFormat, QTextBlockFormat, QTextCharFormat]:
        hue = 0 if card.is_error else _HUES.get(card.role, 0)
        key = (hue, card.is_error)
        cached = self._format_cache.get(key)
        if cached is None:
            cached = self._format_cache[key] = self._make_formats(hue, card.is_error)
        return cached

    def _make_formats(
        self, hue: int, is_error: bool
    ) -> tuple[QTextBlockFormat, QTextBlockFormat, QTextCharFormat]:
        base = self.palette().color(QPalette.ColorRole.Base)
        head_block = QTextBlockFormat()
        head_block.setBackground(QBrush(_tint(base, hue, 2.0)))
        head_block.setTopMargin(0)
        body_block = QTextBlockFormat()
        body_block.setBackground(QBrush(_tint(base, hue, 0.6)))
        head_char = QTextCharFormat()
        head_char.setFontWeight(QFont.Weight.Bold)
        if is_error:
            head_char.setForeground(QBrush(QColor.fromHslF(0, 0.7, 0.45)))
        return head_block, body_block, head_char

    def _place(self, cursor: QTextCursor, card: Card) -> None:
        head_block, body_block, head_char = self._formats(card)
        plain = QTextCharFormat()
        if self._placed:
            cursor.insertBlock(QTextBlockFormat(), plain)  # space between cards
            cursor.insertBlock(head_block, head_char)
        else:
            cursor.setBlockFormat(head_block)
        start = cursor.position()
        cursor.insertText(card.header, head_char)
        cursor.insertBlock(body_block, plain)
        body_start = cursor.position()
        cursor.insertText(card.body, plain)
        end = cursor.position()
        self._style_spans(card, body_start)
        self._placed.append(_Placed(card, start, body_start, end))
        self._starts.append(start)

    def _style_spans(self, card: Card, body_start: int) -> None:
        if not card.spans:
            return
        link = self.palette().color(QPalette.ColorRole.Link)
        c = QTextCursor(self.document())
        for span in card.spans:
            fmt = QTextCharFormat()
            if span.style is Style.CODE:
                fmt.setFontFamilies([self._fixed.family()])
            elif span.style in (Style.BOLD, Style.HEADING):
                fmt.setFontWeight(QFont.Weight.Bold)
            elif span.style is Style.LINK:
                fmt.setFontUnderline(True)
                fmt.setForeground(QBrush(link))
            elif span.style is Style.NOTE:
                fmt.setFontItalic(True)
                fmt.setForeground(QBrush(link))
            c.setPosition(body_start + span.start)
            c.setPosition(body_start + span.end, QTextCursor.MoveMode.KeepAnchor)
            c.mergeCharFormat(fmt)

    # Steps
    def step_at(self, position: int) -> int | None:
        i = bisect_right(self._starts, position) - 1
        return self._placed[i].card.step if 0 <= i < len(self._placed) else None

    def step_start(self, step: int) -> int | None:
        """Document position of the step's header (None if not shown yet)."""
        return self._placed[step].start if 0 <= step < len(self._placed) else None

    def step_text(self, step: int) -> str:
        """Everything the step holds (folded or not), for copying."""
        return self._placed[step].card.source_text if 0 <= step < len(self._placed) else ""

    def set_verdicts(self, verdicts: dict[int, str]) -> None:
        """Tint the headers of steps given a verdict ("good", "partly" or "wrong")."""
        self._verdicts = dict(verdicts)
        self.mark_step(self._marked)

    def _header_selection(self, step: int, color: QColor) -> QTextEdit.ExtraSelection:
        sel = QTextEdit.ExtraSelection()
        cur = QTextCursor(self.document())
        cur.setPosition(self._placed[step].start)
        sel.cursor = cur
        fmt = QTextCharFormat()
        fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
        fmt.setBackground(QBrush(color))
        sel.format = fmt
        return sel

    def mark_step(self, step: int | None) -> None:
        """Highlight the header of the step marked as where it went wrong (the step
        cursor), over the tints of the step verdicts."""
        self._marked = step
        hues = {"good": (0.33, 0.30), "partly": (0.12, 0.35), "wrong": (0.0, 0.30)}
        selections = [
            self._header_selection(i, QColor.fromHslF(hues[v][0], 0.7, 0.5, hues[v][1]))
            for i, v in sorted(self._verdicts.items())
            if v in hues and 0 <= i < len(self._placed) and i != step
        ]
        if step is not None and 0 <= step < len(self._placed):
            selections.append(self._header_selection(step, QColor.fromHslF(0, 0.75, 0.55, 0.45)))
        self.setExtraSelections(selections)

    def scroll_to_step(self, step: int) -> None:
        if 0 <= step < len(self._placed):
            cur = QTextCursor(self.document())
            cur.setPosition(self._placed[step].start)
            self.setTextCursor(cur)
            self.centerCursor()

    def expand(self, step: int) -> bool:
        """Replace a folded card by its whole text (up to the expanded limit); False when
        the card is not folded (or not all cards are in yet)."""
        if self.session is None or not (0 <= step < len(self._placed)) or not self.complete:
            return False
        placed = self._placed[step]
        if not placed.card.folded:
            return False
        card = build_card(self.session, step, expanded=True)
        cur = QTextCursor(self.document())
        cur.setPosition(placed.body_start)
        cur.setPosition(placed.end, QTextCursor.MoveMode.KeepAnchor)
        cur.insertText(card.body, QTextCharFormat())
        delta = len(card.body) - (placed.end - placed.body_start)
        self._style_spans(card, placed.body_start)
        placed.card = card
        placed.end += delta
        for later in self._placed[step + 1 :]:
            later.start += delta
            later.body_start += delta
            later.end += delta
        self._starts = [p.start for p in self._placed]
        if self._marked is not None:
            self.mark_step(self._marked)
        return True

    # Mouse
    def _span_at(self, position: int) -> tuple[int, Style, str | None] | None:
        i = bisect_right(self._starts, position) - 1
        if not (0 <= i < len(self._placed)):
            return None
        placed = self._placed[i]
        offset = position - placed.body_start
        for span in placed.card.spans:
            if span.style in (Style.NOTE, Style.LINK) and span.start <= offset < span.end:
                return placed.card.step, span.style, span.href
        return None

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if self.textCursor().hasSelection():
            return  # the reviewer was selecting text, not clicking
        position = self.cursorForPosition(event.position().toPoint()).position()
        hit = self._span_at(position)
        if hit is not None and hit[1] is Style.NOTE:
            self.expand(hit[0])
            return
        if hit is not None and hit[2]:
            self.open_link(hit[2])
            return
        step = self.step_at(position)
        if step is not None:
            self.step_clicked.emit(step)

    def open_link(self, href: str) -> bool:
        """Open ``href`` only after the reviewer confirmed it, and only for web/mail links."""
        url = QUrl(href)
        if url.scheme().lower() not in SAFE_SCHEMES:
            inform(
                self,
                Icon.Information,
                "Link not opened",
                "This link is not a web or mail link and is never opened from a session:"
                f"\n\n{href}",
            )
            return False
        if not self.confirm_link(href):
            return False
        return QDesktopServices.openUrl(url)

    def _confirm_link(self, href: str) -> bool:
        return ask(
            self,
            "Open link?",
            f"This link comes from the session and may not be safe. Open it in your browser?"
            f"\n\n{href}",
        )

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.createStandardContextMenu(event.pos())
        step = self.step_at(self.cursorForPosition(event.pos()).position())
        if step is not None:
            menu.addSeparator()
            copy = menu.addAction(f"Copy step #{step}")
            copy.triggered.connect(
                lambda: QGuiApplication.clipboard().setText(self.step_text(step))
            )
            mark = menu.addAction(f"Mark step #{step} as where it went wrong")
            mark.triggered.connect(lambda: self.step_clicked.emit(step))
        menu.exec(event.globalPos())
        menu.deleteLater()
