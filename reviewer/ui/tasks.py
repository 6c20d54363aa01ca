"""One background runner for workspace work; results come back on the GUI thread."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class TaskRunner(QObject):
    """Runs callables one at a time on a worker thread (never touching widgets there).

    Success and failure callbacks run on the GUI thread. Failures without a handler go to
    :attr:`failed`, which the main window shows: nothing fails silently.
    """

    _finished = Signal(object, object, object, object)
    failed = Signal(str, str)
    """A task failed with no handler of its own: (summary, traceback text)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workspace")
        self._pending = 0
        self._closed = False
        self._finished.connect(self._deliver)

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Done | None = None,
        on_error: Failed | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        if self._closed:
            dropped: Future[Any] = Future()
            dropped.cancel()
            return dropped  # the window is closing: nobody would see the result
        self._pending += 1
        future = self._pool.submit(fn, *args, **kwargs)
        future.add_done_callback(lambda f: self._finished.emit(f, on_done, on_error, fn))
        return future

    @Slot(object, object, object, object)
    def _deliver(
        self, future: Future[Any], on_done: Done | None, on_error: Failed | None, fn: Any
    ) -> None:
        self._pending -= 1
        if future.cancelled() or self._closed:
            return  # dropped at shutdown: nobody is waiting for it any more
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
        """Stop the worker (call before the app quits): wait for the running task, and for
        the queued ones too when ``finish_pending`` (saves must not be dropped)."""
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=not finish_pending)
