"""Writing a file atomically: the one way files the app makes appear (exports and their
manifests, pack and results files, backups, reports).

What is written goes to a hidden ``.<file name>.<12 hex digits>.partial`` file beside the
target, is flushed to disk, and only then renamed over the target (and the folder flushed
too): a crash, a full disk or a cancel leaves the target as it was, never half written. A
failed write removes its partial file; one a killed process left behind is removed by
:func:`clean_stale` once nothing holds it and it has not been touched for a while.

Low level: any layer but ``domain`` may use it. ::

    write_bytes(path, data)                 # the simple case

    with AtomicFile(path) as f:             # writing as you go
        f.file.write(...)
        f.commit()                          # not committed: discarded on leaving
"""

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
from types import TracebackType
from typing import BinaryIO

log = logging.getLogger(__name__)

__all__ = [
    "PARTIAL",
    "STALE_AFTER_S",
    "AtomicFile",
    "clean_stale",
    "create_beside",
    "fsync_dir",
    "hold",
    "write_bytes",
]

PARTIAL = re.compile(r"\A\..+\.[0-9a-f]{12}\.partial\Z", re.DOTALL)
"""Our partial files' names, and only theirs: ``.<file name>.<12 hex digits>.partial``."""
STALE_AFTER_S = 600
"""A partial file untouched this long, and not held by a running writer, is left over."""


def create_beside(path: Path, mode: int = 0o666) -> Path | None:
    """A new empty partial file beside ``path``, created with ``mode`` less the umask
    (None if 100 tries found only names in use)."""
    for _ in range(100):
        name = path.parent / f".{path.name}.{secrets.token_hex(6)}.partial"
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
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
    """Remove our partial files in ``folder`` that a killed writer left: regular files with
    our name pattern, untouched for :data:`STALE_AFTER_S` and not held by a running writer.
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
        log.info("removed %d partial file(s) left by an interrupted write", len(removed))
    return removed


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk, where the platform can."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not every platform opens folders
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AtomicFile:
    """A file being written beside ``target``, put in its place by :meth:`commit` only.

    :attr:`file` is open for writing (binary); :attr:`path` is the partial file, for
    writers that want a path (e.g. SQLite's backup). ``mode``: the new file's permissions
    (less the umask), the usual ones by default. Leaving the ``with`` block without a
    commit (an exception, a cancel) removes the partial file and leaves ``target`` as it
    was.
    """

    def __init__(self, target: Path, *, mode: int = 0o666) -> None:
        self.target = Path(target)
        path = create_beside(self.target, mode)
        if path is None:
            raise FileExistsError(f"cannot create a temporary file in {self.target.parent}")
        self.path = path
        try:
            self.file: BinaryIO = path.open("r+b")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        hold(self.file)
        self.committed = False

    def finish(self) -> None:
        """Flush what was written to disk and close the file (it is not in place yet)."""
        if self.file.closed:
            return
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()

    def commit(self, *, sync_dir: bool = True) -> None:
        """:meth:`finish`, then rename over the target (and flush the folder, unless
        ``sync_dir`` is False: the caller commits more files and flushes it after)."""
        self.finish()
        os.replace(self.path, self.target)
        self.committed = True
        if sync_dir:
            fsync_dir(self.target.parent)

    def discard(self) -> None:
        """Close and remove the partial file (nothing happens to the target)."""
        with contextlib.suppress(OSError):
            self.file.close()
        if not self.committed:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.committed:
            self.discard()


def write_bytes(target: Path, data: bytes, *, mode: int = 0o666) -> Path:
    """Write ``data`` to ``target`` atomically; return ``target``."""
    with AtomicFile(target, mode=mode) as f:
        f.file.write(data)
        f.commit()
    return Path(target)
