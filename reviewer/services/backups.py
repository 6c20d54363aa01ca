"""Backups of SQLite workspaces, the way trusted desktop apps keep them.

Every backup is made with SQLite's online backup API (never a file copy of a live
database) into ``WORKSPACE.backups/``: before each schema upgrade and merge, before a pack
workspace left by an interrupted opening is replaced (``pre-replace``), when the app
opens a workspace and every half hour while it is open (unless nothing changed since the
last of these), and on demand. Each kind keeps its
newest :data:`KEEP` files. A workspace SQLite reports damaged is renamed aside untouched
(``WORKSPACE.damaged-<time>``) and the newest backup that passes ``quick_check`` is offered
for restoring; restoring first backs up (or sets aside) what is there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reviewer import atomic
from reviewer.atomic import AtomicFile
from reviewer.store import migrate
from reviewer.store.workspace import WorkspaceError, wal_path

log = logging.getLogger(__name__)

KEEP = 10
"""Backups kept per kind (the oldest beyond this are removed)."""
KINDS = ("auto", "manual", "pre-upgrade", "pre-merge", "pre-restore", "pre-replace")


class BackupError(WorkspaceError):
    """A backup or restore cannot be done; one line for the user."""


class WorkspaceDamaged(WorkspaceError):
    """SQLite reports the workspace damaged. It was set aside untouched."""

    def __init__(self, path: Path, aside: Path, reason: str, backup: Path | None) -> None:
        self.path = path
        self.aside = aside
        self.reason = reason
        self.backup = backup
        offer = (
            f"; the latest good backup is {backup.name} (restore it with "
            f"`reviewer restore {path}` or File → Restore from backup)"
            if backup is not None
            else "; no good backup of it was found"
        )
        super().__init__(
            f"{path.name} is damaged ({reason}). It was kept aside untouched as {aside.name}"
            + offer
        )


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: str
    taken_at: datetime
    size: int


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def backups_dir(db: Path) -> Path:
    return migrate.backups_dir(db)


def _kind_of(name: str) -> str:
    for kind in sorted(KINDS, key=len, reverse=True):
        if name.startswith(kind + "-"):
            return kind
    return "other"


def list_backups(db: Path) -> list[BackupInfo]:
    """Backups of the workspace at ``db``, newest first."""
    folder = backups_dir(db)
    if not folder.is_dir():
        return []
    out = []
    for p in folder.glob("*.sqlite"):
        st = p.stat()
        out.append(
            BackupInfo(p, _kind_of(p.name), datetime.fromtimestamp(st.st_mtime, UTC), st.st_size)
        )
    out.sort(key=lambda b: (b.taken_at, b.path.name), reverse=True)
    return out


def backup_now(db: Path, kind: str = "manual") -> Path:
    """Take an online backup of the workspace at ``db`` and rotate that kind's backups."""
    if kind not in KINDS:
        raise ValueError(f"unknown backup kind {kind!r}")
    if not db.is_file():
        raise BackupError(f"no workspace at {db}")
    dest = backups_dir(db) / f"{kind}-{_stamp()}.sqlite"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        atomic.clean_stale(dest.parent)  # what a backup killed midway left
        with AtomicFile(dest) as f:
            migrate.backup_sqlite(db, f.path)
            f.commit()
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f"cannot back up {db.name}: {exc}") from None
    _rotate(db, kind)
    log.info("backup of %s taken: %s", db.name, dest.name)
    return dest


AUTO_MARK = ".auto"
"""In the backups folder: how the workspace's files stood when the newest automatic backup
was started (see :func:`_change_stamp`)."""


def _change_stamp(db: Path) -> str:
    """The size and modification time of the workspace file and of a non-empty WAL: every
    commit appends to the WAL, and every checkpoint writes the file. An empty or missing WAL
    holds nothing, so opening and closing the workspace does not count as a change."""
    parts = []
    for f in (db, wal_path(db)):
        try:
            st = f.stat()
        except FileNotFoundError:
            continue
        if st.st_size:
            parts.append(f"{f.name} {st.st_size} {st.st_mtime_ns}")
    return "\n".join(parts)


def auto_backup(db: Path) -> Path | None:
    """An automatic backup (at open and every half hour), unless nothing changed since the
    newest one: identical copies would only push older, different ones out of the newest
    :data:`KEEP`. Returns the backup taken, or None."""
    mark = backups_dir(db) / AUTO_MARK
    stamp = _change_stamp(db)  # before the backup: a commit during it counts as a change
    newest = next((b for b in list_backups(db) if b.kind == "auto"), None)
    try:
        unchanged = newest is not None and mark.read_text() == stamp
    except OSError:
        unchanged = False
    if unchanged:
        log.info("no backup of %s: unchanged since %s", db.name, newest.path.name if newest else "")
        return None
    dest = backup_now(db, "auto")
    with contextlib.suppress(OSError):  # a read-only folder: back up again next time
        mark.write_text(stamp)
    return dest


