"""Working an open pool batch in the app (team mode): the reviewer holds one item at a time.

A batch drawn for nobody is an open pool (:func:`reviewer.services.claims.pool_copies`).
The app claims the reviewer's next item (never one another reviewer holds), renews the
lease while the item is open, ends it when the review is submitted or flagged, gives the
item back to the pool when it is skipped, and lets it lapse at once when the app closes,
so that it comes back to the next claimer. Qt-free: the workbench calls these methods on
its worker, in order with its saves, and shows :meth:`TeamQueue.note`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reviewer.domain.review import ReviewStatus
from reviewer.services import claims
from reviewer.services.claims import Claim
from reviewer.store.workspace import Workspace

APP_LEASE = timedelta(minutes=15)
"""How long the app holds an item without hearing from the reviewer's computer."""
RENEW_EVERY = timedelta(minutes=5)
"""How often an open app renews its lease (well within :data:`APP_LEASE`)."""


def _clock(at: datetime) -> str:
    return f"{at.astimezone():%H:%M}"


class TeamQueue:
    """One reviewer working one pool batch: which item they hold, and what became of it."""

    def __init__(
        self, ws: Workspace, batch: str, reviewer: str, copies: int, *, lease: timedelta = APP_LEASE
    ) -> None:
        self.ws = ws
        self.batch = batch
        self.reviewer = reviewer
        self.copies = copies
        self.lease = lease
        self.held: Claim | None = None
        """The item this app holds now (None: nothing left to claim, or closed)."""
        self.lost: str | None = None
        """Why the last held item went away without the reviewer finishing it."""

    @classmethod
    def open(
        cls,
        ws: Workspace,
        batch: str | None,
        reviewer: str,
        *,
        lease: timedelta = APP_LEASE,
        pairs: bool = False,
    ) -> TeamQueue | None:
        """The queue for ``batch`` when it is an open pool of single items (of pair items
        with ``pairs``: the pair bench's), else None (items are assigned)."""
        if batch is None:
            return None
        copies = claims.pool_copies(ws, batch, pairs=pairs)
        return None if copies is None else cls(ws, batch, reviewer, copies, lease=lease)

    def next(self) -> Claim | None:
        """The item held, claiming the next one when none is."""
        if self.held is None:
            got = claims.claim_next(
                self.ws, self.batch, self.reviewer, lease=self.lease, pool_copies=self.copies
            )
            self.held = got[0] if got else None
        return self.held

    def saved(self) -> Claim | None:
        """A review or preference of the reviewer's was stored: when it finished the item
        held (submitted or flagged) its lease ends; when it skipped it, the item goes back to
        the pool (for others). Then the next item is claimed. Returns the item held now."""
        held = self.held
        if held is not None:
            status = claims.outcome(self.ws, held)
            if status in claims.FINAL:
                if status == ReviewStatus.SKIPPED.value:
                    claims.give_back(self.ws, held)
                else:
                    claims.finish(self.ws, [held])
                self.held = None
                self.lost = None
        return self.next()

    def renew(self) -> Claim | None:
        """Extend the lease of the item held. When it lapsed and went to another reviewer,
        :attr:`lost` says to whom and the next item is claimed."""
        held = self.held
        if held is None:
            return self.next()
        kept = claims.renew(self.ws, [held], lease=self.lease)
        if kept:
            self.held = kept[0]
            return self.held
        self.held = None
        self.lost = (
            f"Item {held.position + 1} was taken by {self.holder_of(held) or 'another reviewer'}"
        )
        return self.next()

    def holder_of(self, claim: Claim) -> str | None:
        """Another reviewer holding the item of ``claim`` now, if any."""
        others = [h for h in claims.holders(self.ws, self.batch, claim.position)]
        names = [h.reviewer for h in others if h.reviewer != self.reviewer]
        return ", ".join(names) or None

    def close(self) -> None:
        """Give the item held back now (the app closes or changes batch)."""
        if self.held is not None:
            claims.release(self.ws, [self.held])
            self.held = None

    def note(self) -> str:
        """One line for the status bar."""
        lost = f"{self.lost} · " if self.lost else ""
        if self.held is None:
            return f"{lost}Pool {self.batch}: nothing left to claim now"
        return (
            f"{lost}Item {self.held.position + 1} of pool {self.batch} "
            f"held until {_clock(self.held.lease_until)}"
        )
