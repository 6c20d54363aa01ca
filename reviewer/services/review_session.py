"""The review session: what a reviewer's saves do, without Qt.

One :class:`ReviewSession` per reviewer and open workspace holds the save protocol the
workbench (single reviews) and the pair bench (preferences on pairs) drive:

- **What is saved**: the stored version of each review read or written here, which the
  next save of it expects (optimistic locking: a review changed elsewhere meanwhile raises
  :class:`ConflictError` instead of being overwritten). Preferences remember when they
  were last read or written, for the same check on drafts kept offline.
- **Drafts**: a save while the workspace cannot be reached is kept on this computer
  (:mod:`reviewer.services.drafts`) and saved once it is back (:meth:`flush_kept`,
  :meth:`flush_kept_pairs`); :meth:`settle` / :meth:`settle_pairs` say what the reviewer
  sees about it (offline banner, conflicts to show, saved counts).
- **Retries**: an edit whose save failed is held (:meth:`keep_failed`) and tried again
  after :data:`RETRY_FAILED_S`; kept drafts are tried every :data:`RETRY_OFFLINE_S`.
- **Undo**: :class:`History` of a form's states.
- **Events** for whoever follows the reviewer's path through the queue (e.g. claiming
  pool items in team mode): :meth:`on_event` receives :class:`Opened`, :class:`Left` and
  :class:`Closed`.

Thread use: the worker-side methods (``open_*``, ``save*``, ``flush_*``, ``discard_kept``)
block on the workspace and are meant for the UI's write lane (saves in order) or read
pool; the version map they share is guarded by a lock. The others are plain state for the
GUI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from reviewer.domain.preference import Preference
from reviewer.domain.review import Review
from reviewer.domain.rubric import Rubric
from reviewer.services.drafts import (
    DraftStore,
    FlushReport,
    PairFlushReport,
    PairSaveOutcome,
    PreferenceConflict,
    SaveOutcome,
    flush_drafts,
    flush_preference_drafts,
    save_or_keep,
    save_preference_or_keep,
)
from reviewer.services.preferences import PairItem, PairQueue, open_pair
from reviewer.services.reviewing import Queue, ReviewItem, open_item, prepare_saving
from reviewer.store.reviews import ConflictError
from reviewer.store.workspace import Workspace, WorkspaceUnavailable

__all__ = [
    "RETRY_FAILED_S",
    "RETRY_OFFLINE_S",
    "Closed",
    "ConflictError",
    "FlushOutcome",
    "History",
    "Left",
    "Opened",
    "PairSaveOutcome",
    "PreferenceConflict",
    "ReviewSession",
    "SaveOutcome",
    "WorkspaceUnavailable",
    "pair_key",
]

RETRY_FAILED_S = 5.0
"""A save that failed (not for a lost connection) is tried again this long after."""
RETRY_OFFLINE_S = 10.0
"""While the workspace is unreachable, kept drafts are tried again this often."""

T = TypeVar("T")


class History(Generic[T]):
    """A form's states since its item was opened, for undo (consecutive repeats ignored)."""

    def __init__(self, first: T) -> None:
        self._states = [first]

    def record(self, state: T) -> None:
        if self._states[-1] != state:
            self._states.append(state)

    def undo(self) -> T | None:
        """The state before the last change (now the current one), or None at the start."""
        if len(self._states) < 2:
            return None
        self._states.pop()
        return self._states[-1]


@dataclass(frozen=True)
class Opened:
    """The reviewer opened this item (a session id, or a pair's position)."""

    key: int


@dataclass(frozen=True)
class Left:
    """The reviewer is done with this item for now: ``status`` is what it was saved as
    (``submitted``, ``skipped``, ``flagged``)."""

    key: int
    status: str


@dataclass(frozen=True)
class Closed:
    """The session ends (another workspace, reviewer or batch, or the window closes)."""


Event = Opened | Left | Closed


