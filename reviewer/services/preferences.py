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
from reviewer.store import preferences as store
from reviewer.store.batches import BatchRef, find_batch
from reviewer.store.rubrics import get_rubric
from reviewer.store.sessions import load_session
from reviewer.store.workspace import UnitOfWork, Workspace

__all__ = [
    "PairEntry",
    "PairItem",
    "PairQueue",
    "PreferenceError",
    "is_pair_batch",
    "load_pair_queue",
    "open_pair",
    "save_preference",
]

PREFERABLE = (DimensionKind.ORDINAL, DimensionKind.CHOICE, DimensionKind.BOOLEAN)
"""Rubric dimensions a reviewer may also give a per-dimension preference on."""


class PreferenceError(Exception):
    """The preference cannot be saved as asked; the message says why."""


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


def _batch(s: UnitOfWork, name: str) -> BatchRef:
    row = find_batch(s, name)
    if row is None:
        raise BatchError(f"no batch named {name!r} in this workspace")
    return row


def is_pair_batch(ws: Workspace, name: str) -> bool:
    """Whether batch ``name`` exists and holds pairs."""
    with ws.read() as s:
        row = find_batch(s, name)
        return row is not None and row.pairs


def load_pair_queue(ws: Workspace, batch: str, reviewer: str) -> PairQueue:
    """The pairs of ``batch`` assigned to ``reviewer`` (every pair when the batch assigns
    nobody), in batch order, with the reviewer's status on each."""
    with ws.read() as s:
        row = _batch(s, batch)
        if not row.pairs:
            raise BatchError(f"batch {batch!r} is not a pairwise batch")
        entries = store.pair_entries(s, row.id, reviewer)
    return PairQueue(
        batch=batch,
        reviewer=reviewer,
        blind=row.blind,
        entries=[PairEntry(*e) for e in entries],
    )


def _header(side: str, session: Session, blind: bool) -> str:
    who = "" if blind else f" · {session.agent.name or '?'} {session.agent.version or ''}"
    model = "" if blind or not session.model else f" · {session.model}"
    return f"{side}: {session.id}{who}{model} · {len(session.steps)} steps"


def open_pair(ws: Workspace, queue: PairQueue, position: int) -> PairItem:
    """Both sessions of pair ``position`` with their headers and the reviewer's preference."""
    with ws.read() as s:
        row = _batch(s, queue.batch)
        item = store.pair_item(s, row.id, position)
        if item is None:
            raise BatchError(f"batch {queue.batch!r} has no pair at position {position}")
        item_id, left_id, right_id = item
        left = load_session(s, left_id)
        right = load_session(s, right_id)
        rubric = get_rubric(s, row.rubric_id)
        pref = store.find_preference(s, item_id, queue.reviewer, queue.batch, position)
    return PairItem(
        batch=queue.batch,
        position=position,
        item_id=item_id,
        left=left,
        right=right,
        left_header=_header("Left", left, row.blind),
        right_header=_header("Right", right, row.blind),
        dimensions=[(d.name, d.label) for d in rubric.dimensions if d.kind in PREFERABLE],
        preference=pref,
    )


def save_preference(ws: Workspace, pref: Preference, *, submit: bool = False) -> Preference:
    """Store ``pref`` as a draft, or submitted with ``submit`` (a winner is then needed).

    A submitted preference stays submitted: saving it again updates it (a correction)."""
    if submit and pref.winner is None:
        raise PreferenceError("choose which side is better (1, 2, 3 or 4) before submitting")
    now = datetime.now(UTC)
    with ws.write() as s:
        batch = _batch(s, pref.batch)
        item = store.pair_item(s, batch.id, pref.position)
        if item is None:
            raise PreferenceError(f"batch {pref.batch!r} has no pair at position {pref.position}")
        return store.save_preference(s, item[0], pref, submit=submit, now=now)
