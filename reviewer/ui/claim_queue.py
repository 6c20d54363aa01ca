"""Team mode in the workbench: an open pool batch is worked one claimed item at a time.

:class:`ClaimQueue` drives a :class:`reviewer.services.team.TeamQueue` on the workbench's
item worker, so every claim step lands after the saves queued before it: the item held is
claimed when the workspace opens, renewed every few minutes, finished or given back once
its review is saved, and released when the window closes. Its :attr:`label` (in the status
bar) says which item is held and until when, or who took it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from reviewer.services.claims import FINAL, Claim
from reviewer.services.team import APP_LEASE, RENEW_EVERY, TeamQueue
from reviewer.store.workspace import Workspace
from reviewer.ui.messages import plain_label

if TYPE_CHECKING:
    from reviewer.ui.workbench import Workbench


def _reported(
    fn: Callable[[TeamQueue], Claim | None], team: TeamQueue
) -> tuple[Claim | None, str, str | None]:
    """On the worker: a step, with what the GUI shows of its outcome."""
    claim = fn(team)
    note, lost = team.note(), team.lost
    team.lost = None  # told once; the label keeps it until the next step
    return claim, note, lost


class ClaimQueue(QObject):
    """The pool side of one workbench (inactive unless its batch is an open pool)."""

    def __init__(self, bench: Workbench, *, lease: timedelta = APP_LEASE) -> None:
        super().__init__(bench)
        self.bench = bench
        self.lease = lease
        self.team: TeamQueue | None = None
        """Used on the item worker only; the GUI thread reads :attr:`held`."""
        self.held: Claim | None = None
        """The item held, as last reported by the worker."""
        self.label = plain_label()
        self._want: int | None = None
        """The session of the item just claimed, to open once the queue shows it."""
        self._renew = QTimer(self)
        self._renew.setInterval(int(RENEW_EVERY.total_seconds() * 1000))
        self._renew.timeout.connect(self.renew)
        bench.review_saved.connect(self._saved)
        bench.queue_loaded.connect(self._queue_loaded)

    @property
    def active(self) -> bool:
        """Whether the workbench's batch is an open pool worked by claims."""
        return self.team is not None

    def start(self, ws: Workspace | None, reviewer: str, batch: str | None) -> None:
        """The workbench shows another workspace, reviewer or batch: release what the old
        one held and, when the new batch is a pool, claim its first item."""
        self.stop()
        if ws is None or batch is None:
            return
        self.bench.items.run(
            TeamQueue.open, ws, batch, reviewer, lease=self.lease, on_done=self._opened
        )

    def stop(self) -> None:
        """Give back the item held (queued after pending saves)."""
        team, self.team = self.team, None
        self.held = None
        self._renew.stop()
        self._want = None
        self.label.clear()
        if team is not None:
            self.bench.items.run(team.close, on_error=lambda _e: None)  # the lease lapses anyway

    def _saved(self, _uid: str, status: str) -> None:
        if status in FINAL:
            self._step(TeamQueue.saved)

    def renew(self) -> None:
        self._step(TeamQueue.renew)

    def _opened(self, team: TeamQueue | None) -> None:
        if team is None or team.ws is not self.bench.ws:
            return
        self.team = team
        self._renew.start()
        self._step(TeamQueue.next)

    def _step(self, fn: Callable[[TeamQueue], Claim | None]) -> None:
        team = self.team
        if team is None:
            return
        self.bench.items.run(
            _reported, fn, team, on_done=lambda r: self._held(team, *r), on_error=self._failed
        )

    def _failed(self, exc: BaseException) -> None:
        self.label.setText(f"Pool: claim failed ({exc}); retried in a few minutes")

    def _held(self, team: TeamQueue, claim: Claim | None, note: str, lost: str | None) -> None:
        if team is not self.team:
            return
        self.held = claim
        self.label.setText(note)
        if lost:
            self.bench.message.emit(lost)
        if claim is None:
            self.bench.stop_expecting()
            self.bench.message.emit(note)
            return
        if self.bench.current_session_id() == claim.session_id:
            return
        self._want = claim.session_id
        self.bench.reload_queue()  # the claim added the item to the reviewer's queue

    def _queue_loaded(self, _count: int) -> None:
        if self._want is not None:
            # after the workbench picked its own row for the new queue
            QTimer.singleShot(0, self._open_wanted)

    def _open_wanted(self) -> None:
        want, self._want = self._want, None
        row = None if want is None else self.bench.model.row_of(want)
        if row is not None:
            self.bench.table.selectRow(row)
            self.bench.table.scrollTo(self.bench.model.index(row, 0))
