"""Parsing, validating and preparing the records of large JSON Lines files in worker
processes, while the importing process reads the file and commits chunks in file order.

Workers are started with ``spawn`` (never ``fork``: the importing process may hold SQLite
connections and Qt threads) and import no database code. They ignore Ctrl-C, which the
importing process handles.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from reviewer.ingest import canonical
from reviewer.ingest.detect import LineFormat, by_name
from reviewer.ingest.pipeline import Reject, record_sessions
from reviewer.ingest.records import (
    Block,
    RawLine,
    RecordError,
    Rejected,
    is_gzip,
    iter_raw_block,
    iter_raw_lines,
    line_blocks,
    parse_json,
)
from reviewer.store.content import PreparedSession, prepare_session, prepare_session_dict

PARALLEL_MIN_BYTES = 32_000_000
"""Files smaller than this are parsed in the importing process: starting workers costs
about half a second."""
MAX_WORKERS = 3
"""Beyond this the importing process's own share (reading, committing) is the limit, and
each worker costs about 80 MB."""
BLOCK_BYTES = 2_000_000
"""Bytes of a plain file per worker task: the worker reads them itself."""
BATCH_BYTES = 2_000_000
BATCH_LINES = 512
"""Lines of a gzip file are read here and sent to workers in batches of this size."""
AHEAD = 8
"""Tasks in flight per worker: enough to keep workers busy during a commit, few enough to
keep memory bounded (a plain file's task is a few numbers, its result about a quarter of
``BLOCK_BYTES``; a gzip file's task holds up to ``BATCH_BYTES`` of raw lines)."""

Prepared = PreparedSession | Reject


def default_workers() -> int:
    """Worker processes for a large file: one per usable CPU up to :data:`MAX_WORKERS`; none
    on a single CPU or in a frozen (PyInstaller) build, whose executable cannot be started
    as a worker."""
    if getattr(sys, "frozen", False):
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, MAX_WORKERS) if cpus > 1 else 0


def prepare_line(fmt: LineFormat, file: str, line: int, data: bytes) -> list[Prepared]:
    """The prepared sessions of one JSON Lines record, or why it was rejected.

    A canonical record is validated as a plain dict (``reviewer.domain.session_dict``);
    one that fails goes through ``Session``, which says why.
    """
    try:
        value = parse_json(data)
    except RecordError as exc:
        return [Reject(file, line, str(exc))]
    if fmt.name == canonical.NAME and canonical.looks_like(value):
        record = canonical.fast_record(value, file, line)
        if record is not None:
            return [prepare_session_dict(record)]
    return [
        got if isinstance(got, Reject) else prepare_session(got)
        for got in record_sessions(fmt, file, line, value)
    ]


def prepare_lines(
    path: Path, fmt: LineFormat, max_record_bytes: int, read: list[int] | None = None
) -> Iterator[Prepared]:
    """Prepared sessions and rejects of a JSON Lines file, in file order, in this process.
    ``read[0]`` follows how far into the file they reach (for progress)."""
    name = str(path)
    for item in iter_raw_lines(path, max_record_bytes, read):
        if isinstance(item, Rejected):
            yield Reject(name, item.line, item.reason)
        else:
            yield from prepare_line(fmt, name, *item)


def prepare_batch(fmt_name: str, file: str, batch: list[RawLine | Rejected]) -> list[Prepared]:
    """In a worker: the prepared sessions and the rejects of some lines, in line order."""
    fmt = by_name(fmt_name)
    out: list[Prepared] = []
    for item in batch:
        if isinstance(item, Rejected):
            out.append(Reject(file, item.line, item.reason))
        else:
            out += prepare_line(fmt, file, *item)
    return out


def prepare_block(
    fmt_name: str, file: str, block: Block, max_record_bytes: int
) -> tuple[list[Prepared], int]:
    """In a worker: the prepared sessions and the rejects of one block of a plain file,
    read here, in line order; and where the block ends in the file."""
    lines = list(iter_raw_block(Path(file), block, max_record_bytes))
    return prepare_batch(fmt_name, file, lines), block.end


