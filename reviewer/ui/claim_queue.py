"""Team mode in the app: an open pool batch is worked one claimed item at a time.

:class:`ClaimQueue` (the workbench's) and :class:`PairClaims` (the pair bench's) drive a
:class:`reviewer.services.team.TeamQueue` on their bench's ordered worker, so every claim
step lands after the saves queued before it: the item held is claimed when the batch opens,
renewed every few minutes, finished or given back once its review is saved, and released
when the window closes. Their :attr:`label` (in the status bar) says which item is held and
until when, or who took it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from reviewer.services.claims import FINAL, Claim
from reviewer.services.team import APP_LEASE, RENEW_EVERY, TeamQueue
from reviewer.ui.messages import plain_label
from reviewer.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from reviewer.services.workspaces import Workspace
    from reviewer.ui.pair_bench import PairBench
    from reviewer.ui.workbench import Workbench


def _reported(
    fn: Callable[[TeamQueue], Claim | None], team: TeamQueue
) -> tuple[Claim | None, str, str | None]:
    """On the worker: a step, with what the GUI shows of its outcome."""
    claim = fn(team)
    note, lost = team.note(), team.lost
    team.lost = None  # told once; the label keeps it until the next step
    return claim, note, lost


class _PoolClaims(QObject):
    """What both benches share: the queue, its renewal, the label, giving back on stop."""

    def __init__(
        self, parent: QObject, runner: TaskRunner, tell: Callable[[str], None], lease: timedelta
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self._tell = tell
        self.lease = lease
        self.team: TeamQueue | None = None
        """Used on the worker only; the GUI thread reads :attr:`held`."""
        self.held: Claim | None = None
        """The item held, as last reported by the worker."""
        self.label = plain_label()
        self._renew = QTimer(self)
        self._renew.setInterval(int(RENEW_EVERY.total_seconds() * 1000))
        self._renew.timeout.connect(lambda: self._step(TeamQueue.renew))

    @property
    def active(self) -> bool:
        """Whether the bench's batch is an open pool worked by claims."""
        return self.team is not None

    def _opened(self, team: TeamQueue | None) -> None:
        self.team = team
        if team is not None:
            self._renew.start()
            self._step(TeamQueue.next)

    def _saved(self, _uid: str, status: str) -> None:
        if status in FINAL:  # the item is done or skipped: finish or give back, claim next
            self._step(TeamQueue.saved)

    def _step(self, fn: Callable[[TeamQueue], Claim | None]) -> None:
        team = self.team
        if team is not None:
            self.runner.run(
                _reported,
                fn,
                team,
                on_done=lambda r: self._reported(team, *r),
                on_error=self._failed,
            )

    def _failed(self, exc: BaseException) -> None:
        self.label.setText(f"Pool: claim failed ({exc}); tried again at the next renewal")

    def _reported(self, team: TeamQueue, claim: Claim | None, note: str, lost: str | None) -> None:
        if team is not self.team:
            return
        before, self.held = self.held, claim
        self.label.setText(note)
        if lost:
            self._tell(lost)
        self._show(before, claim, note)

    def _show(self, before: Claim | None, claim: Claim | None, note: str) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Give back the item held (queued after pending saves)."""
        team, self.team = self.team, None
        self.held = None
        self._renew.stop()
        self.label.clear()
        if team is not None:
            self.runner.run(team.close, on_error=lambda _e: None)  # the lease lapses anyway


class ClaimQueue(_PoolClaims):
    """The pool side of one workbench (inactive unless its batch is an open pool)."""

    def __init__(self, bench: Workbench, *, lease: timedelta = APP_LEASE) -> None:
        super().__init__(bench, bench.items, bench.message.emit, lease)
        self.bench = bench
        self._want: int | None = None
        """The session of the item just claimed, to open once the queue shows it."""
        bench.review_saved.connect(self._saved)
        bench.queue_loaded.connect(self._queue_loaded)

    def start(self, ws: Workspace | None, reviewer: str, batch: str | None) -> None:
        """The workbench shows another workspace, reviewer or batch: release what the old
        one held and, when the new batch is a pool, claim its first item."""
        self.stop()
        self._want = None
        if ws is not None and batch is not None:
            self.runner.run(
                TeamQueue.open, ws, batch, reviewer, lease=self.lease, on_done=self._ready
            )

    def _ready(self, team: TeamQueue | None) -> None:
        if team is not None and team.ws is self.bench.ws:
            self._opened(team)

    def _failed(self, exc: BaseException) -> None:
        super()._failed(exc)
        self.bench.stop_expecting()  # no item is coming: keys held for one are dropped

    def _show(self, before: Claim | None, claim: Claim | None, note: str) -> None:
        if claim is None:
            self.bench.stop_expecting()
            self._tell(note)
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


class PairClaims(_PoolClaims):
    """The pool side of a pair bench: its pair queue shows the pairs the reviewer claimed,
    the next one claimed once a preference is submitted; released when the bench closes."""

    def __init__(self, bench: PairBench, *, lease: timedelta = APP_LEASE) -> None:
        super().__init__(bench, bench.runner, bench.message.emit, lease)
        self.bench = bench
        bench.preference_saved.connect(self._saved)
        self.runner.run(
            TeamQueue.open,
            bench.ws,
            bench.batch,
            bench.reviewer,
            lease=lease,
            pairs=True,
            on_done=self._ready,
        )

    def _ready(self, team: TeamQueue | None) -> None:
        if team is None:
            self.bench.load()  # pairs assigned by the batch: its queue as it is
        self._opened(team)

    def _show(self, before: Claim | None, claim: Claim | None, note: str) -> None:
        moved = claim is not None and (before is None or claim.item_id != before.item_id)
        if moved or self.bench.queue is None:
            self.bench.load()  # the claim added the pair to the reviewer's queue
