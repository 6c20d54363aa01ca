"""Waiting for the app in Qt benchmarks: arm the wait before acting, fail loudly on timeout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer


class BenchTimeout(RuntimeError):
    """The signal a benchmark waited for never came."""


def after(
    signal: Any, action: Callable[[], object] | None = None, timeout_ms: int = 30_000
) -> None:
    """Run ``action`` and return once ``signal`` was emitted — also when ``action`` emits it
    before returning (a session already fetched ahead shows at once, inside ``selectRow``).

    Connecting only after acting misses such an emission and sits out the whole timeout: the
    workbench benchmark looked hung once prefetched sessions began to show synchronously.
    """
    seen: list[object] = []
    loop = QEventLoop()

    def hit(*_args: object) -> None:
        seen.append(True)
        loop.quit()

    signal.connect(hit)
    try:
        if action is not None:
            action()
        if not seen:
            timer = QTimer()
            timer.setSingleShot(True)
            timer.timeout.connect(loop.quit)
            timer.start(timeout_ms)
            loop.exec()
            timer.stop()
    finally:
        signal.disconnect(hit)
    if not seen:
        raise BenchTimeout(f"no {signal} within {timeout_ms / 1000:g} s")
