"""Reviewing a pairwise batch: the pair queue, both transcripts side by side, the preference.

Keys: ``1`` left better, ``2`` right better, ``3`` tie, ``4`` both bad, ``Ctrl+Enter``
submits and opens the next pair to do, ``Alt+Right`` / ``Alt+Left`` move along the queue.
Changes are saved as a draft shortly after the last one. Saves go through the Qt-free
:class:`reviewer.services.review_session.ReviewSession` like single reviews: kept on this
computer while the workspace is out of reach and saved once it is back, retried when they
fail, a kept choice changed elsewhere meanwhile shown beside the stored one. Saves run on
the bench's runner's write lane, in order; pairs open on its read lane after the saves
before them (a save always lands before the next pair is read).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.preference import WINNER_KEYS, Preference, Winner
from reviewer.domain.review import new_review_uid
from reviewer.services.drafts import PairFlushReport
from reviewer.services.preferences import (
    PairItem,
    PairQueue,
    is_pair_batch,
    load_pair_queue,
)
from reviewer.services.review_session import (
    RETRY_FAILED_S,
    FlushOutcome,
    History,
    PairSaveOutcome,
    PreferenceConflict,
    ReviewSession,
    WorkspaceUnavailable,
    pair_key,
)
from reviewer.services.workspaces import Workspace
from reviewer.ui.claim_queue import PairClaims
from reviewer.ui.messages import Icon, message_box, plain_label
from reviewer.ui.offline_banner import OfflineBanner
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


def _prepare(session: ReviewSession, queue: PairQueue, position: int) -> Prepared:
    """On the worker: the pair and both transcript plans."""
    item = session.open_pair(queue, position)
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
        """Saves on the write lane, the queue and pairs on the read lane."""
        self.session = ReviewSession(ws)
        """The save protocol: drafts kept offline, retries, conflicts."""
        self.conflict_box: QMessageBox | None = None
        self.claims: PairClaims | None = None
        """Set for a window's bench: claims of an open pool batch (team mode)."""
        self.queue: PairQueue | None = None
        self.item: PairItem | None = None
        self._wanted: int | None = None
        """The position asked for last (shown, or on its way)."""
        self._opened_at = time.monotonic()
        self._dirty = False
        self._history: History[FormState] | None = None
        """The form's states since the pair was opened, for Ctrl+Z."""
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_draft)
        self.banner = OfflineBanner(self.retry_kept)

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
        layout.setSpacing(0)
        layout.addWidget(self.banner)
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
        self.runner.read(
            load_pair_queue,
            self.ws,
            self.batch,
            self.reviewer,
            key="queue",
            on_done=self._queue_ready,
        )
        self.retry_kept()  # choices kept on this computer by an earlier run

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
        self._open(position)

    def _open(self, position: int) -> None:
        assert self.queue is not None
        self.runner.read(
            _prepare, self.session, self.queue, position, key="open", on_done=self._show
        )

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
        failed = self.session.take_failed(item.position)
        pref = failed if isinstance(failed, Preference) else item.preference
        self.form.fill(
            pref.winner if pref else None,
            pref.dimensions if pref else {},
            pref.rationale if pref else None,
        )
        self.form.setEnabled(True)
        self._history = History(self._state())
        self._dirty = isinstance(failed, Preference)
        if self._dirty:
            self._autosave.start()
        row = self._row(item.position)
        if row >= 0 and self.list.currentRow() != row:
            self.list.blockSignals(True)
            self.list.setCurrentRow(row)
            self.list.blockSignals(False)
        self.pair_shown.emit(item.position)
        self.session.opened(item.position)
        if pair_key(item.batch, item.position) in self.session.conflicted:
            self.retry_kept()  # its kept choice clashes again, now on screen: both shown

    # Editing and saving
    def pick(self, winner: Winner) -> None:
        if self.item is not None and self.form.isEnabled():
            self.form.pick(winner)

    def _state(self) -> FormState:
        return (self.form.winner, self.form.dimensions, self.form.rationale_text)

    def _changed(self) -> None:
        if self._history is not None:
            self._history.record(self._state())
        self._dirty = True
        self._autosave.start()

    def undo(self) -> None:
        """Back to the form as it was before the last change (saved as a draft)."""
        if self.item is None or not self.form.isEnabled() or self._history is None:
            return
        state = self._history.undo()
        if state is None:
            return
        self.form.fill(*state)
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
        self._store(pref, submit=keep)

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
        self._store(pref, submit=True)
        self.session.left(pref.position, "submitted")
        following = self.queue.next_todo(pref.position)
        if following is None:
            self.message.emit("Every pair of this batch is submitted")
        else:
            self._wanted = following
            self._open(following)

    def _store(self, pref: Preference, *, submit: bool) -> None:
        """Save on the write lane; kept locally when the workspace is out of reach, held
        and retried when the save fails."""

        def stored(outcome: PairSaveOutcome) -> None:
            if outcome.kept_locally:
                self._set_offline(True, outcome.message)
                self.message.emit("Kept on this computer: saved when the workspace is back")
                return
            self._saved(outcome.preference)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, WorkspaceUnavailable):
                self._set_offline(True, str(exc))
            self.session.keep_failed(pref.position, pref)
            if self.item is not None and self.item.position == pref.position:
                self._dirty = True
                self._autosave.start(int(RETRY_FAILED_S * 1000))
            self.message.emit(f"Saving failed: {exc}. Your choice is kept and retried.")

        self.runner.write(
            self.session.save_pair, pref, submit=submit, on_done=stored, on_error=failed
        )

    # A workspace out of reach, and choices changed elsewhere meanwhile
    def _set_offline(self, offline: bool, message: str = "") -> None:
        self.session.offline = offline
        self.banner.set_offline(offline, message)

    def retry_kept(self) -> None:
        """Save the choices kept on this computer, now (also runs by itself while offline)."""
        self.runner.write(
            self.session.flush_kept_pairs,
            on_done=self._flushed,
            on_error=lambda e: self._told(self.session.retry_failed(e, pairs=True)),
        )

    def _flushed(self, report: PairFlushReport) -> None:
        for pref in report.saved:
            self._saved(pref)
        outcome = self.session.settle_pairs(report, self.item)
        if isinstance(outcome.show, PreferenceConflict):
            self.runner.write(self.session.discard_kept, outcome.show.attempted.uid)
            self._conflict(outcome.show)
        self._told(outcome)

    def _told(self, outcome: FlushOutcome) -> None:
        self.banner.told(outcome, self.message.emit)

    def _conflict(self, exc: PreferenceConflict) -> None:
        """A kept choice found the stored one changed elsewhere: show both, let choose."""
        mine, theirs = exc.attempted, exc.stored

        def said(p: Preference) -> str:
            winner = p.winner.value.replace("_", " ") if p.winner else "nothing chosen"
            return winner + (f" ({p.rationale})" if p.rationale else "")

        box = message_box(
            self,
            Icon.Question,
            "Changed elsewhere",
            f"Pair {mine.position + 1} was changed elsewhere while your choice was kept on "
            f"this computer.\n\nYours: {said(mine)}\nSaved elsewhere: {said(theirs)}",
        )
        keep = box.addButton("Keep mine", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Use the saved one", QMessageBox.ButtonRole.RejectRole)

        def chosen() -> None:
            self.session.adopt_pair(theirs)
            if box.clickedButton() is keep:  # over the saved one (its uid may differ)
                self._store(mine.model_copy(update={"uid": theirs.uid}), submit=exc.submit)
                return
            if self.item is not None and self.item.position == theirs.position:
                self.item = _with_preference(self.item, theirs)
                self.form.fill(theirs.winner, theirs.dimensions, theirs.rationale)
                self._history = History(self._state())
                self._dirty = False
            self._saved(theirs)

        box.finished.connect(lambda _r: chosen())
        self.conflict_box = box
        box.open()

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
        self.banner.stop()
        self.session.close()
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
