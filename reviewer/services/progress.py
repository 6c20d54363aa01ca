"""Progress reporting and cancellation for long work, usable with or without Qt."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Cancelled(Exception):
    """The user asked to stop; work done so far is committed and consistent."""


ProgressCallback = Callable[[int, int | None, str], None]


class Progress:
    """Passed to long-running service functions.

    ``update(done, total, message)`` reports and raises :class:`Cancelled` once
    :meth:`cancel` was called (from any thread). Work commits in chunks, so stopping at
    an ``update`` always leaves the workspace consistent.
    """

    def __init__(self, callback: ProgressCallback | None = None) -> None:
        self._callback = callback
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def update(self, done: int, total: int | None = None, message: str = "") -> None:
        if self._callback is not None:
            self._callback(done, total, message)
        self.check()


NO_PROGRESS = Progress()
