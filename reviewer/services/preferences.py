"""Preference reviews of pair items: the pair queue, opening a pair, saving and submitting.

A preference is one row per reviewer and pair item (``preference_reviews``); every save
writes an audit entry like a single review's (action ``preference``, its values the winner
and per-dimension choices), so the history shows who preferred what, and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from reviewer.domain.preference import Preference
from reviewer.domain.rubric import DimensionKind
from reviewer.domain.session import Session
from reviewer.services.batches import BatchError
from reviewer.store.batches import BatchRef, find_batch
from reviewer.store.preferences import (
    PreferenceTaken,
    find_preference,
    pair_item_id,
    pair_sessions,
    preference_from_row,
    reviewer_pairs,
    write_preference,
)
from reviewer.store.rubrics import get_rubric
from reviewer.store.sessions import load_session
from reviewer.store.workspace import Workspace

__all__ = [
    "PairEntry",
    "PairItem",
    "PairQueue",
    "PreferenceError",
    "PreferenceRaceError",
    "is_pair_batch",
    "load_pair_queue",
    "open_pair",
    "save_preference",
]

PREFERABLE = (DimensionKind.ORDINAL, DimensionKind.CHOICE, DimensionKind.BOOLEAN)
"""Rubric dimensions a reviewer may also give a per-dimension preference on."""


class PreferenceError(Exception):
    """The preference cannot be saved as asked; the message says why."""


class PreferenceRaceError(PreferenceError):
    """Another app stored this reviewer's preference of the pair at the same moment (team
    mode): nothing was overwritten. ``stored`` is the one in the workspace (None when it
    could not be read back), ``attempted`` the one not saved; the caller shows both."""

    def __init__(self, attempted: Preference, stored: Preference | None) -> None:
        self.attempted = attempted
        self.stored = stored
        super().__init__(
            f"preference of pair {attempted.position + 1} of {attempted.batch!r} by "
            f"{attempted.reviewer} was saved elsewhere at the same moment; nothing was "
            "overwritten, open the pair again to see it"
        )


@dataclass(frozen=True)
class PairEntry:
    position: int
    item_id: int
    status: str
    """"to do", "draft" or "submitted"."""


@dataclass
class PairQueue:
    batch: str
    reviewer: str
    blind: bool
    entries: list[PairEntry]

    def next_todo(self, after: int | None) -> int | None:
        """The position of the next pair not yet submitted after ``after``, wrapping."""
        order = [e.position for e in self.entries]
        if not order:
            return None
        start = order.index(after) + 1 if after in order else 0
        for k in range(len(order)):
            e = self.entries[(start + k) % len(order)]
            if e.status != "submitted" and e.position != after:
                return e.position
        return None

    def mark(self, position: int, status: str) -> None:
        self.entries = [
            PairEntry(e.position, e.item_id, status) if e.position == position else e
            for e in self.entries
        ]


@dataclass(frozen=True)
class PairItem:
    batch: str
    position: int
    item_id: int
    left: Session
    right: Session
    left_header: str
    right_header: str
    dimensions: list[tuple[str, str]]
    """(name, label) of the rubric dimensions open to a per-dimension preference."""
    preference: Preference | None


def _known(found: BatchRef | None, name: str) -> BatchRef:
    if found is None:
        raise BatchError(f"no batch named {name!r} in this workspace")
    return found


def is_pair_batch(ws: Workspace, name: str) -> bool:
    """Whether batch ``name`` exists and holds pairs."""
    with ws.read() as s:
        found = find_batch(s, name)
    return found is not None and found.pairs


def load_pair_queue(ws: Workspace, batch: str, reviewer: str) -> PairQueue:
    """The pairs of ``batch`` assigned to ``reviewer`` (every pair when the batch assigns
    nobody), in batch order, with the reviewer's status on each."""
    with ws.read() as s:
        found = _known(find_batch(s, batch), batch)
        if not found.pairs:
            raise BatchError(f"batch {batch!r} is not a pairwise batch")
        rows = reviewer_pairs(s, found.id, reviewer)
    return PairQueue(
        batch=batch,
        reviewer=reviewer,
        blind=found.blind,
        entries=[PairEntry(pos, item_id, status) for pos, item_id, status in rows],
    )


def _header(side: str, session: Session, blind: bool) -> str:
    who = "" if blind else f" · {session.agent.name or '?'} {session.agent.version or ''}"
    model = "" if blind or not session.model else f" · {session.model}"
    return f"{side}: {session.id}{who}{model} · {len(session.steps)} steps"


def open_pair(ws: Workspace, queue: PairQueue, position: int) -> PairItem:
    """Both sessions of pair ``position`` with their headers and the reviewer's preference."""
    with ws.read() as s:
        found = _known(find_batch(s, queue.batch), queue.batch)
        sides = pair_sessions(s, found.id, position)
        if sides is None:
            raise BatchError(f"batch {queue.batch!r} has no pair at position {position}")
        item_id, left_id, right_id = sides
        left = load_session(s, left_id)
        right = load_session(s, right_id)
        rubric = get_rubric(s, found.rubric_id)
        pref = find_preference(s, item_id, queue.reviewer)
        return PairItem(
            batch=queue.batch,
            position=position,
            item_id=item_id,
            left=left,
            right=right,
            left_header=_header("Left", left, found.blind),
            right_header=_header("Right", right, found.blind),
            dimensions=[(d.name, d.label) for d in rubric.dimensions if d.kind in PREFERABLE],
            preference=None if pref is None else preference_from_row(pref, queue.batch, position),
        )


def save_preference(ws: Workspace, pref: Preference, *, submit: bool = False) -> Preference:
    """Store ``pref`` as a draft, or submitted with ``submit`` (a winner is then needed).

    A submitted preference stays submitted: saving it again updates it (a correction)."""
    if submit and pref.winner is None:
        raise PreferenceError("choose which side is better (1, 2, 3 or 4) before submitting")
    now = datetime.now(UTC)
    with ws.write() as s:
        _known(find_batch(s, pref.batch), pref.batch)
        item_id = pair_item_id(s, pref.batch, pref.position)
        if item_id is None:
            raise PreferenceError(f"batch {pref.batch!r} has no pair at position {pref.position}")
        row = find_preference(s, item_id, pref.reviewer)
        status = "draft" if row is None else row.status
        submitted_at = None if row is None else row.submitted_at
        if submit:
            submitted_at = submitted_at if status == "submitted" else now
            status = "submitted"
        try:
            row = write_preference(s, item_id, pref, now, status=status, submitted_at=submitted_at)
        except PreferenceTaken as race:
            # another app stored this reviewer's preference of the pair since we looked
            # (PostgreSQL: the unique constraint refused this one)
            stored = (
                None
                if race.stored is None
                else preference_from_row(race.stored, pref.batch, pref.position)
            )
            raise PreferenceRaceError(pref, stored) from None
        return preference_from_row(row, pref.batch, pref.position)
