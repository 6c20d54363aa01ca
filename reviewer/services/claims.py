"""Team mode: reviewers claim their next items concurrently.

An item is never handed out more often than the batch's design says: assignments fix who
reviews what (claiming marks ``claimed_at`` and a lease), and a batch worked as an open pool
hands each item to ``pool_copies`` different reviewers, creating their assignments as they
claim. Claims carry a lease, so the items of a reviewer who vanished come back. An
assignment finished through :func:`submit` keeps ``claimed_at`` and loses its lease, so
later claims pass it over without looking at reviews.

PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` lets concurrent claimers pass each other;
what a claimer locked is counted again in a fresh statement before it is handed out.
SQLite: the write transaction (``BEGIN IMMEDIATE``) serialises claimers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import aliased

from reviewer.domain.review import Review, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.store.reviews import live_review, save_review
from reviewer.store.tables import AssignmentRow, BatchItemRow, BatchRow, ReviewRow, SessionRow
from reviewer.store.workspace import Workspace

DEFAULT_LEASE = timedelta(hours=1)
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


@dataclass(frozen=True)
class SavedReview:
    review: Review
    version: int
    """The stored ``version_id``: pass it as ``expected_version`` to the next save."""


def _done(a: type[AssignmentRow], batch_id: int) -> ColumnElement[bool]:
    """The assignment's reviewer has finished its item (submitted, skipped or flagged).

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


def claim_next(
    ws: Workspace,
    batch: str,
    reviewer: str,
    n: int = 1,
    *,
    lease: timedelta = DEFAULT_LEASE,
    pool_copies: int | None = None,
    now: datetime | None = None,
) -> list[Claim]:
    """Claim up to ``n`` items of ``batch`` for ``reviewer``, in batch order.

    First the reviewer's own assignments that are neither finished nor held under a live
    lease; then, when ``pool_copies`` is given (the batch is an open pool in which every
    item needs that many different reviewers), items still short of reviewers. An empty
    list: nothing left to claim now.
    """
    if n < 1:
        return []
    now = now or datetime.now(UTC)
    until = now + lease
    with ws.write() as s:
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
            .where(BatchItemRow.batch_id == batch_id, BatchItemRow.position > after)
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
            )
        )
    return out


def renew(
    ws: Workspace, claims: Sequence[Claim], *, lease: timedelta = DEFAULT_LEASE
) -> list[Claim]:
    """Extend the leases of claims still held; returns those (lapsed, reassigned ones drop)."""
    until = datetime.now(UTC) + lease
    out = []
    with ws.write() as s:
        for c in claims:
            held = s.execute(
                update(AssignmentRow)
                .where(AssignmentRow.id == c.assignment_id, AssignmentRow.reviewer == c.reviewer)
                .values(lease_until=until)
                .returning(AssignmentRow.id)
            ).scalar()
            if held is not None:
                out.append(Claim(**{**c.__dict__, "lease_until": until}))
    return out


def release(ws: Workspace, claims: Sequence[Claim]) -> None:
    """Give claimed items back now (an app closing): their leases lapse at once."""
    now = datetime.now(UTC)
    with ws.write() as s:
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


def submit(
    ws: Workspace,
    claim: Claim,
    review: Review,
    rubric: Rubric,
    *,
    expected_version: int | None = None,
) -> SavedReview:
    """Save the review of a claimed item (any status) and, when it finishes the item, end the
    lease. Raises ClaimError when the claim lapsed and its item went to someone else, and
    ``ConflictError`` (optimistic locking) when the review changed since ``expected_version``.
    """
    if review.reviewer != claim.reviewer or review.session_key != claim.session_key:
        raise ClaimError("this review does not belong to this claim")
    now = datetime.now(UTC)
    stamped = review.model_copy(update={"updated_at": now, "batch": claim.batch})
    if stamped.status is ReviewStatus.SUBMITTED and stamped.submitted_at is None:
        stamped.submitted_at = now
    with ws.write() as s:
        a = s.get(AssignmentRow, claim.assignment_id, with_for_update=True)
        if a is None or a.reviewer != claim.reviewer:
            raise ClaimError(
                f"your claim on item {claim.position} of {claim.batch!r} lapsed and the item "
                "went to another reviewer; your review was not saved to the workspace"
            )
        save_review(s, stamped, rubric, expected_version=expected_version)
        if stamped.status.value in FINAL:
            a.lease_until = None
        version = s.scalar(select(ReviewRow.version_id).where(ReviewRow.uid == stamped.uid))
    assert version is not None
    return SavedReview(stamped, version)
