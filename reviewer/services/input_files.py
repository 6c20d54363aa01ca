"""Which paths an import reads: regular files only (a device such as /dev/zero never ends, a
FIFO with no writer never answers), and standard input only when asked for with ``-``,
spooled to a temporary file with a bounded wait."""

from __future__ import annotations

import os
import select
import shutil
import stat
import sys
from pathlib import Path
from typing import BinaryIO

STDIN = "-"
"""The path that means standard input, given explicitly."""
STDIN_WAIT_S = 60.0
"""How long standard input may stay silent (before its first bytes or between two reads)."""
SPOOL_RESERVE_BYTES = 256_000_000
"""Free disk space spooling standard input leaves at least."""
PIECE = 1 << 20


class InputError(ValueError):
    """An input that cannot be imported; one line for the user."""


def input_problem(path: Path) -> str | None:
    """Why ``path`` is not imported (None: a regular file, or a link to one). Never opens
    it, so never waits on it."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"{path}: cannot read ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a FIFO (named pipe)"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    return (
        f"{path}: is {kind}, not a regular file; to import from a pipe, give `-` and send it "
        "to standard input"
    )


def _wait_readable(stream: BinaryIO, wait_s: float) -> None:
    if sys.platform == "win32":
        return  # select() takes only sockets there: no bound
    try:
        ready, _, _ = select.select([stream], [], [], wait_s)
    except (OSError, ValueError):
        return  # not a selectable stream (a test's BytesIO): nothing to wait for
    if not ready:
        raise InputError(f"standard input sent nothing for {wait_s:.0f} s; stopped waiting")


def spool_stdin(
    folder: Path, stream: BinaryIO | None = None, *, wait_s: float | None = None
) -> Path:
    """Copy standard input to ``folder/stdin`` (so it is read like any file) and return
    that path. Refuses a terminal; gives up after ``wait_s`` seconds of silence and when
    the disk would keep less than :data:`SPOOL_RESERVE_BYTES` free."""
    source = stream if stream is not None else sys.stdin.buffer
    wait_s = STDIN_WAIT_S if wait_s is None else wait_s
    if source.isatty():
        raise InputError("standard input is a terminal; pipe or redirect a file into it")
    target = folder / "stdin"
    fd = source.fileno() if _has_fileno(source) else None
    with target.open("wb") as out:
        while True:
            _wait_readable(source, wait_s)
            piece = os.read(fd, PIECE) if fd is not None else source.read(PIECE)
            if not piece:
                break
            out.write(piece)
            if shutil.disk_usage(folder).free < SPOOL_RESERVE_BYTES:
                raise InputError(
                    "standard input is larger than the free disk space allows; "
                    "save it to a file and import that"
                )
    return target


def _has_fileno(stream: BinaryIO) -> bool:
    try:
        stream.fileno()
    except (OSError, ValueError, AttributeError):
        return False
    return True
