"""Streams of record chunks: read ahead on a helper thread, regrouped by session."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from contextlib import suppress
from typing import Any, TypeVar

from reviewer.domain.review_record import R

__all__ = ["batched", "by_session", "read_ahead"]

Chunk = TypeVar("Chunk")
Record = tuple[Any, ...]
_END = object()


def read_ahead(chunks: Iterator[Chunk], depth: int = 2) -> Generator[Chunk]:
    """The chunks, read on a helper thread up to ``depth`` ahead: the database works
    (without holding the GIL) while this thread shapes and writes the previous chunk."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                ready.put(chunk)
            ready.put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put(exc)

    reader = threading.Thread(target=read, name="export-reader", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting to put, then let it end
            with suppress(queue.Empty):
                ready.get_nowait()
            reader.join(0.01)


def by_session(chunks: Iterator[list[Record]]) -> Iterator[list[Record]]:
    """The review records of one session revision at a time (they arrive ordered by it)."""
    current: list[Record] = []
    key: tuple[Any, Any] | None = None
    kix, rix = R["session_key"], R["revision"]
    for chunk in chunks:
        for rec in chunk:
            k = (rec[kix], rec[rix])
            if k != key and current:
                yield current
                current = []
            key = k
            current.append(rec)
    if current:
        yield current


def batched(groups: Iterator[list[Record]], size: int) -> Iterator[list[list[Record]]]:
    batch: list[list[Record]] = []
    for g in groups:
        batch.append(g)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
