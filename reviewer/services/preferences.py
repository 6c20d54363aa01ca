"""Preference reviews of pair items: the pair queue, opening a pair, saving and submitting.

A preference is one row per reviewer and pair item (``preference_reviews``); every save
writes an audit entry like a single review's (action ``preference``, its values the winner
and per-dimension choices), so the history shows who preferred what, and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.preference import Preference, Winner
from reviewer.domain.rubric import DimensionKind
from reviewer.domain.session import Session
from reviewer.services.batches import BatchError
from reviewer.store.rubrics import get_rubric
from reviewer.store.sessions import load_session
from reviewer.store.tables import (
    AssignmentRow,
    AuditEntry,
    BatchItemRow,
    BatchRow,
    PreferenceReviewRow,
)
from reviewer.store.workspace import Workspace

__all__ = [
    "PairEntry",
    "PairItem",
    "PairQueue",
    "PreferenceConflict",
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


class PreferenceConflict(PreferenceError):
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


def _batch(s: OrmSession, name: str) -> BatchRow:
    row = s.scalar(select(BatchRow).where(BatchRow.name == name))
    if row is None:
        raise BatchError(f"no batch named {name!r} in this workspace")
    return row


def is_pair_batch(ws: Workspace, name: str) -> bool:
    """Whether batch ``name`` exists and holds pairs."""
    with ws.read() as s:
        row = s.scalar(select(BatchRow).where(BatchRow.name == name))
        return row is not None and bool(row.spec.get("pairs"))


def load_pair_queue(ws: Workspace, batch: str, reviewer: str) -> PairQueue:
    """The pairs of ``batch`` assigned to ``reviewer`` (every pair when the batch assigns
    nobody), in batch order, with the reviewer's status on each."""
    with ws.read() as s:
        row = _batch(s, batch)
        if not row.spec.get("pairs"):
            raise BatchError(f"batch {batch!r} is not a pairwise batch")
        items = s.execute(
            select(BatchItemRow.id, BatchItemRow.position)
            .where(BatchItemRow.batch_id == row.id)
            .order_by(BatchItemRow.position)
        ).all()
        mine = set(
            s.scalars(
                select(AssignmentRow.item_id)
                .join(BatchItemRow, BatchItemRow.id == AssignmentRow.item_id)
                .where(BatchItemRow.batch_id == row.id, AssignmentRow.reviewer == reviewer)
            )
        )
        anyone = mine or s.scalar(
            select(AssignmentRow.id)
            .join(BatchItemRow, BatchItemRow.id == AssignmentRow.item_id)
            .where(BatchItemRow.batch_id == row.id)
            .limit(1)
        )
        status = dict(
            s.execute(
                select(PreferenceReviewRow.item_id, PreferenceReviewRow.status)
                .join(BatchItemRow, BatchItemRow.id == PreferenceReviewRow.item_id)
                .where(BatchItemRow.batch_id == row.id, PreferenceReviewRow.reviewer == reviewer)
            ).all()
        )
        return PairQueue(
            batch=batch,
            reviewer=reviewer,
            blind=row.blind,
            entries=[
                PairEntry(pos, item_id, status.get(item_id, "to do"))
                for item_id, pos in items
                if not anyone or item_id in mine
            ],
        )


def _header(side: str, session: Session, blind: bool) -> str:
    who = "" if blind else f" · {session.agent.name or '?'} {session.agent.version or ''}"
    model = "" if blind or not session.model else f" · {session.model}"
    return f"{side}: {session.id}{who}{model} · {len(session.steps)} steps"


def _preference(row: PreferenceReviewRow, batch: str, position: int) -> Preference:
    return Preference(
        uid=row.uid,
        batch=batch,
        position=position,
        reviewer=row.reviewer,
        winner=Winner(row.winner) if row.winner else None,
        dimensions={k: Winner(v) for k, v in (row.dimensions or {}).items()},
        rationale=row.rationale,
        status=row.status,
        started_at=row.started_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        active_seconds=row.active_seconds,
        simulated=row.simulated,
    )


