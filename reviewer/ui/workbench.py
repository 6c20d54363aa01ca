"""The review workbench: queue on the left, transcript in the middle, rubric form on the right.

The save protocol (versions, drafts kept offline, retries, conflicts) is the Qt-free
:class:`reviewer.services.review_session.ReviewSession`; this widget drives it and renders.
Every database trip runs on the bench's :class:`reviewer.ui.tasks.TaskRunner`: saves on its
write lane (in order), queue, list pages and items on its read lane (after the saves before
them, so a save always lands before the item is read again; a stale open is dropped).
Changes are saved as a draft within a second; submit-and-next uses the next item fetched
ahead while the reviewer was reading the current one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QKeyCombination,
    QModelIndex,
    QObject,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QInputEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.review import Review, ReviewStatus
from reviewer.domain.session import Session
from reviewer.domain.suggestions import outcomes, suggest
from reviewer.services import browse
from reviewer.services.browse import SessionFilter
from reviewer.services.drafts import DraftStore, FlushReport
from reviewer.services.review_session import (
    RETRY_FAILED_S,
    ConflictError,
    FlushOutcome,
    ReviewSession,
    SaveOutcome,
    WorkspaceUnavailable,
)
from reviewer.services.reviewing import (
    ItemStatus,
    Queue,
    QueueSpec,
    ReviewItem,
    load_queue,
    missing_for_submit,
)
from reviewer.services.workspaces import Workspace
from reviewer.ui.claim_queue import ClaimQueue
from reviewer.ui.find_bar import FindBar
from reviewer.ui.messages import Icon, inform, plain_label
from reviewer.ui.offline_banner import OfflineBanner
from reviewer.ui.review_compare import SaveConflictDialog
from reviewer.ui.rubric_form import RubricForm
from reviewer.ui.session_model import SessionListModel
from reviewer.ui.step_edit import StepEditDialog
from reviewer.ui.tasks import TaskRunner
from reviewer.ui.transcript import TranscriptView
from reviewer.ui.transcript_plan import Card, build_plan, metadata_lines

AUTOSAVE_MS = 600
"""A change is saved as a draft this long after the last keystroke (well within a second)."""
IDLE_SECONDS = 60.0
"""A pause longer than this between inputs counts as idle, not as review time."""
BLIND_COLUMNS = (3, 4)
"""Agent and model columns, hidden in blind batches."""
DEFAULT_COLUMN_WIDTHS = (80, 150, 120, 130, 110, 45, 45, 65, 60)
PREFETCH_AFTER_MS = 1
"""The next item is fetched ahead this long after one is shown: a timer, so the paints
posted by showing it come first."""
FIRST_CARDS = 50
"""Cards of a long session built before it shows (far more than a screenful); the cards of
its later steps are built on a worker meanwhile: a 2,000-step session shows about 100 ms
sooner."""
HELD_KEYS_MAX = 64
"""Keys typed while a session is on its way are held (this many at most) and replayed on it."""

_USER_INPUT = (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel)
"""Input that counts as review time."""
_KEY_KINDS = (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride)

_STATUS_FILTERS: list[tuple[str, ItemStatus | None]] = [
    ("All items", None),
    ("To do", ItemStatus.TODO),
    ("Drafts", ItemStatus.DRAFT),
    ("Submitted", ItemStatus.SUBMITTED),
    ("Skipped", ItemStatus.SKIPPED),
    ("Flagged", ItemStatus.FLAGGED),
]


def _prepare(
    session: ReviewSession, queue: Queue, session_id: int
) -> tuple[ReviewItem, list[Card]]:
    """On the worker: the item and the cards of its first steps (the rest follow)."""
    item = session.open_item(queue, session_id)
    return item, build_plan(item.session, stop=FIRST_CARDS)


def _is_text_input(w: QWidget | None) -> bool:
    if isinstance(w, QLineEdit | QAbstractSpinBox):
        return True
    if isinstance(w, QPlainTextEdit | QTextEdit):
        return not w.isReadOnly()
    return isinstance(w, QComboBox) and w.isEditable()


class Workbench(QWidget):
    """Queue, transcript and form for one reviewer on one workspace."""

    queue_loaded = Signal(int)
    """The queue is shown (number of items)."""
    item_shown = Signal(int)
    """This session and its review are shown and editable."""
    review_saved = Signal(str, str)
    """A review was stored (uid, status)."""
    message = Signal(str)
    """A short note for the status bar."""
    session_started = Signal(object)
    """A new :class:`ReviewSession` drives the bench (a workspace, reviewer or batch was
    set): connect to its ``on_event`` to follow the items opened and left (team mode)."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.runner = TaskRunner(self)
        """Saves on the write lane; queue, list pages and items on the read lane."""
        self.items = self.runner
        """The same runner (the name earlier code and tests use for item work)."""
        self.team = ClaimQueue(self)
        """Claims of an open pool batch (team mode), on the write lane after the saves."""
        self.ws: Workspace | None = None
        self.session: ReviewSession | None = None
        self.reviewer = ""
        self.batch: str | None = None
        self.queue: Queue | None = None
        self.item: ReviewItem | None = None
        self._wanted: int | None = None
        """The item asked for last (shown, or on its way)."""
        self._prepare_saving = False
        """Get the workspace ready for saves once the queue's first item is shown."""
        self._counts: dict[ItemStatus, int] = {}
        self._opening = False
        """A session is on its way to the form: keys typed meanwhile are held for it."""
        self._held: list[tuple[Qt.Key, Qt.KeyboardModifier, str]] = []
        self._replaying = False
        self._dirty = False
        self._prefetched: dict[int, tuple[ReviewItem, list[Card]]] = {}
        self._active = 0.0
        self._last_input: float | None = None
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_draft)
        self._refilter = QTimer(self)
        self._refilter.setSingleShot(True)
        self._refilter.setInterval(300)
        self._refilter.timeout.connect(self.reload_queue)
        self.drafts = DraftStore()
        """Reviews kept on this computer while the workspace cannot be reached."""
        self.conflict_dialog: SaveConflictDialog | None = None
        self.step_dialog: StepEditDialog | None = None

        self._build_queue_panel()
        self._build_center()
        self.form = RubricForm()
        self.form.changed.connect(self._form_changed)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.queue_panel)
        self.splitter.addWidget(self.center)
        self.splitter.addWidget(self.form)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setStretchFactor(2, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        # Holds the keys while no session is open, so they never fall to the queue's widgets.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.actions_ = self._build_actions()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    # Building
    def _build_queue_panel(self) -> None:
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search sessions (id or first message)")
        self.search.setClearButtonEnabled(True)
        self.search.textEdited.connect(lambda _t: self._refilter.start())
        self.search.returnPressed.connect(self._search_done)
        # Keys belong to the rubric form: the queue's widgets take focus only when clicked
        # (the search box also by Ctrl+K or /), never by Tab or when the window activates.
        self.search.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.status_filter = QComboBox()
        for label, _status in _STATUS_FILTERS:
            self.status_filter.addItem(label)
        self.status_filter.setToolTip("Show only items with this status")
        self.status_filter.currentIndexChanged.connect(lambda _i: self._filter_changed())
        self.errors_only = QCheckBox("Tool errors")
        self.errors_only.setToolTip("Only sessions where a tool returned an error")
        self.errors_only.toggled.connect(lambda _c: self._filter_changed())
        self.negative_only = QCheckBox("Negative feedback")
        self.negative_only.setToolTip("Only sessions the user rated negatively")
        self.negative_only.toggled.connect(lambda _c: self._filter_changed())
        for w in (self.status_filter, self.errors_only, self.negative_only):
            w.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.counts_label = plain_label()
        self.counts_label.setTextFormat(Qt.TextFormat.PlainText)

        self.model = SessionListModel(self._fetch_page, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.table.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for column, width in enumerate(DEFAULT_COLUMN_WIDTHS):
            self.table.setColumnWidth(column, width)

        self.queue_panel = QWidget()
        v = QVBoxLayout(self.queue_panel)
        v.setContentsMargins(4, 4, 0, 0)
        row1 = QHBoxLayout()
        row1.addWidget(self.search, 1)
        row1.addWidget(self.status_filter)
        row2 = QHBoxLayout()
        row2.addWidget(self.errors_only)
        row2.addWidget(self.negative_only)
        row2.addStretch(1)
        v.addLayout(row1)
        v.addLayout(row2)
        v.addWidget(self.table, 1)
        v.addWidget(self.counts_label)

    def _build_center(self) -> None:
        self.meta = plain_label()
        self.meta.setTextFormat(Qt.TextFormat.PlainText)
        self.meta.setWordWrap(True)
        self.meta.setContentsMargins(6, 4, 6, 4)
        self.transcript = TranscriptView()
        self.transcript.step_clicked.connect(self.form_set_failure_step)
        self.find_bar = FindBar(self.transcript)
        page = QWidget()
        pv = QVBoxLayout(page)
        pv.setContentsMargins(0, 0, 0, 0)
        pv.setSpacing(0)
        pv.addWidget(self.transcript, 1)
        pv.addWidget(self.find_bar)
        self.spans = QTreeWidget()
        self.spans.setHeaderLabels(["Span", "Kind", "Status", "Duration", "Starts at"])
        self.spans.setColumnWidth(0, 260)
        self.details = QTableWidget(0, 2)
        self.details.setHorizontalHeaderLabels(["Field", "Value"])
        self.details.horizontalHeader().setStretchLastSection(True)
        self.details.verticalHeader().hide()
        self.details.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tabs = QTabWidget()
        self.tabs.addTab(page, "Transcript")
        self.tabs.addTab(self.spans, "Spans")
        self.tabs.addTab(self.details, "Details")
        self.tabs.currentChanged.connect(lambda _i: self._fill_tabs())
        self._tabs_show: Session | None = None
        """The session the Spans and Details tabs show (filled when one of them is shown)."""
        self.banner = OfflineBanner(self.retry_kept)
        self.center = QWidget()
        cv = QVBoxLayout(self.center)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.setSpacing(0)
        cv.addWidget(self.banner)
        cv.addWidget(self.meta)
        cv.addWidget(self.tabs, 1)

    def _build_actions(self) -> list[QAction]:
        skip = ReviewStatus.SKIPPED
        flag = ReviewStatus.FLAGGED
        specs: list[tuple[str, list[str], str, Any]] = [
            ("Submit and next", ["Ctrl+Return", "Ctrl+Enter"],
             "Submit this review and open the next item to do", self.submit),
            ("Save draft", ["Ctrl+S"], "Keep this review as a draft now", self.save_draft),
            ("Undo", ["Ctrl+Z"], "Undo the last change in the form", self.form_undo),
            ("Next item", ["Alt+Right"], "Open the next item in the queue", lambda: self.go(1)),
            ("Previous item", ["Alt+Left"], "Open the previous item in the queue",
             lambda: self.go(-1)),
            ("Skip…", ["Ctrl+Shift+S"], "Skip this item, with a reason",
             lambda: self.set_aside(skip)),
            ("Flag for escalation…", ["Ctrl+Shift+F"], "Flag this item for a lead, with a reason",
             lambda: self.set_aside(flag)),
            ("Find in session", ["Ctrl+F"], "Search the transcript", self.find_bar.open_bar),
            ("Step verdict: correct", ["Ctrl+1"], "Give the step at the cursor verdict 1"
             " (correct in the default rubric)", lambda: self.step_verdict(1)),
            ("Step verdict: partly", ["Ctrl+2"], "Give the step at the cursor verdict 2"
             " (partly correct)", lambda: self.step_verdict(2)),
            ("Step verdict: wrong", ["Ctrl+3"], "Give the step at the cursor verdict 3 (wrong)",
             lambda: self.step_verdict(3)),
            ("Edit step as it should have been…", ["Ctrl+E"], "Correct the agent step at the"
             " cursor (its text, or its tool call's name and arguments), with a diff",
             self.edit_step),
            ("Search the queue", ["Ctrl+K"], "Search the queue by session id or first message"
             " (/ also; Enter or Esc goes back to the form)", self.focus_search),
        ]  # fmt: skip
        actions = []
        for text, keys, tip, slot in specs:
            a = QAction(text, self)
            a.setShortcuts([QKeySequence(k) for k in keys])
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.setStatusTip(tip)
            a.setToolTip(tip)
            a.triggered.connect(slot)
            self.addAction(a)
            actions.append(a)
        return actions

    # Workspace and queue
    @property
    def offline(self) -> bool:
        """The workspace was out of reach at the last save or retry."""
        return self.session is not None and self.session.offline

    def set_workspace(self, ws: Workspace | None, reviewer: str, batch: str | None) -> None:
        self.flush()
        if self.session is not None:
            self.session.close()
        self.session = None if ws is None else ReviewSession(ws, self.drafts)
        self._prepare_saving = ws is not None  # once its first item is shown
        self.ws = ws
        self.reviewer = reviewer
        self.batch = batch
        self.item = None
        self._wanted = None
        self._prefetched.clear()
        self.form.clear()
        self.transcript.show_session(None)
        self._set_offline(False)
        self.focus_form()
        if ws is None:
            self.stop_expecting()
        else:
            self.expect_session()
            self.reload_queue()
            self.retry_kept()  # drafts kept on this computer by an earlier run
        if self.session is not None:
            self.session_started.emit(self.session)
        self.team.start(ws, reviewer, batch)

    def _spec(self) -> QueueSpec:
        text = self.search.text().strip() or None
        f = SessionFilter(
            text=text,
            has_tool_error=True if self.errors_only.isChecked() else None,
            negative_feedback=True if self.negative_only.isChecked() else None,
        )
        status = _STATUS_FILTERS[self.status_filter.currentIndex()][1]
        return QueueSpec(self.reviewer, self.batch, status, f)

    def reload_queue(self) -> None:
        if self.ws is None:
            return
        self.flush()
        spec = self._spec()
        self.runner.read(
            load_queue, self.ws, spec, key="queue", on_done=self._queue_ready, on_error=self._fail
        )

    def _queue_ready(self, queue: Queue) -> None:
        if self.ws is None:
            return
        self.queue = queue
        self._counts = dict(queue.totals)
        self._show_counts()
        for column in BLIND_COLUMNS:
            self.table.setColumnHidden(column, queue.blind)
        keep = self.item.session_id if self.item is not None else None
        self.model.set_ids(queue.ids, queue.statuses)
        self.queue_loaded.emit(len(queue.ids))
        row = self.model.row_of(keep) if keep is not None else None
        if row is None:
            first = queue.next_todo(None)
            row = self.model.row_of(first) if first is not None else (0 if queue.ids else None)
        if row is not None:
            self._select(row)
        else:
            self.item = None
            self._wanted = None
            self.form.clear()
            self.transcript.show_session(None)
            self.meta.clear()
        if self._wanted is None:
            self.stop_expecting()  # nothing to open: held keys have no session to go to
        focus = self.window().focusWidget()
        filters = (self.status_filter, self.errors_only, self.negative_only)
        if focus is None or not self.isAncestorOf(focus) or focus in filters or focus is self:
            self.focus_form()  # keys drive the form at once, never a search box

    def _select(self, row: int) -> None:
        """Make ``row`` current and bring it into view (it may be far down the queue)."""
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))

    def _show_counts(self) -> None:
        c = self._counts
        total = sum(c.values())
        done = c.get(ItemStatus.SUBMITTED, 0)
        parts = [f"{s.value.capitalize()} {c.get(s, 0):,}" for s in ItemStatus]
        self.counts_label.setText(f"{done:,} of {total:,} done  ·  " + "  ·  ".join(parts))

    def _set_status(self, session_id: int, status: ItemStatus) -> None:
        if self.queue is None:
            return
        before = self.queue.status(session_id)
        if before is status:
            return
        self.queue.statuses[session_id] = status
        self._counts[before] = max(0, self._counts.get(before, 0) - 1)
        self._counts[status] = self._counts.get(status, 0) + 1
        self.model.set_status(session_id, status)
        self._show_counts()

    def _fetch_page(self, ids: list[int], done: object) -> None:
        if self.ws is not None:
            self.runner.read(browse.summaries, self.ws, ids, on_done=done)  # type: ignore[arg-type]

    # Items
    def current_session_id(self) -> int | None:
        return self.model.session_id(self.table.currentIndex().row())

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        sid = self.model.session_id(current.row())
        if sid is None or self.session is None or self.queue is None:
            return
        if sid == self._wanted:
            return
        self._wanted = sid
        self.flush()
        cached = self._prefetched.pop(sid, None)
        if cached is not None:
            self._show_item(sid, cached)
            return
        self.expect_session()
        self.runner.read(
            _prepare,
            self.session,
            self.queue,
            sid,
            key="open",
            on_done=lambda r: self._show_item(sid, r),
            on_error=self._fail,
        )

    def _show_item(self, sid: int, result: tuple[ReviewItem, list[Card]]) -> None:
        if self.current_session_id() != sid:
            return  # the reviewer moved on meanwhile
        item, cards = result
        failed = self.session.take_failed(sid) if self.session is not None else None
        if isinstance(failed, Review):
            item.review = failed
            self._dirty = True
        self.item = item
        session = item.session
        more = len(cards) < len(session.steps)
        self.transcript.show_session(session, cards, more=more)
        if more:
            self.runner.read(
                build_plan,
                session,
                start=len(cards),
                key="plan",
                on_done=lambda rest: self.transcript.add_cards(session, rest),
                on_error=self._fail,
            )
        blind = item.blind
        self.meta.setText(self._meta_line(session, blind))
        self.tabs.setTabEnabled(1, bool(session.spans))
        self._fill_tabs()  # only if one of them shows: most reviews never look at them
        title = f"Session {session.id}"
        status = self.queue.status(sid) if self.queue else ItemStatus.TODO
        self.form.load(item.rubric, item.review, session.final_answer, title)
        # judges suggest, humans decide; a blind batch shows no suggestions (anchoring)
        self.form.set_suggestions({} if blind else suggest(item.rubric, session.signals.judgements))
        self.form.status_label.setText(f"Status: {status.value}")
        self._show_verdicts()
        self.transcript.mark_step(item.review.failure_step)
        self._active = 0.0
        self._last_input = time.monotonic()
        focus = self.window().focusWidget()
        if focus is not self.search and focus is not self.table:
            self.focus_form()  # a new session: its form takes the keys
        self._opening = False
        self.item_shown.emit(sid)
        if self.session is not None:
            self.session.opened(sid)
        # after this item's first paint: a worker running Python meanwhile slows the paint
        QTimer.singleShot(PREFETCH_AFTER_MS, self, lambda: self._prefetch_next(sid))
        if self._prepare_saving and self.session is not None:
            self._prepare_saving = False
            saving = self.session
            QTimer.singleShot(PREFETCH_AFTER_MS, self, lambda: self._prepare_saves(saving, item))
        if self.session is not None and item.review.uid in self.session.conflicted:
            self.retry_kept()  # its kept review clashes again, now on screen: both shown
        self._replay_held()

    def _prepare_saves(self, session: ReviewSession, item: ReviewItem) -> None:
        """Once per queue, after its first item is shown: the first save then costs what
        later ones do. On the write lane, before any save submitted after it; should it
        fail, the first save simply does that work itself."""
        if session is self.session:  # not another workspace meanwhile
            self.runner.write(session.prepare_saving, item, on_error=lambda _e: None)

    def _prefetch_next(self, sid: int) -> None:
        if self.queue is None or self.session is None or self._wanted != sid:
            return
        nxt = self.queue.next_todo(sid)
        if nxt is None or nxt in self._prefetched:
            return
        self._prefetched.clear()
        self.runner.read(
            _prepare,
            self.session,
            self.queue,
            nxt,
            key="prefetch",
            on_done=lambda r: self._prefetched.__setitem__(nxt, r),
            on_error=lambda _e: None,  # it will be fetched again when opened
        )

    @staticmethod
    def _meta_line(session: Session, blind: bool) -> str:
        pairs = dict(metadata_lines(session, blind=blind))
        keep = (
            "Agent",
            "Model",
            "Steps",
            "Latency",
            "Tokens",
            "Cost",
            "User feedback",
            "Escalated",
        )
        line = "   ·   ".join(f"{k}: {pairs[k]}" for k in keep if k in pairs)
        return line + ("   ·   blind review: agent and model hidden" if blind else "")

    def _fill_tabs(self) -> None:
        """Fill the Spans and Details tabs for the open item, once it is on one of them."""
        item = self.item
        if item is None or self.tabs.currentIndex() == 0 or self._tabs_show is item.session:
            return
        self._tabs_show = item.session
        self._fill_details(item.session, item.blind)
        self._fill_spans(item.session)

    def _fill_details(self, session: Session, blind: bool) -> None:
        rows = metadata_lines(session, blind=blind)
        if not blind:
            rows += [(f"metadata.{k}", str(v)[:500]) for k, v in sorted(session.metadata.items())]
        self.details.setRowCount(len(rows))
        for r, (k, v) in enumerate(rows):
            self.details.setItem(r, 0, QTableWidgetItem(k))
            self.details.setItem(r, 1, QTableWidgetItem(v))

    def _fill_spans(self, session: Session) -> None:
        self.spans.clear()
        if not session.spans:
            return
        t0 = min((s.start for s in session.spans if s.start), default=None)
        nodes: dict[str, QTreeWidgetItem] = {}
        for span in session.spans:
            duration = ""
            if span.start and span.end:
                duration = f"{(span.end - span.start).total_seconds() * 1000:,.0f} ms"
            offset = ""
            if span.start and t0:
                offset = f"+{(span.start - t0).total_seconds():.2f} s"
            nodes[span.id] = QTreeWidgetItem([span.name, span.kind, span.status, duration, offset])
        for span in session.spans:
            parent = nodes.get(span.parent_id or "")
            if parent is not None and parent is not nodes[span.id]:
                parent.addChild(nodes[span.id])
            else:
                self.spans.addTopLevelItem(nodes[span.id])
        self.spans.expandToDepth(2)

    # Editing
    def _form_changed(self) -> None:
        if self.item is None:
            return
        self._dirty = True
        self._show_verdicts()
        self.transcript.mark_step(self.form.failure_step)
        self._autosave.start()

    def form_set_failure_step(self, step: int | None) -> None:
        if self.item is not None:
            self.form.set_failure_step(step)

    def _show_verdicts(self) -> None:
        """The step verdicts as tints on the step cards (first verdict good, "wrong" red)."""
        spec = self.item.rubric.steps if self.item is not None else None
        if spec is None:
            self.transcript.set_verdicts({})
            return
        good = spec.verdicts[0].value
        self.transcript.set_verdicts(
            {
                i: "good" if s.verdict == good else "wrong" if s.verdict == spec.wrong else "partly"
                for i, s in self.form.steps.items()
                if s.verdict
            }
        )

    def _cursor_step(self) -> int | None:
        """The step the cursor is on ([ and ] move it), or None with a hint why not."""
        if self.item is None:
            return None
        if self.item.rubric.steps is None:
            self.message.emit("This rubric asks for no step verdicts")
            return None
        step = self.form.failure_step
        if step is None:
            self.form.show_problem("Move the step cursor with [ or ] (or click a step) first")
        return step

    def show_all_at_cursor(self) -> bool:
        """+: the whole text of the step at the cursor, when it is folded."""
        step = self._cursor_step_any()
        if step is None:
            return False
        if not self.transcript.expand(step):
            self.message.emit(f"Step #{step} is shown in full already")
            return False
        self.transcript.scroll_to_step(step)
        return True

    def _cursor_step_any(self) -> int | None:
        """The step the cursor is on, whatever the rubric, or None with a hint."""
        if self.item is None:
            return None
        step = self.form.failure_step
        if step is None:
            self.form.show_problem("Move the step cursor with [ or ] (or click a step) first")
        return step

    def step_verdict(self, number: int) -> None:
        """Ctrl+1/2/3: the rubric's n-th step verdict for the step at the cursor."""
        step = self._cursor_step()
        if step is not None:
            self.form.set_step_verdict(step, number)

    def edit_step(self) -> StepEditDialog | None:
        """Ctrl+E: the agent step at the cursor as it should have been (text or tool call)."""
        step = self._cursor_step()
        if step is None or self.item is None or self.item.rubric.steps is None:
            return None
        original = self.item.session.steps[step]
        if original.role.value != "assistant":
            self.form.show_problem(f"Step #{step} is not an agent step: only those are edited")
            return None
        dialog = StepEditDialog(
            step, original, self.form.steps.get(step), self.item.rubric.steps, self
        )
        dialog.edited.connect(self.form.set_step_label)
        dialog.finished.connect(lambda _r: self.focus_form())
        self.step_dialog = dialog
        dialog.open()
        return dialog

    def form_undo(self) -> None:
        if not self.form.undo():
            self.message.emit("Nothing to undo")

    def _compose(self, status: ReviewStatus | None = None, reason: str | None = None) -> Review:
        assert self.item is not None
        review = self.item.review
        state = self.form.state()
        now = datetime.now(UTC)
        self._count_active()
        update: dict[str, Any] = {
            "values": state.values,
            "details": state.details,
            "steps": state.steps,
            "failure_step": state.failure_step,
            "suggestions": outcomes(self.item.rubric, state.values, self.form.suggestions),
            "started_at": review.started_at or now,
            "active_seconds": round(review.active_seconds + self._active, 1),
        }
        if any(label.verdict for label in state.steps.values()):
            # with step verdicts, the failure step is the first step marked wrong
            update["failure_step"] = review.model_copy(update=update).first_wrong_step(
                self.item.rubric
            )
        if status is not None:
            update["status"] = status
            update["status_reason"] = reason
        return review.model_copy(update=update)

    def save_draft(self) -> None:
        """Save the form now (as a draft, or keeping the status it already has)."""
        self._autosave.stop()
        if not self._dirty or self.item is None or self.ws is None:
            return
        review = self._compose()
        self._store(review, next_after=False)

    def flush(self) -> None:
        """Save what is unsaved before the item changes or the window closes."""
        if self._dirty:
            self.save_draft()

    def _store(self, review: Review, *, next_after: bool, item: ReviewItem | None = None) -> None:
        item = item or self.item
        assert item is not None and self.session is not None
        session = self.session
        sid = item.session_id
        item.review = review
        self._active = 0.0
        self._dirty = False
        self._prefetched.pop(sid, None)
        status = ItemStatus(review.status.value)
        previous = self.queue.status(sid) if self.queue else ItemStatus.TODO
        self._set_status(sid, status)

        def stored(outcome: SaveOutcome) -> None:
            saved = outcome.review
            if outcome.kept_locally:
                self._set_offline(True, outcome.message)
                if self.item is item:
                    self.form.status_label.setText(
                        f"Status: {status.value} · kept on this computer {datetime.now():%H:%M:%S}"
                    )
                return
            if self.item is item:
                item.review = saved
                self.form.status_label.setText(
                    f"Status: {status.value} · saved {datetime.now():%H:%M:%S}"
                )
            self.review_saved.emit(saved.uid, saved.status.value)

        def failed(exc: BaseException) -> None:
            self._set_status(sid, previous)
            if isinstance(exc, ConflictError):
                self._conflict(item, exc)
                return
            session.keep_failed(sid, review)
            if self.item is item:
                self._dirty = True
                # try again later; the form keeps the edit
                self._autosave.start(int(RETRY_FAILED_S * 1000))
            self.form.show_problem(f"Not saved: {exc}. Your changes are kept and retried.")
            self.message.emit(f"Saving failed: {exc}")

        self.runner.write(session.save, review, item.rubric, on_done=stored, on_error=failed)
        if next_after:
            session.left(sid, review.status.value)
            self.open_next_todo()

    # Team mode: conflicts and a workspace out of reach
    def _conflict(self, item: ReviewItem, exc: ConflictError) -> None:
        """A save found the review changed elsewhere: show both, let the reviewer choose."""
        mine = exc.attempted
        self.message.emit("Not saved: this review was changed elsewhere")
        dialog = SaveConflictDialog(mine, exc.stored, item.rubric, self)

        def chosen(which: str) -> None:
            version = exc.stored_version
            if self.session is not None:
                self.session.adopt(mine.uid, version)
            if which == "theirs" and exc.stored is not None:
                item.review = exc.stored
                if self.item is item:
                    self._dirty = False
                    self.form.load(
                        item.rubric,
                        exc.stored,
                        item.session.final_answer,
                        self.form.title.text(),
                    )
                    self.transcript.mark_step(exc.stored.failure_step)
                self._set_status(item.session_id, ItemStatus(exc.stored.status.value))
                self.message.emit("Using the version saved elsewhere")
                return
            self._store(mine, next_after=False, item=item)

        dialog.chosen.connect(chosen)
        self.conflict_dialog = dialog
        dialog.open()

    def _set_offline(self, offline: bool, message: str = "") -> None:
        if self.session is not None:
            self.session.offline = offline
        self.banner.set_offline(offline, message)

    def retry_kept(self) -> None:
        """Save the reviews kept on this computer, now (also runs by itself while offline)."""
        session = self.session
        if session is None:
            return
        self.runner.write(
            session.flush_kept,
            on_done=lambda r: self._flushed(session, r),
            on_error=lambda e: self._told(session.retry_failed(e)),
        )

    def _flushed(self, session: ReviewSession, report: FlushReport) -> None:
        if session is not self.session:
            return  # another workspace meanwhile
        shown = self.item.review.uid if self.item is not None else None
        outcome = session.settle(report, shown)
        if isinstance(outcome.show, ConflictError) and self.item is not None:
            # shown now, both versions side by side: the local copy is no longer needed
            self.runner.write(session.discard_kept, outcome.show.attempted.uid)
            self._conflict(self.item, outcome.show)
        self._told(outcome)

    def _told(self, outcome: FlushOutcome) -> None:
        self.banner.told(outcome, self.message.emit)

    def submit(self) -> None:
        """Submit the review when every required dimension has a value, then go on."""
        if self.item is None:
            return
        self._autosave.stop()
        review = self._compose(ReviewStatus.SUBMITTED, None)
        missing = missing_for_submit(review, self.item.rubric)
        if missing:
            self.form.show_problem("Required before submitting: " + ", ".join(missing))
            self.form.focus_dimension(missing[0])
            self._dirty = True
            return
        problems = self.item.rubric.problems(review.values)
        if problems:
            self.form.show_problem("; ".join(problems))
            return
        self._store(review, next_after=True)

    def set_aside(self, status: ReviewStatus) -> None:
        """Skip or flag the item with a reason, then go on."""
        if self.item is None:
            return
        verb = "skip" if status is ReviewStatus.SKIPPED else "flag for escalation"
        reason, ok = QInputDialog.getText(self, verb.capitalize(), f"Why {verb} this session?")
        if not ok or not reason.strip():
            return
        self._autosave.stop()
        self._store(self._compose(status, reason.strip()), next_after=True)

    def open_next_todo(self) -> None:
        if self.queue is None:
            return
        sid = self.queue.next_todo(self.current_session_id())
        if sid is None and self.team.active:
            self.expect_session()  # the pool's next item is being claimed
            return
        if sid is None:
            self.message.emit("Nothing left to do in this queue")
            self.form.status_label.setText("Queue done: nothing left to do.")
            return
        row = self.model.row_of(sid)
        if row is not None:
            self._select(row)

    def go(self, delta: int) -> None:
        row = self.table.currentIndex().row() + delta
        if 0 <= row < self.model.rowCount():
            self._select(row)

    def _fail(self, exc: BaseException) -> None:
        self.stop_expecting()
        if isinstance(exc, WorkspaceUnavailable):
            self._wanted = None  # asking again once it is back opens it
            self._set_offline(True, str(exc))
            return
        self.error_box = inform(self, Icon.Warning, "Cannot continue", str(exc))

    # Keyboard and time
    def _count_active(self) -> None:
        now = time.monotonic()
        if self._last_input is not None:
            gap = now - self._last_input
            if gap <= IDLE_SECONDS:
                self._active += gap
        self._last_input = now

    def focus_form(self) -> None:
        """Give the keys to the rubric form (to the workbench while no session is open)."""
        target: QWidget = self.form if self.form.isEnabled() else self
        target.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_search(self) -> None:
        """Ctrl+K or /: type in the queue's search box (Enter or Esc goes back to the form)."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _search_done(self) -> None:
        self._refilter.stop()
        self.reload_queue()
        self.focus_form()

    def _filter_changed(self) -> None:
        self.reload_queue()
        self.focus_form()

    def expect_session(self) -> None:
        """A session is on its way (a workspace or an item opening): hold keys for it."""
        self._opening = True

    def stop_expecting(self) -> None:
        """No session is coming after all: keys held for it are dropped."""
        self._opening = False
        self._held.clear()

    def _bench_key(self, event: QKeyEvent) -> bool:
        """A key the workbench acts on: form keys, Tab, and the Review menu's shortcuts."""
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        plain = mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier)
        text = event.text()
        if plain and len(text) == 1 and text.isprintable() and not text.isspace():
            return True
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return True
        return self._action_for(Qt.Key(key), mods) is not None

    def _action_for(self, key: Qt.Key, mods: Qt.KeyboardModifier) -> QAction | None:
        mods = mods & ~Qt.KeyboardModifier.KeypadModifier
        pressed = QKeySequence(QKeyCombination(mods, key))
        for action in self.actions_:
            if action.isEnabled() and pressed in action.shortcuts():
                return action
        return None

    def _hold(self, event: QKeyEvent) -> bool:
        """While a session is on its way, keep the keys meant for it (True: held)."""
        if QApplication.focusWidget() is self.search or not self._bench_key(event):
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # no shortcut fires now: the key press comes and is held
            return True
        if len(self._held) < HELD_KEYS_MAX:
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            self._held.append((Qt.Key(event.key()), mods, event.text()))
        return True

    def _replay_held(self) -> None:
        """Play the held keys on the session now shown, in the order they were typed."""
        if self._replaying:
            return  # a replayed Ctrl+Enter opened the next session: the loop below goes on
        self._replaying = True
        try:
            while self._held and not self._opening and self.item is not None:
                key, mods, text = self._held.pop(0)
                action = self._action_for(key, mods)
                if action is not None:
                    action.trigger()
                    continue
                event = QKeyEvent(QEvent.Type.KeyPress, key, mods, text)
                if not self._handle_key(event):
                    target = QApplication.focusWidget() or self.form
                    QApplication.sendEvent(target, event)
        finally:
            self._replaying = False

    def _settle_focus(self) -> None:
        """After the window comes back (a dialog closed): keys to the form, not to nothing."""
        focus = self.window().focusWidget()
        if focus is None or focus is self or not self.window().isAncestorOf(focus):
            self.focus_form()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Every event of the application comes here (each paint of each widget too): the
        # common case returns at once, without asking for the event's type (a slow call).
        if not isinstance(event, QInputEvent):
            if watched is self.window() and event.type() == QEvent.Type.WindowActivate:
                QTimer.singleShot(0, self._settle_focus)  # after Qt gives the focus back
            return False
        kind = event.type()
        if kind in _USER_INPUT and self.item is not None and self.window().isActiveWindow():
            self._count_active()
        if kind not in _KEY_KINDS or not isinstance(event, QKeyEvent):
            return False
        if not self.isVisible() or QApplication.activeWindow() is not self.window():
            return False
        if self._opening and self._hold(event):
            return True
        if kind != QEvent.Type.KeyPress:
            return False
        if watched is self.search and event.key() == Qt.Key.Key_Escape:
            self.focus_form()
            return True
        return self._handle_key(event)

    def _handle_key(self, event: QKeyEvent) -> bool:
        if self.item is None or not self.form.isEnabled():
            return False
        focus = QApplication.focusWidget()
        in_filters = (
            focus is not None and focus is not self.table and self.queue_panel.isAncestorOf(focus)
        )
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and not in_filters:
            if mods & Qt.KeyboardModifier.ControlModifier:
                return False
            self.form.next_dimension(-1 if key == Qt.Key.Key_Backtab else 1)
            return True
        if _is_text_input(focus) or mods not in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.ShiftModifier,
        ):
            return False
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and mods == Qt.KeyboardModifier.NoModifier:
            return self.form.take_suggestions()  # the judges' offers, for dimensions unset
        text = event.text()
        if len(text) != 1:
            return False
        if text == "/":
            self.focus_search()
            return True
        if text in "123456789":
            return self.form.pick(int(text))
        if text == "[" or text == "]":
            steps = len(self.item.session.steps)
            current = self.form.failure_step
            step = (
                (steps - 1 if text == "[" else 0)
                if current is None
                else max(0, min(steps - 1, current + (1 if text == "]" else -1)))
            )
            if steps:
                self.form.set_failure_step(step)
                self.transcript.scroll_to_step(step)
            return True
        if text == "\\":
            self.form.set_failure_step(None)
            return True
        if text == "+":
            self.show_all_at_cursor()
            return True
        if text.isalpha():
            return self.form.toggle_tag(text)
        return False

    def shutdown(self) -> None:
        """Save what is unsaved and stop the workers (before the window closes)."""
        self.flush()
        self.team.stop()
        self.banner.stop()
        if self.session is not None:
            self.session.close()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.runner.shutdown(finish_pending=True)