@dataclass(frozen=True)
class FlushOutcome:
    """What the reviewer is told after kept drafts were tried."""

    show: ConflictError | PreferenceConflict | None = None
    """The conflict of the item on screen: show both versions now (its draft is dropped)."""
    notes: list[str] = field(default_factory=list)
    """Short messages for the status bar."""
    offline: bool | None = False
    """Whether the workspace is out of reach now (None: as it was)."""
    offline_message: str = ""


class ReviewSession:
    """The save protocol of one reviewer on one workspace (see the module docstring)."""

    def __init__(self, ws: Workspace, drafts: DraftStore | None = None) -> None:
        self.ws = ws
        self.drafts = drafts or DraftStore()
        self._lock = threading.Lock()
        self._versions: dict[str, int] = {}
        self._read_at: dict[str, datetime | None] = {}
        self.offline = False
        """The last save or retry found the workspace out of reach."""
        self.conflicted: set[str] = set()
        """Kept drafts changed elsewhere meanwhile whose items are not on screen: said
        once, and shown side by side when their item is opened. Reviews by uid, choices
        on pairs by :func:`pair_key` (the one stored elsewhere may have another uid)."""
        self._failed: dict[int, Review | Preference] = {}
        self._listeners: list[Callable[[Event], None]] = []

    # Worker side: these wait for the workspace.
    def open_item(self, queue: Queue, session_id: int) -> ReviewItem:
        """The item, remembering the version its next save expects."""
        item = open_item(self.ws, queue, session_id)
        if item.version is not None:
            self._note_version(item.review.uid, item.version)
        return item

    def prepare_saving(self, item: ReviewItem) -> None:
        """Ready the workspace for the saves of this queue, writing nothing
        (:func:`reviewer.services.reviewing.prepare_saving`)."""
        prepare_saving(self.ws, item.review, item.rubric)

    def open_pair(self, queue: PairQueue, position: int) -> PairItem:
        """The pair, remembering when its preference was stored (for conflicts later)."""
        item = open_pair(self.ws, queue, position)
        if item.preference is not None:
            with self._lock:
                self._read_at[item.preference.uid] = item.preference.updated_at
        return item

    def save(self, review: Review, rubric: Rubric) -> SaveOutcome:
        """Save, expecting the version last read or written (saves run in order on the
        write lane, so each expects what the one before it stored). Kept locally when the
        workspace is out of reach; :class:`ConflictError` when changed elsewhere."""
        outcome = save_or_keep(
            self.ws,
            self.ws.workspace_id,
            review,
            rubric,
            self.drafts,
            expected_version=self.version_of(review.uid),
        )
        if outcome.version is not None:
            self._note_version(review.uid, outcome.version)
        return outcome

    def save_pair(self, pref: Preference, *, submit: bool) -> PairSaveOutcome:
        """Save a preference (submitted with ``submit``), kept locally when the workspace
        is out of reach."""
        with self._lock:
            read_at = self._read_at.get(pref.uid)
        outcome = save_preference_or_keep(
            self.ws, self.ws.workspace_id, pref, self.drafts, submit=submit, read_at=read_at
        )
        if not outcome.kept_locally:
            with self._lock:
                self._read_at[pref.uid] = outcome.preference.updated_at
        return outcome

    def flush_kept(self) -> FlushReport:
        """Save the reviews kept on this computer (oldest first)."""
        report = flush_drafts(self.ws, self.drafts, self.ws.workspace_id)
        for uid, version in report.versions.items():
            self._note_version(uid, version)
        return report

    def flush_kept_pairs(self) -> PairFlushReport:
        """Save the preferences kept on this computer (oldest first)."""
        report = flush_preference_drafts(self.ws, self.drafts, self.ws.workspace_id)
        with self._lock:
            for pref in report.saved:
                self._read_at[pref.uid] = pref.updated_at
        return report

    def discard_kept(self, uid: str) -> None:
        """Forget the kept draft of a review or preference (its conflict is on screen)."""
        self.drafts.discard(self.ws.workspace_id, uid)

    # Versions
    def _note_version(self, uid: str, version: int) -> None:
        with self._lock:
            # Stored versions only grow; a read that overtook a later save never lowers it.
            self._versions[uid] = max(version, self._versions.get(uid, version))

    def version_of(self, uid: str) -> int | None:
        with self._lock:
            return self._versions.get(uid)

    def adopt(self, uid: str, version: int | None) -> None:
        """After a conflict: the stored version is the one the next save expects."""
        if version is not None:
            self._note_version(uid, version)

    def adopt_pair(self, stored: Preference) -> None:
        """After a pair conflict: the stored preference is the one seen."""
        with self._lock:
            self._read_at[stored.uid] = stored.updated_at

    # Retries
    def keep_failed(self, key: int, edit: Review | Preference) -> None:
        """An edit whose save failed: shown again (and retried) when its item reopens."""
        self._failed[key] = edit

    def take_failed(self, key: int) -> Review | Preference | None:
        return self._failed.pop(key, None)

    # What the reviewer is told
    def went_offline(self) -> None:
        self.offline = True

    def settle(self, report: FlushReport, shown_uid: str | None) -> FlushOutcome:
        """After :meth:`flush_kept`: the conflict to show now, what to say, offline or not."""
        return self._settle(
            report.conflicts, len(report.saved), report.remaining, shown_uid, "review"
        )

    def settle_pairs(self, report: PairFlushReport, shown: PairItem | None) -> FlushOutcome:
        """After :meth:`flush_kept_pairs`, the same for the choices on pairs (``shown``:
        the pair on screen)."""
        return self._settle(
            report.conflicts,
            len(report.saved),
            report.remaining,
            None if shown is None else pair_key(shown.batch, shown.position),
            "choice",
        )

    def retry_failed(self, exc: BaseException, *, pairs: bool = False) -> FlushOutcome:
        """After :meth:`flush_kept` (``pairs``: :meth:`flush_kept_pairs`) raised ``exc``."""
        if isinstance(exc, WorkspaceUnavailable):
            self.offline = True
            return FlushOutcome(offline=True, offline_message=str(exc))
        what = "choices" if pairs else "reviews"
        return FlushOutcome(notes=[f"Kept {what} not saved yet: {exc}"], offline=None)

    def _settle(
        self,
        conflicts: list[ConflictError] | list[PreferenceConflict],
        saved: int,
        remaining: int,
        shown_uid: str | None,
        what: str,
    ) -> FlushOutcome:
        show = next((c for c in conflicts if _key(c) == shown_uid), None)
        notes: list[str] = []
        # Kept on this computer (never dropped unseen) until their item is opened.
        others = {_key(c) for c in conflicts if _key(c) != shown_uid}
        if others - self.conflicted:
            notes.append(
                f"{len(others)} {what}(s) kept on this computer were changed elsewhere "
                "meanwhile: opening their sessions shows both versions"
            )
        self.conflicted = others
        if remaining - len(conflicts) > 0:
            self.offline = True
            return FlushOutcome(
                show, notes, True, f"{remaining} {what}s are kept on this computer."
            )
        was_offline, self.offline = self.offline, False
        if saved:
            notes.append(
                f"Workspace back: {saved} kept {what}(s) saved"
                if was_offline
                else f"{saved} {what}(s) kept on this computer saved"
            )
        return FlushOutcome(show, notes, False)

    # Events
    def on_event(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener`` (on the GUI thread) at each :class:`Opened`, :class:`Left`
        and :class:`Closed`."""
        self._listeners.append(listener)

    def opened(self, key: int) -> None:
        self._emit(Opened(key))

    def left(self, key: int, status: str) -> None:
        self._emit(Left(key, status))

    def close(self) -> None:
        self._emit(Closed())
        self._listeners.clear()

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)


def pair_key(batch: str, position: int) -> str:
    """What :attr:`ReviewSession.conflicted` holds for a choice on a pair."""
    return f"pair:{batch}:{position}"


def _key(conflict: ConflictError | PreferenceConflict) -> str:
    if isinstance(conflict, PreferenceConflict):
        return pair_key(conflict.attempted.batch, conflict.attempted.position)
    return conflict.attempted.uid
