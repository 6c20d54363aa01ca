"""Team mode in SQL: claims, leases and the pool (the use cases are
:mod:`reviewer.services.claims`).

PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` lets concurrent claimers pass each other;
what a claimer locked is counted again in a fresh statement before it is handed out.
SQLite: the write transaction (``BEGIN IMMEDIATE``) serialises claimers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import aliased

from reviewer.domain.review import ReviewStatus
from reviewer.store.reviews import live_review
from reviewer.store.tables import (
    AssignmentRow,
    BatchItemRow,
    BatchRow,
    PreferenceReviewRow,
    ReviewRow,
    SessionRow,
)

FINAL = (ReviewStatus.SUBMITTED.value, ReviewStatus.SKIPPED.value, ReviewStatus.FLAGGED.value)
"""Statuses that finish an item for its reviewer."""


class ClaimError(Exception):
    """A claim cannot be made or used; one line for the user."""


@dataclass(frozen=True)
class Claim:
    """An item handed to a reviewer until ``lease_until``."""

    assignment_id: int
    item_id: int
    position: int
    session_id: int
    session_key: str
    session_revision: int
    is_gold: bool
    reviewer: str
    batch: str
    lease_until: datetime
    pair: bool = False
    """A pair item (its preference is stored in ``preference_reviews``)."""


@dataclass(frozen=True)
class Holder:
    """Who holds an item under a live lease, and until when."""

    reviewer: str
    lease_until: datetime


def pool_copies(s: OrmSession, batch: str, *, pairs: bool = False) -> int | None:
    """How many different reviewers each item of ``batch`` needs when the batch is an open
    pool (drawn for nobody: its spec names no reviewers) of single items (of pairs with
    ``pairs``), else None. ``pool_copies`` in the spec says how many; one by default."""
    spec = s.scalar(select(BatchRow.spec).where(BatchRow.name == batch))
    if spec is None or "reviewers" not in spec or spec["reviewers"]:
        return None
    if bool(spec.get("pairs")) != pairs:
        return None
    return max(1, int(spec.get("pool_copies") or 1))


def _finished_by(reviewer: str, batch_id: int) -> ColumnElement[bool]:
    """The reviewer finished (or gave back) this batch item already: a final review of its
    session in the batch, or a submitted preference of the pair."""
    return exists(
        select(ReviewRow.id)
        .where(
            ReviewRow.session_id == BatchItemRow.session_id,
            ReviewRow.reviewer == reviewer,
            ReviewRow.batch_id == batch_id,
            live_review(),
            ReviewRow.status.in_(FINAL),
        )
        .correlate(BatchItemRow)
    ) | exists(
        select(PreferenceReviewRow.id)
        .where(
            PreferenceReviewRow.item_id == BatchItemRow.id,
            PreferenceReviewRow.reviewer == reviewer,
            PreferenceReviewRow.status == ReviewStatus.SUBMITTED.value,
        )
        .correlate(BatchItemRow)
    )


def _done(a: type[AssignmentRow], batch_id: int) -> ColumnElement[bool]:
    """The assignment's reviewer has finished its item (submitted, skipped or flagged; a
    pair item: its preference submitted).

    Self-contained (it finds the item's session itself) so that it can guard an UPDATE: in
    a fresh statement it sees every review committed until then.
    """
    item = aliased(BatchItemRow)
    return exists(
        select(ReviewRow.id)
        .join(item, item.session_id == ReviewRow.session_id)
        .where(
            item.id == a.item_id,
            ReviewRow.reviewer == a.reviewer,
            ReviewRow.batch_id == batch_id,
            live_review(),
            ReviewRow.status.in_(FINAL),
        )
        .correlate_except(ReviewRow, item)
    ) | exists(
        select(PreferenceReviewRow.id)
        .where(
            PreferenceReviewRow.item_id == a.item_id,
            PreferenceReviewRow.reviewer == a.reviewer,
            PreferenceReviewRow.status == ReviewStatus.SUBMITTED.value,
        )
        .correlate_except(PreferenceReviewRow)
    )


def _batch_id(s: OrmSession, batch: str) -> int:
    found = s.scalar(select(BatchRow.id).where(BatchRow.name == batch))
    if found is None:
        raise ClaimError(f"no batch named {batch!r} in this workspace")
    return found


def _free(a: type[AssignmentRow], now: datetime) -> ColumnElement[bool]:
    """Never claimed, or claimed under a lease that lapsed (a finished item has no lease)."""
    return or_(a.claimed_at.is_(None), and_(a.lease_until.is_not(None), a.lease_until <= now))


def _lapsed(a: type[AssignmentRow], now: datetime) -> ColumnElement[bool]:
    """Claimed, and the lease ran out before the item was finished through a claim."""
    return and_(a.claimed_at.is_not(None), a.lease_until.is_not(None), a.lease_until <= now)


def claim(
    s: OrmSession,
    batch: str,
    reviewer: str,
    n: int,
    *,
    now: datetime,
    until: datetime,
    pool_copies: int | None,
) -> list[Claim]:
    """Claim up to ``n`` items of ``batch`` for ``reviewer`` (see
    :func:`reviewer.services.claims.claim_next`), in this write transaction."""
    batch_id = _batch_id(s, batch)
    ids = _claim_assigned(s, batch_id, reviewer, n, now, until)
    if pool_copies is not None and len(ids) < n:
        ids += _claim_pool(s, batch_id, reviewer, n - len(ids), pool_copies, now, until)
    return _claims(s, ids, batch)


def _claim_assigned(
    s: OrmSession, batch_id: int, reviewer: str, n: int, now: datetime, until: datetime
) -> list[int]:
    # Two single-table reads joined here rather than one join: their plans stay cheap
    # whatever the planner's statistics say about a batch drawn a second ago.
    mine = s.execute(
        select(AssignmentRow.id, AssignmentRow.item_id).where(
            AssignmentRow.reviewer == reviewer, _free(AssignmentRow, now)
        )
    ).all()
    items = sorted({item for _, item in mine})
    positions: dict[int, int] = {}
    for start in range(0, len(items), 500):
        positions.update(
            s.execute(
                select(BatchItemRow.id, BatchItemRow.position).where(
                    BatchItemRow.id.in_(items[start : start + 500]),
                    BatchItemRow.batch_id == batch_id,
                )
            ).all()
        )
    queue = [aid for _, aid in sorted((positions[i], a) for a, i in mine if i in positions)]
    got: list[int] = []
    while queue and len(got) < n:
        window, queue = queue[: n - len(got)], queue[n - len(got) :]
        locked = list(
            s.scalars(
                select(AssignmentRow.id)
                .where(AssignmentRow.id.in_(window), _free(AssignmentRow, now))
                .with_for_update(skip_locked=True)
            )
        )
        if not locked:
            continue
        # Checked again in this fresh statement, now that we hold the rows: an item
        # finished meanwhile (through the workbench, say) is not handed out.
        taken = list(
            s.scalars(
                update(AssignmentRow)
                .where(AssignmentRow.id.in_(locked), ~_done(AssignmentRow, batch_id))
                .values(claimed_at=now, lease_until=until)
                .returning(AssignmentRow.id)
            )
        )
        finished = set(locked) - set(taken)
        if finished:  # remember it, so that later claims skip it without looking
            s.execute(
                update(AssignmentRow)
                .where(AssignmentRow.id.in_(finished))
                .values(claimed_at=func.coalesce(AssignmentRow.claimed_at, now), lease_until=None)
            )
        got += sorted(taken, key=window.index)
    return got


def _pool_candidates(
    s: OrmSession,
    batch_id: int,
    reviewer: str,
    copies: int,
    now: datetime,
    after: int,
    limit: int,
) -> list[tuple[int, int]]:
    """(item, position) of the next items after position ``after`` that look short of
    reviewers and are not the reviewer's already (checked precisely once locked)."""
    a = AssignmentRow
    return list(
        s.execute(
            select(BatchItemRow.id, BatchItemRow.position)
            .outerjoin(a, a.item_id == BatchItemRow.id)
            .where(
                BatchItemRow.batch_id == batch_id,
                BatchItemRow.position > after,
                ~_finished_by(reviewer, batch_id),
            )
            .group_by(BatchItemRow.id, BatchItemRow.position)
            .having(func.count(a.id).filter(~_lapsed(a, now)) < copies)
            .having(func.coalesce(func.max(case((a.reviewer == reviewer, 1), else_=0)), 0) == 0)
            .order_by(BatchItemRow.position)
            .limit(limit)
        ).all()
    )


def _claim_pool(
    s: OrmSession,
    batch_id: int,
    reviewer: str,
    n: int,
    copies: int,
    now: datetime,
    until: datetime,
) -> list[int]:
    got: list[int] = []
    after = -1
    while len(got) < n:
        need = n - len(got)
        candidates = _pool_candidates(s, batch_id, reviewer, copies, now, after, 2 * need + 8)
        if not candidates:
            break
        locked = list(
            s.execute(
                select(BatchItemRow.id, BatchItemRow.position)
                .where(BatchItemRow.id.in_([c for c, _ in candidates]))
                .order_by(BatchItemRow.position)
                .limit(need)
                .with_for_update(skip_locked=True)
            ).all()
        )
        # Next round: past what we locked, or past every candidate when all were taken.
        after = locked[-1][1] if len(locked) == need else candidates[-1][1]
        if locked:
            got += _take_slots(s, batch_id, [i for i, _ in locked], reviewer, copies, now, until)
    return got


def _take_slots(
    s: OrmSession,
    batch_id: int,
    items: Sequence[int],
    reviewer: str,
    copies: int,
    now: datetime,
    until: datetime,
) -> list[int]:
    """Hand the locked ``items`` to ``reviewer`` where they still have room, counting their
    assignments again in this fresh statement (every claimer of an item holds its lock)."""
    rows = s.execute(
        select(
            AssignmentRow.id,
            AssignmentRow.item_id,
            AssignmentRow.reviewer,
            and_(_lapsed(AssignmentRow, now), ~_done(AssignmentRow, batch_id)).label("stale"),
        ).where(AssignmentRow.item_id.in_(items))
    ).all()
    by_item: dict[int, list[tuple[int, str, bool]]] = defaultdict(list)
    for aid, item_id, who, is_stale in rows:
        by_item[item_id].append((aid, who, bool(is_stale)))
    got: list[int] = []
    fresh: list[int] = []
    for item_id in items:
        held = by_item[item_id]
        if any(who == reviewer for _, who, _ in held):
            continue
        if sum(not is_stale for _, _, is_stale in held) >= copies:
            continue
        stale_ids = [aid for aid, _, is_stale in held if is_stale]
        if stale_ids:
            # A lapsed claim: its slot passes to this reviewer (their draft, if any, stays).
            moved = s.execute(
                update(AssignmentRow)
                .where(AssignmentRow.id == stale_ids[0], _lapsed(AssignmentRow, now))
                .values(reviewer=reviewer, claimed_at=now, lease_until=until)
                .returning(AssignmentRow.id)
            ).scalar()
            if moved is not None:
                got.append(moved)
            continue
        fresh.append(item_id)
    if fresh:
        got += s.scalars(
            insert(AssignmentRow).returning(AssignmentRow.id),
            [
                {"item_id": i, "reviewer": reviewer, "claimed_at": now, "lease_until": until}
                for i in fresh
            ],
        ).all()
    return got


def _claims(s: OrmSession, assignment_ids: Sequence[int], batch: str) -> list[Claim]:
    if not assignment_ids:
        return []
    rows = s.execute(
        select(AssignmentRow, BatchItemRow, SessionRow.session_key, SessionRow.revision)
        .join(BatchItemRow, BatchItemRow.id == AssignmentRow.item_id)
        .join(SessionRow, SessionRow.id == BatchItemRow.session_id)
        .where(AssignmentRow.id.in_(list(assignment_ids)))
        .order_by(BatchItemRow.position)
    ).all()
    out = []
    for a, item, key, revision in rows:
        assert a.lease_until is not None
        out.append(
            Claim(
                assignment_id=a.id,
                item_id=item.id,
                position=item.position,
                session_id=item.session_id,
                session_key=key,
                session_revision=revision,
                is_gold=item.is_gold,
                reviewer=a.reviewer,
                batch=batch,
                lease_until=a.lease_until,
                pair=item.pair_session_id is not None,
            )
        )
    return out


def renew(s: OrmSession, claims: Sequence[Claim], until: datetime) -> list[Claim]:
    """Extend the leases of ``claims`` still held by their reviewer; returns those."""
    out = []
    for c in claims:
        held = s.execute(
            update(AssignmentRow)
            .where(AssignmentRow.id == c.assignment_id, AssignmentRow.reviewer == c.reviewer)
            .values(lease_until=until)
            .returning(AssignmentRow.id)
        ).scalar()
        if held is not None:
            out.append(replace(c, lease_until=until))
    return out


def release(s: OrmSession, claims: Sequence[Claim], now: datetime) -> None:
    """Let the leases of ``claims`` lapse at ``now`` (finished items keep no lease)."""
    for c in claims:
        s.execute(
            update(AssignmentRow)
            .where(
                AssignmentRow.id == c.assignment_id,
                AssignmentRow.reviewer == c.reviewer,
                AssignmentRow.lease_until.is_not(None),
            )
            .values(lease_until=now)
        )


def finish(s: OrmSession, claims: Sequence[Claim]) -> None:
    """End the leases of finished ``claims``: later claims pass them over."""
    for c in claims:
        s.execute(
            update(AssignmentRow)
            .where(AssignmentRow.id == c.assignment_id, AssignmentRow.reviewer == c.reviewer)
            .values(lease_until=None)
        )


def give_back(s: OrmSession, claim: Claim) -> None:
    """Hand a pool item back (the reviewer skipped it): the slot is free for another
    reviewer at once; the reviewer's final review keeps it from coming back to them."""
    s.execute(
        delete(AssignmentRow).where(
            AssignmentRow.id == claim.assignment_id, AssignmentRow.reviewer == claim.reviewer
        )
    )


def hold(s: OrmSession, claim: Claim) -> bool:
    """Lock the claim's assignment for this transaction; False when it went to someone else."""
    a = s.get(AssignmentRow, claim.assignment_id, with_for_update=True)
    return a is not None and a.reviewer == claim.reviewer


def holders(s: OrmSession, batch: str, position: int, now: datetime) -> list[Holder]:
    """Who holds item ``position`` of ``batch`` under a live lease, soonest lapse first."""
    return [
        Holder(who, until)
        for who, until in s.execute(
            select(AssignmentRow.reviewer, AssignmentRow.lease_until)
            .join(BatchItemRow, BatchItemRow.id == AssignmentRow.item_id)
            .join(BatchRow, BatchRow.id == BatchItemRow.batch_id)
            .where(
                BatchRow.name == batch,
                BatchItemRow.position == position,
                AssignmentRow.lease_until > now,
            )
            .order_by(AssignmentRow.lease_until)
        ).all()
        if until is not None
    ]


def outcome(s: OrmSession, claim: Claim) -> str | None:
    """The status of the claim reviewer's live review of the item in its batch (a pair
    item: of their preference), or None when there is none."""
    if claim.pair:
        return s.scalar(
            select(PreferenceReviewRow.status).where(
                PreferenceReviewRow.item_id == claim.item_id,
                PreferenceReviewRow.reviewer == claim.reviewer,
            )
        )
    return s.scalar(
        select(ReviewRow.status)
        .join(BatchRow, BatchRow.id == ReviewRow.batch_id)
        .where(
            BatchRow.name == claim.batch,
            ReviewRow.session_id == claim.session_id,
            ReviewRow.reviewer == claim.reviewer,
            ReviewRow.role == "reviewer",
            live_review(),
        )
    )
