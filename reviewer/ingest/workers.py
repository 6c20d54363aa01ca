"""Parsing, validating and preparing the records of large JSON Lines files in worker
processes, while the importing process reads the file and commits chunks in file order.

Workers are started with ``spawn`` (never ``fork``: the importing process may hold SQLite
connections and Qt threads) and import no database code. They ignore Ctrl-C, which the
importing process handles.

What a parsed session becomes (the store's prepared form) and how a raw record is hashed are
passed in as a :class:`Preparation`: this module knows nothing of the store.
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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from reviewer.domain.session import Session
from reviewer.domain.session_dict import SessionDict
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
TASK_RECORDS = 4000
"""Lines of a plain file per worker task at most (a block of more is cut)."""
AHEAD_RECORDS = 16_000
"""Records in flight at most (beyond one task per worker): a block of tiny records holds
tens of thousands, each a few hundred bytes once prepared, so bytes alone do not bound
memory."""

SIFT_LINES = 2000
"""Lines of a file read in this process whose raw hashes are looked up in one go."""


@dataclass(frozen=True, slots=True)
class Known:
    """A record whose raw bytes are those of the latest revision of a stored session: a
    duplicate, not parsed. The importer prepares it after all (from ``data``) if a record
    before it in the same import changed that session since it was looked up."""

    key: str
    content_hash: str
    line: int
    data: bytes


class Preparation(NamedTuple):
    """How a parsed record becomes what the importer stores, given by the importer (the
    store's prepared form). Its functions are module-level, so it goes to worker processes
    by name."""

    session: Callable[[Session], Any]
    """A parsed session, prepared."""
    session_dict: Callable[[SessionDict, str], Any]
    """A canonical record validated as a plain dict, prepared, with its raw hash."""
    record_hash: Callable[[bytes], str]
    """The hash of a raw record, by which a re-import recognises it."""


KnownLookup = Callable[[list[str]], dict[str, tuple[str, str]]]
"""Raw record hashes → (session key, content hash) of those stored as a latest revision."""

Prepared = Any
"""What :attr:`Preparation.session` returns, or a :class:`Reject`."""
Sifted = Prepared | Known
Done = tuple[list[Prepared | None], int]
"""A task's result: prepared sessions and rejects, None for each line left to this process."""
_Task = tuple[Future[Done], list[Known]]


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


def prepare_line(
    prep: Preparation,
    fmt: LineFormat,
    file: str,
    line: int,
    data: bytes,
    raw_hash: str | None = None,
) -> list[Prepared]:
    """The prepared sessions of one JSON Lines record, or why it was rejected.

    A canonical record is validated as a plain dict (``reviewer.domain.session_dict``);
    one that fails goes through ``Session``, which says why. It keeps the hash of its raw
    bytes (``raw_hash`` when already computed), by which a re-import recognises it.
    """
    try:
        value = parse_json(data)
    except RecordError as exc:
        return [Reject(file, line, str(exc))]
    if fmt.name == canonical.NAME and canonical.looks_like(value):
        record = canonical.fast_record(value, file, line)
        if record is not None:
            return [prep.session_dict(record, raw_hash or prep.record_hash(data))]
    return [
        got if isinstance(got, Reject) else prep.session(got)
        for got in record_sessions(fmt, file, line, value)
    ]


def sift(
    prep: Preparation, lines: list[RawLine | Rejected], known: KnownLookup
) -> tuple[list[RawLine | Rejected | Known], list[str | None]]:
    """Lines, those stored already as a latest revision replaced by :class:`Known`; and
    the raw hash of each line (None for a rejected one)."""
    hashes = [None if isinstance(x, Rejected) else prep.record_hash(x[1]) for x in lines]
    found = known(list(dict.fromkeys(h for h in hashes if h is not None)))
    if not found:
        return list(lines), hashes
    out: list[RawLine | Rejected | Known] = []
    for item, h in zip(lines, hashes, strict=True):
        hit = found.get(h) if h is not None else None
        out.append(item if hit is None or isinstance(item, Rejected) else Known(*hit, *item))
    return out, hashes


def sifts(fmt: LineFormat, known: KnownLookup | None) -> bool:
    """Whether lines of this format are looked up by raw hash before they are parsed: one
    record is one session in canonical JSON Lines only."""
    return known is not None and fmt.name == canonical.NAME


def prepare_lines(
    prep: Preparation,
    path: Path,
    fmt: LineFormat,
    max_record_bytes: int,
    read: list[int] | None = None,
    known: KnownLookup | None = None,
) -> Iterator[Sifted]:
    """Prepared sessions and rejects of a JSON Lines file, in file order, in this process.
    ``read[0]`` follows how far into the file they reach (for progress). With ``known``,
    records already stored come as :class:`Known`, not parsed."""
    name = str(path)
    lines = iter_raw_lines(path, max_record_bytes, read)
    if not sifts(fmt, known):
        for item in lines:
            if isinstance(item, Rejected):
                yield Reject(name, item.line, item.reason)
            else:
                yield from prepare_line(prep, fmt, name, *item)
        return
    assert known is not None
    while batch := list(islice(lines, SIFT_LINES)):
        sifted, hashes = sift(prep, batch, known)
        for got, h in zip(sifted, hashes, strict=True):
            if isinstance(got, Rejected):
                yield Reject(name, got.line, got.reason)
            elif isinstance(got, Known):
                yield got
            else:
                yield from prepare_line(prep, fmt, name, *got, raw_hash=h)


def prepare_batch(
    prep: Preparation,
    fmt_name: str,
    file: str,
    batch: list[RawLine | Rejected],
    skip: frozenset[int] = frozenset(),
) -> list[Prepared | None]:
    """In a worker: the prepared sessions and the rejects of some lines, in line order;
    None in place of each line numbered in ``skip``."""
    fmt = by_name(fmt_name)
    out: list[Prepared | None] = []
    for item in batch:
        if isinstance(item, Rejected):
            out.append(Reject(file, item.line, item.reason))
        elif item[0] in skip:
            out.append(None)
        else:
            out += prepare_line(prep, fmt, file, *item)
    return out


def prepare_block(
    prep: Preparation,
    fmt_name: str,
    file: str,
    block: Block,
    max_record_bytes: int,
    skip: frozenset[int] = frozenset(),
) -> tuple[list[Prepared | None], int]:
    """In a worker: the prepared sessions and the rejects of one block of a plain file,
    read here, in line order; and where the block ends in the file."""
    lines = list(iter_raw_block(Path(file), block, max_record_bytes))
    return prepare_batch(prep, fmt_name, file, lines, skip), block.end


def _placed(
    prep: Preparation,
    fmt_name: str,
    file: str,
    batch: list[RawLine | Rejected],
    end: int,
    skip: frozenset[int] = frozenset(),
) -> tuple[list[Prepared | None], int]:
    """In a worker: :func:`prepare_batch` of lines read here, and how far into the file
    they reach."""
    return prepare_batch(prep, fmt_name, file, batch, skip), end


def _done(file: str, sifted: Iterable[RawLine | Rejected | Known], end: int) -> Future[Done]:
    """The result of a task whose lines were all known or rejected, without a worker."""
    out: list[Prepared | None] = []
    for item in sifted:
        out.append(Reject(file, item.line, item.reason) if isinstance(item, Rejected) else None)
    future: Future[Done] = Future()
    future.set_result((out, end))
    return future


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


_Unit = tuple[list[RawLine | Rejected], int, Callable[[frozenset[int]], Future[Done]]]
"""A task's lines (read here to be looked up), where it ends in the file, and how to
start it in a worker with some of its lines left out."""


def _sifted_tasks(
    prep: Preparation, name: str, group: list[_Unit], known: KnownLookup
) -> Iterator[_Task]:
    """Tasks of some units whose lines are looked up at once: a unit with lines stored
    already leaves them out of its worker task, or needs none when nothing is left."""
    sifted, _ = sift(prep, [x for unit in group for x in unit[0]], known)
    at = 0
    for lines, end, run in group:
        part = sifted[at : at + len(lines)]
        at += len(lines)
        knowns = [x for x in part if isinstance(x, Known)]
        if not knowns:
            yield run(frozenset()), []
        elif all(isinstance(x, Known | Rejected) for x in part):
            yield _done(name, part, end), knowns
        else:
            yield run(frozenset(k.line for k in knowns)), knowns


def _block_lines(path: Path, block: Block, max_record_bytes: int) -> list[RawLine | Rejected]:
    """The lines of one block of a plain file, to look up (a worker reads them again if
    any is new): numbered as :func:`iter_raw_block` numbers them, blank ones left out, one
    longer than ``max_record_bytes`` empty (never found: the worker rejects it)."""
    with path.open("rb", buffering=0) as f:
        f.seek(block.start)
        data = f.read(block.end - block.start)
    out: list[RawLine | Rejected] = []
    for number, line in enumerate(data.split(b"\n"), start=block.first_line):
        if len(line) >= max_record_bytes:
            out.append((number, b""))
        elif line.strip():
            out.append((number, line))
    return out


def _counted(blocks: Iterator[Block]) -> Iterator[tuple[Block, int | None]]:
    """Each block with its number of lines (the next block's first line tells; None for
    the last one)."""
    before: Block | None = None
    for block in blocks:
        if before is not None:
            yield before, block.first_line - before.first_line
        before = block
    if before is not None:
        yield before, None


def _split(path: Path, block: Block, lines: int | None, most: int) -> Iterator[tuple[Block, int]]:
    """The block cut into blocks of at most ``most`` lines, each with its number of lines
    (a block of tiny records would otherwise make one large task). ``lines``: how many the
    block has, None to count them."""
    if lines is not None and lines <= most:
        yield block, lines
        return
    with path.open("rb", buffering=0) as f:
        f.seek(block.start)
        data = f.read(block.end - block.start)
    if lines is None:
        lines = data.count(b"\n") + (not data.endswith(b"\n"))
        if lines <= most:
            yield block, lines
            return
    start, first = 0, block.first_line
    while lines > most:
        end = start
        for _ in range(most):
            end = data.index(b"\n", end) + 1
        yield Block(block.start + start, block.start + end, first), most
        start, first, lines = end, first + most, lines - most
    yield Block(block.start + start, block.end, first), lines


def _without(batch: list[RawLine | Rejected], skip: frozenset[int]) -> list[RawLine | Rejected]:
    """The batch with the bytes of the lines in ``skip`` left out (not sent to a worker)."""
    if not skip:
        return batch
    return [(x[0], b"") if not isinstance(x, Rejected) and x[0] in skip else x for x in batch]


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

    def __init__(self, count: int, prep: Preparation) -> None:
        self.count = count
        self.prep = prep
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

    def _pool_started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.count,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
            )
        return self._pool

    def prepared(
        self,
        path: Path,
        fmt: LineFormat,
        max_record_bytes: int,
        read: list[int] | None = None,
        known: KnownLookup | None = None,
    ) -> Iterator[Sifted]:
        """Prepared sessions and rejects of a JSON Lines file, in file order. ``read[0]``
        follows how far into the file they reach (for progress). With ``known``, this
        process reads each task's lines first: records already stored come as
        :class:`Known`, not parsed, and a task with nothing left to parse goes to no worker
        (a re-import starts none)."""
        name = str(path)
        check = known if sifts(fmt, known) else None

        def tasks_of(units: Iterator[_Unit]) -> Iterator[_Task]:
            # Lines of several tasks are looked up together (fewer, larger queries).
            group: list[_Unit] = []
            lines = 0
            for unit in units:
                if check is None:
                    yield unit[2](frozenset()), []
                    continue
                group.append(unit)
                lines += len(unit[0])
                if lines >= SIFT_LINES:
                    yield from _sifted_tasks(self.prep, name, group, check)
                    group, lines = [], 0
            if group and check is not None:
                yield from _sifted_tasks(self.prep, name, group, check)

        def batch_task(
            batch: list[RawLine | Rejected], end: int
        ) -> Callable[[frozenset[int]], Future[Done]]:
            def run(skip: frozenset[int]) -> Future[Done]:
                sent = _without(batch, skip)
                return self._pool_started().submit(
                    _placed, self.prep, fmt.name, name, sent, end, skip
                )

            return run

        def block_task(block: Block) -> Callable[[frozenset[int]], Future[Done]]:
            def run(skip: frozenset[int]) -> Future[Done]:
                return self._pool_started().submit(
                    prepare_block, self.prep, fmt.name, name, block, max_record_bytes, skip
                )

            return run

        counts: deque[int] = deque()  # records of each unit, in order

        def gzip_units() -> Iterator[_Unit]:
            where = [0]
            for batch, end in _batches(iter_raw_lines(path, max_record_bytes, where), where):
                counts.append(len(batch))
                yield batch, end, batch_task(batch, end)

        def block_units() -> Iterator[_Unit]:
            for whole, lines in _counted(line_blocks(path, BLOCK_BYTES)):
                for block, part in _split(path, whole, lines, TASK_RECORDS):
                    counts.append(part)
                    read_here = _block_lines(path, block, max_record_bytes) if check else []
                    yield read_here, block.end, block_task(block)

        units = gzip_units() if is_gzip(path) else block_units()
        tasks = tasks_of(units)
        pending: deque[tuple[_Task, int]] = deque()
        in_flight = 0

        def results() -> Iterator[Sifted]:
            nonlocal in_flight
            (future, knowns), records = pending.popleft()
            in_flight -= records
            prepared, end = future.result()
            if read is not None:
                read[0] = end
            placed = iter(knowns)
            for item in prepared:
                yield next(placed) if item is None else item

        for one in tasks:
            records = counts.popleft()
            pending.append((one, records))
            in_flight += records
            while len(pending) >= self.count * AHEAD or (
                in_flight > AHEAD_RECORDS and len(pending) > self.count
            ):
                yield from results()
        while pending:
            yield from results()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
