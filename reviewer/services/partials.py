"""Hidden ``.OUT.<hex>.partial`` files an export writes before renaming them into place, and
the cleaning of those that a killed export left behind."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import stat
import sys
import time
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

PARTIAL = re.compile(r"\A\..+\.[0-9a-f]{12}\.partial\Z", re.DOTALL)
"""Our partial files' names, and only theirs: ``.<file name>.<12 hex digits>.partial``."""
STALE_AFTER_S = 600
"""A partial file untouched this long, and not held by a running export, is left over."""


def create_beside(path: Path) -> Path | None:
    """A new empty partial file beside ``path`` (None if 100 tries found only names in use)."""
    for _ in range(100):
        name = path.parent / f".{path.name}.{secrets.token_hex(6)}.partial"
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return name
    return None


def hold(f: BinaryIO) -> None:
    """Mark an open partial file as being written (an advisory lock, released when the
    file is closed or the process dies), so no cleaning removes it."""
    if sys.platform == "win32":
        return  # an open file cannot be deleted there anyway
    import fcntl

    with contextlib.suppress(OSError):  # no locks on this file system: the age rule stays
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _in_use(path: Path) -> bool:
    if sys.platform == "win32":
        return False
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases the lock we may have taken
    return False


def clean_stale(folder: Path, now: float | None = None) -> list[str]:
    """Remove our partial files in ``folder`` that a killed export left: regular files with
    our name pattern, untouched for :data:`STALE_AFTER_S` and not held by a running export.
    Anything else is left alone. Returns the names removed."""
    now = time.time() if now is None else now
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not PARTIAL.match(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < STALE_AFTER_S:
                continue
            if _in_use(Path(entry.path)):
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.name)
    if removed:
        log.info("removed %d partial file(s) left by an interrupted export", len(removed))
    return removed