def _rotate(db: Path, kind: str) -> None:
    same = [b for b in list_backups(db) if b.kind == kind]
    for old in same[KEEP:]:
        old.path.unlink(missing_ok=True)


def problem(db: Path, *, full: bool = False) -> str | None:
    """What SQLite finds damaged in the database at ``db`` (None: nothing).

    Opens it read-only; ``quick_check`` by default, ``integrity_check`` and
    ``foreign_key_check`` with ``full``. A database that is merely busy or locked is not
    damaged: that raises :class:`BackupError` instead of being reported as damage.
    """
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    except sqlite3.OperationalError as exc:
        raise BackupError(f"cannot check {db.name}: {exc}") from None
    try:
        check = "integrity_check" if full else "quick_check"
        rows = [r[0] for r in con.execute(f"PRAGMA {check}").fetchmany(5)]
        if rows != ["ok"]:
            return "; ".join(str(r) for r in rows)
        if full:
            bad = con.execute("PRAGMA foreign_key_check").fetchmany(5)
            if bad:
                return f"{len(bad)}+ rows break foreign keys (first: {bad[0]})"
        return None
    except sqlite3.OperationalError as exc:
        if "malformed" in str(exc) or "not a database" in str(exc):
            return str(exc)
        raise BackupError(f"cannot check {db.name}: {exc}") from None
    except sqlite3.DatabaseError as exc:  # corruption, "file is not a database"
        return str(exc)
    finally:
        con.close()


def _sound(path: Path) -> bool:
    try:
        return problem(path) is None
    except BackupError:
        return False


def latest_good_backup(db: Path) -> Path | None:
    for b in list_backups(db):
        if _sound(b.path):
            return b.path
    return None


def _move_with_sidecars(src: Path, dest: Path) -> None:
    os.replace(src, dest)
    for suffix in ("-wal", "-shm", "-journal"):
        side = Path(str(src) + suffix)
        if side.exists():
            os.replace(side, Path(str(dest) + suffix))


def set_aside(db: Path) -> Path:
    """Rename a damaged workspace (with its -wal/-shm) out of the way, bytes untouched."""
    aside = db.with_name(f"{db.name}.damaged-{_stamp()}")
    _move_with_sidecars(db, aside)
    log.warning("damaged workspace %s set aside as %s", db.name, aside.name)
    return aside


CHECKED_MARK = ".checked"
"""In the backups folder: the size and time of the file as it last passed quick_check."""


def _file_stamp(db: Path) -> str | None:
    """What identifies the file's bytes cheaply (None when a non-empty WAL makes it moot)."""
    wal = wal_path(db)
    if wal.exists() and wal.stat().st_size > 0:
        return None  # not closed cleanly, or open elsewhere: always check
    st = db.stat()
    return f"{st.st_size} {st.st_mtime_ns}"


def check_at_open(db: Path) -> None:
    """Raise :class:`WorkspaceDamaged` (after setting the file aside) when SQLite finds the
    workspace at ``db`` damaged; do nothing for a sound one or one that does not exist.

    A file unchanged since it last passed (same size and modification time, no pending
    WAL) is not checked again: read-only commands on a big workspace stay fast.
    """
    if not db.is_file():
        return
    stamp = _file_stamp(db)
    mark = backups_dir(db) / CHECKED_MARK
    if stamp is not None and mark.is_file() and mark.read_text() == stamp:
        return
    with db.open("rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            return  # not an SQLite file at all: refused at open, never moved
    try:
        reason = problem(db)
    except BackupError as exc:
        log.warning("workspace not checked at open: %s", exc)
        return  # busy or locked, not damaged: opening it says what is wrong, if anything
    if reason is None:
        if stamp is not None:
            try:
                mark.parent.mkdir(parents=True, exist_ok=True)
                mark.write_text(stamp)
            except OSError:
                pass  # a read-only folder: check again next time
        return
    aside = set_aside(db)
    raise WorkspaceDamaged(db, aside, reason, latest_good_backup(db))


def restore(db: Path, backup: Path | None = None) -> Path:
    """Put ``backup`` (default: the newest good one) in place of the workspace at ``db``.

    The workspace must not be open. What is there first is backed up (``pre-restore``), or
    set aside when it is damaged. Returns the backup restored.
    """
    chosen = backup or latest_good_backup(db)
    if chosen is None:
        raise BackupError(f"no good backup of {db.name} in {backups_dir(db)}")
    reason = problem(chosen) if chosen.is_file() else "missing"
    if reason is not None:
        raise BackupError(f"{chosen.name} is not a sound backup ({reason}); nothing changed")
    if db.exists():
        if _sound(db):
            backup_now(db, "pre-restore")
            for suffix in ("-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
            db.unlink()
        else:
            set_aside(db)
    with AtomicFile(db) as f:
        migrate.backup_sqlite(chosen, f.path)
        f.commit()
    assert not wal_path(db).exists()
    log.info("workspace %s restored from %s", db.name, chosen.name)
    return chosen
