"""Opening and creating workspaces: an SQLite file (WAL) or a PostgreSQL URL."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as OrmSession

from reviewer import __version__
from reviewer.store import migrate
from reviewer.store.tables import WorkspaceMeta

BUSY_TIMEOUT_S = 15.0

UnitOfWork = OrmSession
"""What :meth:`Workspace.read` and :meth:`Workspace.write` hand out: services pass it on to
the store's functions (``reviewer.store.*``) and never query it themselves."""


class WorkspaceError(Exception):
    """A workspace cannot be opened or created; the message says why, for a person."""


class WorkspaceUnavailable(WorkspaceError):
    """The workspace's database server cannot be reached (down, network lost, refused).

    Work in progress is not lost: callers keep it (see ``reviewer.services.drafts``) and
    try again; the connection pool reconnects by itself once the server answers.
    """


PG_CONNECT_TIMEOUT_S = 10
_UNREACHABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
"""Connection exceptions and server shutdowns; client-side libpq failures have none."""


def _unreachable(exc: BaseException) -> bool:
    """True when ``exc`` says the database server went away or cannot be reached."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if type(orig).__module__.split(".")[0] != "psycopg":
        return False
    import psycopg

    if isinstance(orig, psycopg.InterfaceError):
        return True
    if not isinstance(orig, psycopg.OperationalError):
        return False
    sqlstate = getattr(orig, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_UNREACHABLE_SQLSTATES)


class WorkspaceWriteError(WorkspaceError):
    """The workspace's storage refused a write (disk full, read-only, I/O error). Nothing of
    the transaction was kept; the same write can be tried again once the cause is gone."""


_STORAGE_PROBLEMS = (
    ("database or disk is full", "the disk is full: free some space"),
    ("readonly", "the workspace file is read-only"),
    ("disk i/o error", "a disk I/O error occurred"),
    ("unable to open database file", "the workspace's folder cannot be written"),
)


def storage_problem(name: str, exc: BaseException) -> WorkspaceWriteError | None:
    """One clear line for an SQLite write that the storage refused (None for other errors)."""
    if not isinstance(exc, DBAPIError):
        return None
    text = str(exc.orig).lower()
    for needle, said in _STORAGE_PROBLEMS:
        if needle in text:
            return WorkspaceWriteError(f"{name} was not changed: {said}")
    return None


def unavailable_error(url: str, exc: BaseException) -> WorkspaceUnavailable:
    """One clear line about an unreachable workspace, with no credentials in it."""
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    reason = lines[0] if lines else type(orig).__name__
    password = make_url(url).password
    if password:
        reason = reason.replace(str(password), "***")
    return WorkspaceUnavailable(
        f"cannot reach the workspace {display_url(url)}: {reason}{password_hint(reason)}"
    )


def password_hint(reason: str) -> str:
    """Why libpq may have had no password: a ``.pgpass`` others can read is ignored."""
    if "password" not in reason.lower():
        return ""
    pgpass = Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")
    if pgpass.is_file() and pgpass.stat().st_mode & 0o077:
        return f" ({pgpass} is ignored because others can read it: chmod 600 it)"
    if "no password supplied" in reason and not pgpass.is_file():
        return " (put the password in PGPASSWORD or ~/.pgpass, never in the URL)"
    return ""


def _is_url(target: str) -> bool:
    return "://" in target


def normalise_url(target: str | Path) -> str:
    """Turn a file path or a database URL into an SQLAlchemy URL."""
    text = str(target)
    if not _is_url(text):
        return "sqlite:///" + str(Path(text).expanduser().resolve())
    url = make_url(text)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def sqlite_file(target: str | Path) -> Path | None:
    """The file of an SQLite workspace target (None for a server URL)."""
    url = normalise_url(target)
    if not url.startswith("sqlite"):
        return None
    db = make_url(url).database
    return Path(db) if db else None


def display_url(url: str) -> str:
    """The URL with any password masked, safe for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        # A fresh connection per checkout would re-run the pragmas; pool them instead.
        pool_pre_ping=False,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy (below) decide how each transaction begins.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit that returned survives a power cut too (NORMAL may roll back the
        # last ones). Reviews are small commits, so the extra fsync is cheap; imports
        # commit in chunks. See RELIABILITY.md.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        # No automatic (PASSIVE) checkpoints: the WAL-reset bug of SQLite 3.7.0-3.51.2 needs
        # a checkpoint that runs without the write lock while another connection resets the
        # WAL. Ours run only through Workspace.checkpoint(), in TRUNCATE mode, which holds
        # the write lock throughout, so no commit (and no WAL reset) can race one.
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers say so up front (BEGIN IMMEDIATE) so two writers queue on the busy
        # handler instead of failing with "database is locked" on upgrade; readers stay
        # deferred and never block writers under WAL.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


WAL_CHECKPOINT_BYTES = 16 * 1024 * 1024
"""A write that leaves the WAL larger than this checkpoints it (keeps the WAL bounded).
About a thousand 16 KB pages (:data:`PAGE_SIZE`). With 4 MB, four times as many checkpoints
ran as with 4 KB pages, each waiting for long readers: a review's save p99 went from 20 to
132 ms with an importer, an exporter and backups running (`python -m tests.perf
concurrency`); with 16 MB it is 22 ms again."""
BULK_CACHE_KIB = 65536
"""Page cache of a connection doing bulk writes, in KiB. SQLite's default (2 MB) holds too
few of the index pages a chunk of 5,000 sessions touches: they were read back from the WAL
over and over, half the importing process's system time; with 64 MB an import of 100,000
sessions takes a tenth less time (`python -m tests.perf import`). Filled only as used."""
CHECKPOINT_WAIT_MS = 250
"""How long a checkpoint waits for readers and writers before giving up until next time."""


def wal_path(db: Path) -> Path:
    return db.with_name(db.name + "-wal")


class Workspace:
    """An open workspace. Hand out ORM sessions per unit of work; never share them."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._writer = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._autocommit = (
            self._writer
            if self.is_sqlite
            else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._id: str | None = None

    @property
    def display_name(self) -> str:
        if self.is_sqlite:
            return str(self.path)
        return display_url(self.url)

    @property
    def path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        db = make_url(self.url).database
        return Path(db) if db else None

    @contextmanager
    def read(self) -> Iterator[OrmSession]:
        """A read-only unit of work (:class:`WorkspaceUnavailable` when the server is gone)."""
        try:
            with OrmSession(self.engine, expire_on_commit=False) as s:
                yield s
        except DBAPIError as exc:
            if _unreachable(exc):
                raise unavailable_error(self.url, exc) from None
            raise

    @contextmanager
    def write(self, *, bulk: bool = False, one_statement: bool = False) -> Iterator[OrmSession]:
        """A write unit of work: BEGIN IMMEDIATE on SQLite, committed on success
        (:class:`WorkspaceUnavailable` when the server is gone: nothing was committed).

        ``bulk``: one of many large writes (an import's chunks): on SQLite its connection
        gets a page cache of :data:`BULK_CACHE_KIB` (and keeps it while pooled).

        ``one_statement``: the unit of work writes with one statement at most (a review's
        save, :func:`reviewer.store.reviews.save_review`, on PostgreSQL): on a database
        server every statement then commits on its own, without the round trips of BEGIN
        and COMMIT. SQLite units of work are transactions all the same.
        """
        bind = self._autocommit if one_statement else self._writer
        try:
            with OrmSession(bind, expire_on_commit=False) as s, s.begin():
                if bulk and self.is_sqlite:
                    s.connection().exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
                yield s
        except DBAPIError as exc:
            if _unreachable(exc):
                raise unavailable_error(self.url, exc) from None
            problem = storage_problem(self.display_name, exc) if self.is_sqlite else None
            if problem is not None:
                raise problem from None
            raise
        self._after_write()

    def _after_write(self) -> None:
        if self.is_sqlite and self.path is not None:
            try:
                size = wal_path(self.path).stat().st_size
            except OSError:
                return
            if size > WAL_CHECKPOINT_BYTES:
                self.checkpoint()

    def checkpoint(self) -> tuple[int, int, int] | None:
        """Copy the WAL into the database and truncate it (SQLite; None elsewhere).

        TRUNCATE mode holds the write lock for the whole checkpoint; it gives up (busy)
        rather than wait long for readers, and the next write tries again. Returns SQLite's
        (busy, wal frames, frames checkpointed).
        """
        if not self.is_sqlite:
            return None
        raw = self.engine.raw_connection()
        try:
            con = raw.driver_connection
            assert isinstance(con, sqlite3.Connection)
            con.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            try:
                row = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                con.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            return (int(row[0]), int(row[1]), int(row[2]))
        finally:
            raw.close()

    def meta(self, key: str) -> str | None:
        with self.read() as s:
            row = s.get(WorkspaceMeta, key)
            return row.value if row else None

    @property
    def workspace_id(self) -> str:
        """The workspace's id (read once, then known even while the server is away)."""
        if self._id is None:
            value = self.meta("workspace_id")
            assert value is not None, "workspace without an id"
            self._id = value
        return self._id

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {}
    query = make_url(url).query
    if "connect_timeout" not in query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    if "options" not in query:
        # No JIT compilation: the server costs the reads of a large workspace (counting
        # strata, the analytics' passes) high enough for it, and compiling took 1–3 s on a
        # busy machine where running takes a few hundred ms.
        connect_args["options"] = "-c jit=off"
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args)


def _init_meta(ws: Workspace) -> None:
    with ws.write() as s:
        if s.get(WorkspaceMeta, "workspace_id") is None:
            now = datetime.now(UTC).isoformat()
            s.add(WorkspaceMeta(key="workspace_id", value=uuid.uuid4().hex))
            s.add(WorkspaceMeta(key="created_at", value=now))
            s.add(WorkspaceMeta(key="created_by_version", value=__version__))


PAGE_SIZE = 16384
"""Page size of a new SQLite workspace (SQLite's default is 4,096). Session content is
kilobytes of compressed JSON per row: with 16 KB pages an import writes 100,000 sessions in
a fifth less time (fewer pages, overflow pages and WAL frames per row; `tests/perf`), and
a review's save still touches only a few pages. A workspace keeps the page size it was
created with (a file made with 4 KB pages stays so, and works the same)."""


def create_workspace(target: str | Path) -> Workspace:
    """Create a new workspace at a file path or database URL (refuses an existing file)."""
    url = normalise_url(target)
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        if path.exists() and path.stat().st_size > 0:
            raise WorkspaceError(f"{path} already exists; open it instead of creating it")
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name and str(path) != ":memory:":
            # Fixed once the first page is written, which turning on WAL does.
            with closing(sqlite3.connect(path)) as con:
                con.execute(f"PRAGMA page_size={PAGE_SIZE}")
                con.execute("PRAGMA journal_mode=WAL")
    return open_workspace(target, create=True)


def open_workspace(target: str | Path, *, create: bool = False) -> Workspace:
    """Open a workspace, upgrading its schema to the current version (backup first)."""
    url = normalise_url(target)
    if url.startswith("sqlite") and not create:
        path = Path(make_url(url).database or "")
        if not path.exists():
            raise WorkspaceError(f"no workspace at {path} (create one with `reviewer init`)")
    try:
        engine = _engine_for(url)
    except Exception as exc:  # bad driver names, missing psycopg...
        raise WorkspaceError(f"cannot open {display_url(url)}: {exc}") from None
    ws = Workspace(url, engine)
    try:
        migrate.upgrade_to_head(ws)
        _init_meta(ws)
        ws.workspace_id  # noqa: B018 - read now, so it is known when the server goes away
    except migrate.MigrationError as exc:
        ws.close()
        raise WorkspaceError(str(exc)) from None
    except Exception as exc:
        ws.close()
        if _unreachable(exc):
            raise unavailable_error(url, exc) from None
        if isinstance(exc, sqlite3.DatabaseError) or "DatabaseError" in type(exc).__name__:
            reason = getattr(exc, "orig", None) or exc
            raise WorkspaceError(
                f"{ws.display_name} is not a readable workspace: {reason}"
            ) from None
        raise
    return ws


def set_meta(ws: Workspace, key: str, value: str) -> None:
    with ws.write() as s:
        s.merge(WorkspaceMeta(key=key, value=value))
