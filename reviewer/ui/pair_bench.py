"""Reviewing a pairwise batch: the pair queue, both transcripts side by side, the preference.

Keys: ``1`` left better, ``2`` right better, ``3`` tie, ``4`` both bad, ``Ctrl+Enter``
submits and opens the next pair to do, ``Alt+Right`` / ``Alt+Left`` move along the queue.
Changes are saved as a draft shortly after the last one; every database trip runs on the
bench's own worker, in order (a save always lands before the next pair is read).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QSplitter, QVBoxLayout, QWidget

from reviewer.domain.preference import WINNER_KEYS, Preference, Winner
from reviewer.domain.review import new_review_uid
from reviewer.services.preferences import (
    PairItem,
    PairQueue,
    is_pair_batch,
    load_pair_queue,
    open_pair,
    save_preference,
)
from reviewer.store.workspace import Workspace
from reviewer.ui.claim_queue import PairClaims
from reviewer.ui.messages import plain_label
from reviewer.ui.pair_form import PairForm
from reviewer.ui.pair_view import PairView
from reviewer.ui.tasks import TaskRunner
from reviewer.ui.transcript_plan import Card, build_plan

if TYPE_CHECKING:
    from reviewer.ui.main_window import MainWindow

AUTOSAVE_MS = 600
IDLE_SECONDS = 60.0

Prepared = tuple[PairItem, list[Card], list[Card]]
FormState = tuple[Winner | None, dict[str, Winner], str]


def _prepare(ws: Workspace, queue: PairQueue, position: int) -> Prepared:
    """On the worker: the pair and both transcript plans."""
    item = open_pair(ws, queue, position)
    return item, build_plan(item.left), build_plan(item.right)


class PairBench(QWidget):
    """Queue, pair view and preference form for one reviewer on one pairwise batch."""

    queue_loaded = Signal(int)
    """The pair queue is shown (number of pairs)."""
    pair_shown = Signal(int)
    """The pair at this batch position is shown and editable."""
    preference_saved = Signal(str, str)
    """A preference was stored (uid, status)."""
    message = Signal(str)
    """A short note for the status bar."""

    def __init__(self, ws: Workspace, reviewer: str, batch: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.ws = ws
        self.reviewer = reviewer
        self.batch = batch
        self.runner = TaskRunner(self)
        self.claims: PairClaims | None = None
        """Set for a window's bench: claims of an open pool batch (team mode)."""
        self.queue: PairQueue | None = None
        self.item: PairItem | None = None
        self._wanted: int | None = None
        """The position asked for last (shown, or on its way)."""
        self._opened_at = time.monotonic()
        self._dirty = False
        self._history: list[FormState] = []
        """The form's states since the pair was opened, for Ctrl+Z."""
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_draft)

        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._row_changed)
        self.counts = plain_label()
        side = QWidget()
        sv = QVBoxLayout(side)
        sv.setContentsMargins(0, 0, 0, 0)
        sv.addWidget(self.counts)
        sv.addWidget(self.list, 1)
        self.view = PairView()
        self.form = PairForm()
        self.form.changed.connect(self._changed)
        self.form.setEnabled(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for w, stretch in ((side, 1), (self.view, 6), (self.form, 2)):
            self.splitter.addWidget(w)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        specs: list[tuple[str, list[str], object]] = [
            ("Submit and next", ["Ctrl+Return", "Ctrl+Enter"], self.submit),
            ("Save draft", ["Ctrl+S"], self.save_draft),
            ("Undo", ["Ctrl+Z"], self.undo),
            ("Next pair", ["Alt+Right"], lambda: self.go(1)),
            ("Previous pair", ["Alt+Left"], lambda: self.go(-1)),
        ]
        for key, winner in WINNER_KEYS.items():
            specs.append((f"Pick: {winner.value}", [key], lambda _=False, w=winner: self.pick(w)))
        for text, keys, slot in specs:
            action = QAction(text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)

    # Queue
    def load(self) -> None:
        self.runner.run(
            load_pair_queue, self.ws, self.batch, self.reviewer, on_done=self._queue_ready
        )

    def _queue_ready(self, queue: PairQueue) -> None:
        self.queue = queue
        self.list.blockSignals(True)
        self.list.clear()
        for e in queue.entries:
            self.list.addItem(QListWidgetItem(self._entry_text(e.position, e.status)))
        self.list.blockSignals(False)
        self._show_counts()
        self.queue_loaded.emit(len(queue.entries))
        first = queue.next_todo(None)
        if first is None and queue.entries:
            first = queue.entries[0].position
        if first is not None:
            self.open_position(first)
            self.list.blockSignals(True)
            self.list.setCurrentRow(self._row(first))  # focus must not pick another row
            self.list.blockSignals(False)
        self.list.setFocus()

    @staticmethod
    def _entry_text(position: int, status: str) -> str:
        return f"Pair {position + 1} — {status}"

    def _show_counts(self) -> None:
        if self.queue is None:
            return
        done = sum(e.status == "submitted" for e in self.queue.entries)
        self.counts.setText(f"{self.batch}: {done:,} of {len(self.queue.entries):,} submitted")

    def _row(self, position: int) -> int:
        assert self.queue is not None
        for i, e in enumerate(self.queue.entries):
            if e.position == position:
                return i
        return -1

    def _row_changed(self, row: int) -> None:
        if self.queue is not None and 0 <= row < len(self.queue.entries):
            position = self.queue.entries[row].position
            if position != self._wanted:
                self.open_position(position)

    # Opening
    def open_position(self, position: int) -> None:
        if self._dirty:
            self.save_draft()
        assert self.queue is not None
        self._wanted = position
        self.runner.run(_prepare, self.ws, self.queue, position, on_done=self._show)

    def _show(self, prepared: Prepared) -> None:
        item, left_cards, right_cards = prepared
        if item.position != self._wanted:
            return  # another pair was asked for meanwhile
        self.item = item
        self._opened_at = time.monotonic()
        self.view.show_pair(
            (item.left_header, item.left, left_cards), (item.right_header, item.right, right_cards)
        )
        self.form.set_dimensions(item.dimensions)
        pref = item.preference
        self.form.fill(
            pref.winner if pref else None,
            pref.dimensions if pref else {},
            pref.rationale if pref else None,
        )
        self.form.setEnabled(True)
        self._history = [self._state()]
        row = self._row(item.position)
        if row >= 0 and self.list.currentRow() != row:
            self.list.blockSignals(True)
            self.list.setCurrentRow(row)
            self.list.blockSignals(False)
        self.pair_shown.emit(item.position)

    # Editing and saving
    def pick(self, winner: Winner) -> None:
        if self.item is not None and self.form.isEnabled():
            self.form.pick(winner)

    def _state(self) -> FormState:
        return (self.form.winner, self.form.dimensions, self.form.rationale_text)

    def _changed(self) -> None:
        state = self._state()
        if not self._history or self._history[-1] != state:
            self._history.append(state)
        self._dirty = True
        self._autosave.start()

    def undo(self) -> None:
        """Back to the form as it was before the last change (saved as a draft)."""
        if self.item is None or not self.form.isEnabled() or len(self._history) < 2:
            return
        self._history.pop()
        self.form.fill(*self._history[-1])
        self._dirty = True
        self._autosave.start()

    def _compose(self) -> Preference:
        assert self.item is not None
        old = self.item.preference
        spent = min(time.monotonic() - self._opened_at, IDLE_SECONDS * 10)
        return Preference(
            uid=old.uid if old else new_review_uid(),
            batch=self.batch,
            position=self.item.position,
            reviewer=self.reviewer,
            winner=self.form.winner,
            dimensions=self.form.dimensions,
            rationale=self.form.rationale_text,
            active_seconds=(old.active_seconds if old else 0.0) + spent,
        )

    def save_draft(self) -> None:
        self._autosave.stop()
        if self.item is None or not self._dirty:
            return
        self._dirty = False
        pref = self._compose()
        keep = self.item.preference is not None and self.item.preference.status == "submitted"
        self.runner.run(save_preference, self.ws, pref, submit=keep, on_done=self._saved)

    def submit(self) -> None:
        if self.item is None or not self.form.isEnabled():
            return
        if self.form.winner is None:
            self.message.emit("Choose first: 1 left, 2 right, 3 tie, 4 both bad")
            return
        self._autosave.stop()
        self._dirty = False
        pref = self._compose()
        self.form.setEnabled(False)
        assert self.queue is not None
        self.queue.mark(pref.position, "submitted")
        self.runner.run(save_preference, self.ws, pref, submit=True, on_done=self._saved)
        following = self.queue.next_todo(pref.position)
        if following is None:
            self.message.emit("Every pair of this batch is submitted")
        else:
            self._wanted = following
            self.runner.run(_prepare, self.ws, self.queue, following, on_done=self._show)

    def _saved(self, pref: Preference) -> None:
        if self.item is not None and self.item.position == pref.position:
            self.item = _with_preference(self.item, pref)
        if self.queue is not None:
            self.queue.mark(pref.position, pref.status)
            row = self._row(pref.position)
            if row >= 0:
                self.list.item(row).setText(self._entry_text(pref.position, pref.status))
        self._show_counts()
        self.preference_saved.emit(pref.uid, pref.status)

    def go(self, delta: int) -> None:
        if self.queue is None or self.item is None:
            return
        row = self._row(self.item.position) + delta
        if 0 <= row < len(self.queue.entries):
            self.open_position(self.queue.entries[row].position)

    def shutdown(self) -> None:
        """Save what is unsaved and stop the worker (before the window closes)."""
        self.save_draft()
        if self.claims is not None:
            self.claims.stop()  # a pool's pair held goes back
        self.runner.shutdown(finish_pending=True)


def _with_preference(item: PairItem, pref: Preference) -> PairItem:
    from dataclasses import replace

    return replace(item, preference=pref)


def review_pairs_if_any(window: MainWindow, ws: Workspace) -> None:
    """If the window's batch is pairwise (checked on its worker), put a :class:`PairBench`
    in its centre instead of the single-review workbench (kept, hidden), as
    ``window.pairs``."""
    reviewer, batch = window.reviewer, window.batch
    assert batch is not None

    def swap(yes: bool) -> None:
        if window.workspace is not ws:
            return
        previous: PairBench | None = getattr(window, "pairs", None)
        if previous is not None:  # another reviewer or workspace: start afresh
            previous.shutdown()
            window.takeCentralWidget()
            previous.deleteLater()
            window.pairs = None  # type: ignore[attr-defined]
            window.setCentralWidget(window.bench)
            window.bench.show()
            for action in window.bench.actions_:
                action.setEnabled(True)
        if not yes:
            return
        old = window.takeCentralWidget()
        if old is not None:
            old.setParent(window)
            old.hide()
        for action in window.bench.actions_:  # the same keys now act on the pair
            action.setEnabled(False)
        bench = PairBench(ws, reviewer, batch, window)
        bench.message.connect(lambda m: window.statusBar().showMessage(m, 8_000))
        window.setCentralWidget(bench)
        window.pairs = bench  # type: ignore[attr-defined]  # read by its closeEvent
        bench.claims = PairClaims(bench)  # loads the queue (an open pool: once claimed)

    window.runner.run(is_pair_batch, ws, batch, on_done=swap)
