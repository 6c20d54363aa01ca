"""The UI's one task-runner policy: workspace work off the GUI thread, results back on it.

Every widget that touches the workspace, a file or the network hands the work to a
:class:`TaskRunner` (the GUI thread never waits). A runner has two lanes:

**Writes** (:meth:`TaskRunner.write`, and :meth:`TaskRunner.run`): one ordered queue.

- Writes run one at a time, on one thread, in the order they were submitted: never two
  at once, never reordered (save *n* is stored before save *n + 1* starts, so each save
  expects the version the one before it stored).
- Their callbacks run on the GUI thread in the same order.
- :meth:`TaskRunner.shutdown` with ``finish_pending`` runs every queued write before
  returning: a save submitted is a save stored.

**Reads** (:meth:`TaskRunner.read`): in parallel, newest wins.

- Reads run on a small pool, alongside each other and alongside writes submitted after
  them.
- A read starts only once every write submitted before it has finished (read your own
  writes: an item reopened after a save shows the save).
- With a ``key``, only the newest read of that key is delivered: when a newer read of
  the same key was submitted meanwhile, the older one's result (or error) is dropped and
  none of its callbacks run. Reads without a key are all delivered, in completion order.

For both lanes: ``on_done`` / ``on_error`` run on the GUI thread, from the event loop
(never inside the call that submitted the work); a failure without an
``on_error`` goes to :attr:`TaskRunner.failed` (the main window shows it: nothing fails
silently); after :meth:`TaskRunner.shutdown` nothing is delivered any more.

Functions run on the workers must not touch widgets.

Workers share the interpreter with the GUI thread: while a worker runs Python, every call
from Qt into Python on the GUI thread (an event filter, a model's ``data``, a slot) waits
for the GIL, by default up to 5 ms each, so one repaint that calls Python a dozen times
took 30–70 ms instead of 5. A runner therefore has the interpreter hand the GIL over
within :data:`GIL_SWITCH_S` (``sys.setswitchinterval``), a quarter of a millisecond.

Who holds a runner: each bench (the workbench, the pair bench) has its own, so its saves are
ordered among themselves; the main window has one for short jobs and a second one for long
jobs (imports, exports, pulls) so that those never hold up anything else.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]

READERS = 2
"""Reads run at most this many at a time (the machine may have two cores)."""
GIL_SWITCH_S = 0.00025
"""A thread waiting for the GIL gets it within about this long (Python's default: 5 ms).
Each call from Qt into Python waits about this long behind a worker running Python: 200
such calls took 240–300 ms at 1 ms, 87–115 ms at 0.25 ms (a worker building the plan of a
2,000-step session, load average 7.7); two workers running Python side by side lost no
throughput to the shorter turns. A session opening calls into Python about 200 times."""


def share_gil_promptly() -> None:
    """Have a worker running Python hand the GIL to the GUI thread within
    :data:`GIL_SWITCH_S`, so the GUI's calls into Python do not queue behind it."""
    if sys.getswitchinterval() > GIL_SWITCH_S:
        sys.setswitchinterval(GIL_SWITCH_S)


class TaskRunner(QObject):
    """Runs workspace work on worker threads under the policy of this module's docstring."""

    _finished = Signal(object, object, object, object, object)
    failed = Signal(str, str)
    """A task failed with no handler of its own: (summary, traceback text)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        share_gil_promptly()
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workspace-write")
        self._reads = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="workspace-read")
        self._last_write: Future[Any] | None = None
        self._latest: dict[str, object] = {}
        """The newest read of each key (its token): older ones are not delivered."""
        self._pending = 0
        self._closed = False
        # Queued even when a task is done before its callback is attached (then emitted on
        # the GUI thread): results are always delivered later, by the event loop.
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        """Work submitted and not delivered yet (either lane)."""
        return self._pending > 0

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Done | None = None,
        on_error: Failed | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """The same as :meth:`write`: in order with every other write."""
        return self.write(fn, *args, on_done=on_done, on_error=on_error, **kwargs)

    def write(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Done | None = None,
        on_error: Failed | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """Queue ``fn`` on the write lane: after every write submitted before it."""
        if self._closed:
            return _dropped()  # the window is closing: nobody would see the result
        self._pending += 1
        future = self._writes.submit(fn, *args, **kwargs)
        self._last_write = future
        future.add_done_callback(lambda f: self._finished.emit(f, on_done, on_error, fn, None))
        return future

    def read(
        self,
        fn: Callable[..., Any],
        *args: Any,
        key: str | None = None,
        on_done: Done | None = None,
        on_error: Failed | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """Run ``fn`` on the read pool once the writes submitted so far are done; with
        ``key``, deliver it only if it is still the newest read of that key."""
        if self._closed:
            return _dropped()
        barrier = self._last_write
        token: tuple[str, object] | None = None
        if key is not None:
            token = (key, object())
            self._latest[key] = token[1]

        def after_writes() -> Any:
            if barrier is not None:
                wait_for([barrier])
            return fn(*args, **kwargs)

        self._pending += 1
        future = self._reads.submit(after_writes)
        future.add_done_callback(lambda f: self._finished.emit(f, on_done, on_error, fn, token))
        return future

    def _is_current(self, key: str, token: object) -> bool:
        return self._latest.get(key) is token

    @Slot(object, object, object, object, object)
    def _deliver(
        self,
        future: Future[Any],
        on_done: Done | None,
        on_error: Failed | None,
        fn: Any,
        token: tuple[str, object] | None,
    ) -> None:
        self._pending -= 1
        if future.cancelled() or self._closed:
            return  # dropped at shutdown: nobody is waiting for it any more
        if token is not None and not self._is_current(*token):
            return  # a newer read of the same key was asked for: this one is stale
        exc = future.exception()
        if exc is None:
            if on_done is not None:
                on_done(future.result())
            return
        if on_error is not None:
            on_error(exc)
            return
        text = "".join(traceback.format_exception(exc))
        log.error("background task %s failed: %s", getattr(fn, "__name__", fn), text)
        self.failed.emit(f"{type(exc).__name__}: {exc}", text)

    def shutdown(self, *, finish_pending: bool = False) -> None:
        """Stop the workers (call before the app quits): wait for the running tasks, and
        for the queued writes too when ``finish_pending`` (saves must not be dropped).
        Queued reads are dropped."""
        self._closed = True
        self._reads.shutdown(wait=True, cancel_futures=True)
        self._writes.shutdown(wait=True, cancel_futures=not finish_pending)


def _dropped() -> Future[Any]:
    dropped: Future[Any] = Future()
    dropped.cancel()
    return dropped