def open_pair(ws: Workspace, queue: PairQueue, position: int) -> PairItem:
    """Both sessions of pair ``position`` with their headers and the reviewer's preference."""
    with ws.read() as s:
        row = _batch(s, queue.batch)
        item = s.scalar(
            select(BatchItemRow).where(
                BatchItemRow.batch_id == row.id, BatchItemRow.position == position
            )
        )
        if item is None or item.pair_session_id is None:
            raise BatchError(f"batch {queue.batch!r} has no pair at position {position}")
        left = load_session(s, item.session_id)
        right = load_session(s, item.pair_session_id)
        rubric = get_rubric(s, row.rubric_id)
        pref = s.scalar(
            select(PreferenceReviewRow).where(
                PreferenceReviewRow.item_id == item.id,
                PreferenceReviewRow.reviewer == queue.reviewer,
            )
        )
        return PairItem(
            batch=queue.batch,
            position=position,
            item_id=item.id,
            left=left,
            right=right,
            left_header=_header("Left", left, row.blind),
            right_header=_header("Right", right, row.blind),
            dimensions=[(d.name, d.label) for d in rubric.dimensions if d.kind in PREFERABLE],
            preference=None if pref is None else _preference(pref, queue.batch, position),
        )


def _snapshot(row: PreferenceReviewRow) -> dict[str, Any]:
    return {
        "status": row.status,
        "values": {"winner": row.winner, **(row.dimensions or {})},
        "rationale": row.rationale,
    }


def _stored_after_race(s: OrmSession, item_id: int, pref: Preference) -> Preference | None:
    """The preference that won a race, read on a fresh connection (this one is spoiled)."""
    with OrmSession(s.get_bind()) as fresh:
        row = fresh.scalar(
            select(PreferenceReviewRow).where(
                PreferenceReviewRow.item_id == item_id,
                PreferenceReviewRow.reviewer == pref.reviewer,
            )
        )
        return None if row is None else _preference(row, pref.batch, pref.position)


def save_preference(ws: Workspace, pref: Preference, *, submit: bool = False) -> Preference:
    """Store ``pref`` as a draft, or submitted with ``submit`` (a winner is then needed).

    A submitted preference stays submitted: saving it again updates it (a correction)."""
    if submit and pref.winner is None:
        raise PreferenceError("choose which side is better (1, 2, 3 or 4) before submitting")
    now = datetime.now(UTC)
    with ws.write() as s:
        batch = _batch(s, pref.batch)
        item_id = s.scalar(
            select(BatchItemRow.id).where(
                BatchItemRow.batch_id == batch.id,
                BatchItemRow.position == pref.position,
                BatchItemRow.pair_session_id.is_not(None),
            )
        )
        if item_id is None:
            raise PreferenceError(f"batch {pref.batch!r} has no pair at position {pref.position}")
        row = s.scalar(
            select(PreferenceReviewRow).where(
                PreferenceReviewRow.item_id == item_id,
                PreferenceReviewRow.reviewer == pref.reviewer,
            )
        )
        before = None if row is None else _snapshot(row)
        if row is None:
            row = PreferenceReviewRow(
                uid=pref.uid,
                item_id=item_id,
                reviewer=pref.reviewer,
                status="draft",
                started_at=pref.started_at or now,
                dimensions={},
                active_seconds=0.0,
                simulated=pref.simulated,
            )
            s.add(row)
        row.winner = None if pref.winner is None else pref.winner.value
        row.dimensions = {k: v.value for k, v in sorted(pref.dimensions.items())}
        row.rationale = (pref.rationale or "").strip() or None
        row.active_seconds = max(row.active_seconds or 0.0, pref.active_seconds)
        row.updated_at = now
        if submit:
            row.submitted_at = row.submitted_at if row.status == "submitted" else now
            row.status = "submitted"
        try:
            s.flush()
        except IntegrityError:
            # another connection stored this reviewer's preference of the pair since we
            # looked (PostgreSQL: the unique constraint refused the second one)
            raise PreferenceConflict(pref, _stored_after_race(s, item_id, pref)) from None
        session_id = s.scalar(select(BatchItemRow.session_id).where(BatchItemRow.id == item_id))
        s.add(
            AuditEntry(
                at=now,
                actor=pref.reviewer,
                action="preference",
                review_uid=row.uid,
                session_id=session_id,
                before=before,
                after=_snapshot(row),
            )
        )
        s.flush()
        return _preference(row, pref.batch, pref.position)
