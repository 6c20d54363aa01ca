"""Team mode: reviewers claim their next items concurrently.

An item is never handed out more often than the batch's design says: assignments fix who
reviews what (claiming marks ``claimed_at`` and a lease), and a batch worked as an open pool
hands each item to ``pool_copies`` different reviewers, creating their assignments as they
claim. Claims carry a lease, so the items of a reviewer who vanished come back. An
assignment finished through :func:`submit` keeps ``claimed_at`` and loses its lease, so
later claims pass it over without looking at reviews.

The SQL (locking, counting, leases) is :mod:`reviewer.store.claims`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reviewer.domain.review import Review, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.store import claims as store
from reviewer.store.claims import FINAL, Claim, ClaimError, Holder
from reviewer.store.reviews import review_version, save_review
from reviewer.store.workspace import Workspace

__all__ = [
    "DEFAULT_LEASE",
    "FINAL",
    "Claim",
    "ClaimError",
    "Holder",
    "SavedReview",
    "claim_next",
    "finish",
    "give_back",
    "holders",
    "outcome",
    "pool_copies",
    "release",
    "renew",
    "submit",
]

DEFAULT_LEASE = timedelta(hours=1)


@dataclass(frozen=True)
class SavedReview:
    review: Review
    version: int
    """The stored ``version_id``: pass it as ``expected_version`` to the next save."""


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
    item needs that many different reviewers), items still short of reviewers and not
    finished or given back by this reviewer. An empty list: nothing left to claim now.
    """
    if n < 1:
        return []
    now = now or datetime.now(UTC)
    with ws.write() as s:
        return store.claim(
            s, batch, reviewer, n, now=now, until=now + lease, pool_copies=pool_copies
        )


def pool_copies(ws: Workspace, batch: str, *, pairs: bool = False) -> int | None:
    """Reviewers per item when ``batch`` is an open pool (drawn for nobody) of single items
    (of pairs with ``pairs``), else None."""
    with ws.read() as s:
        return store.pool_copies(s, batch, pairs=pairs)


def renew(
    ws: Workspace, claims: Sequence[Claim], *, lease: timedelta = DEFAULT_LEASE
) -> list[Claim]:
    """Extend the leases of claims still held; returns those (lapsed, reassigned ones drop)."""
    with ws.write() as s:
        return store.renew(s, claims, datetime.now(UTC) + lease)


def release(ws: Workspace, claims: Sequence[Claim]) -> None:
    """Give claimed items back now (an app closing): their leases lapse at once."""
    with ws.write() as s:
        store.release(s, claims, datetime.now(UTC))


def finish(ws: Workspace, claims: Sequence[Claim]) -> None:
    """The claimed items are done (their review or preference was saved as final
    elsewhere): end their leases so that later claims pass them over."""
    with ws.write() as s:
        store.finish(s, claims)


def give_back(ws: Workspace, claim: Claim) -> None:
    """The reviewer skipped a pool item: another reviewer may claim it now, they will not."""
    with ws.write() as s:
        store.give_back(s, claim)


def outcome(ws: Workspace, claim: Claim) -> str | None:
    """The status of the claimer's review (or preference) of the claimed item, if any."""
    with ws.read() as s:
        return store.outcome(s, claim)


def holders(ws: Workspace, batch: str, position: int) -> list[Holder]:
    """Who holds item ``position`` of ``batch`` now, and until when."""
    with ws.read() as s:
        return store.holders(s, batch, position, datetime.now(UTC))


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
        if not store.hold(s, claim):
            raise ClaimError(
                f"your claim on item {claim.position} of {claim.batch!r} lapsed and the item "
                "went to another reviewer; your review was not saved to the workspace"
            )
        save_review(s, stamped, rubric, expected_version=expected_version)
        if stamped.status.value in FINAL:
            store.finish(s, [claim])
        version = review_version(s, stamped.uid)
    assert version is not None
    return SavedReview(stamped, version)