def _placed(
    fmt_name: str, file: str, batch: list[RawLine | Rejected], end: int
) -> tuple[list[Prepared], int]:
    """In a worker: :func:`prepare_batch` of lines read here, and how far into the file
    they reach."""
    return prepare_batch(fmt_name, file, batch), end


def _batches(
    items: Iterator[RawLine | Rejected], where: list[int]
) -> Iterator[tuple[list[RawLine | Rejected], int]]:
    """Lines in batches, each with how far into the file it reaches (``where[0]``, kept
    up to date by the reader of ``items``)."""
    batch: list[RawLine | Rejected] = []
    size = 0
    for item in items:
        batch.append(item)
        if not isinstance(item, Rejected):
            size += len(item[1])
        if size >= BATCH_BYTES or len(batch) >= BATCH_LINES:
            yield batch, where[0]
            batch, size = [], 0
    if batch:
        yield batch, where[0]


def _content_size(path: Path) -> int:
    """The size of the file, or of its content once decompressed for gzip (read from the
    stream's trailer, which holds it modulo 4 GiB: the larger of the two is taken)."""
    size = path.stat().st_size
    if size >= 18 and is_gzip(path):
        with path.open("rb") as f:
            f.seek(-4, os.SEEK_END)
            size = max(size, int.from_bytes(f.read(4), "little"))
    return size


PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a Linux process gets when its parent dies."""


def _die_with_parent() -> None:
    """In a worker: exit when the importing process dies (even by SIGKILL), instead of
    lingering. On Linux the kernel sends SIGKILL (``PR_SET_PDEATHSIG``); everywhere, a
    thread waits on the parent's sentinel (readable once the parent is gone) and exits,
    which also covers a parent that died before ``prctl`` ran."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watch below still works
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _start_worker() -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Parsing makes many short-lived dicts and lists and no cycles: collecting garbage
    # less often saves a twenty-fifth of a worker's time.
    gc.set_threshold(20000, 50, 100)


class Workers:
    """Worker processes shared by the files of one import, started on first use.

    Use as a context manager: leaving it stops the workers, dropping queued batches (a
    stopped import discards what was not committed anyway).
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._pool: ProcessPoolExecutor | None = None

    def wanted(self, path: Path, fmt: LineFormat, explicit: bool) -> bool:
        """Whether this file goes through the workers: JSON Lines only, large enough
        unless the caller asked for workers."""
        if self.count < 1 or fmt.whole_file or fmt.archive is not None:
            return False
        if explicit:
            return True
        try:
            return _content_size(path) >= PARALLEL_MIN_BYTES
        except OSError:
            return False

    def prepared(
        self, path: Path, fmt: LineFormat, max_record_bytes: int, read: list[int] | None = None
    ) -> Iterator[Prepared]:
        """Prepared sessions and rejects of a JSON Lines file, in file order. ``read[0]``
        follows how far into the file they reach (for progress)."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.count,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
            )
        name = str(path)
        pool = self._pool
        tasks: Iterator[Future[tuple[list[Prepared], int]]]
        if is_gzip(path):
            where = [0]
            tasks = (
                pool.submit(_placed, fmt.name, name, batch, end)
                for batch, end in _batches(iter_raw_lines(path, max_record_bytes, where), where)
            )
        else:
            tasks = (
                pool.submit(prepare_block, fmt.name, name, block, max_record_bytes)
                for block in line_blocks(path, BLOCK_BYTES)
            )
        pending: deque[Future[tuple[list[Prepared], int]]] = deque()

        def results() -> Iterator[Prepared]:
            prepared, end = pending.popleft().result()
            if read is not None:
                read[0] = end
            yield from prepared

        for task in tasks:
            pending.append(task)
            if len(pending) >= self.count * AHEAD:
                yield from results()
        while pending:
            yield from results()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
