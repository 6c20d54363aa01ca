"""Alembic migrations, run when a workspace is opened; backup before upgrading."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

if TYPE_CHECKING:
    from reviewer.store.workspace import Workspace

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class MigrationError(Exception):
    """The workspace's schema cannot be brought to this version of the app."""


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = script().get_current_head()
    assert head is not None
    return head


def current_revision(ws: Workspace) -> str | None:
    with ws.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def backup_sqlite(db_path: Path, dest: Path) -> Path:
    """Copy a live SQLite database with the backup API (never a file copy)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(db_path))
    try:
        out = sqlite3.connect(str(dest))
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    return dest


def backups_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".backups")


def upgrade_to_head(ws: Workspace, target: str = "head") -> Path | None:
    """Bring the schema to ``target``; return the backup taken first, if any."""
    scripts = script()
    current = current_revision(ws)
    known = {rev.revision for rev in scripts.walk_revisions()}
    if current is not None and current not in known:
        raise MigrationError(
            f"{ws.display_name} was written by a newer version of AgentOps Reviewer "
            f"(schema {current}); it was left unchanged. Upgrade the app to open it."
        )
    wanted = scripts.get_current_head() if target == "head" else target
    if current == wanted:
        return None
    backup = None
    if current is not None and ws.is_sqlite and ws.path is not None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = backup_sqlite(
            ws.path, backups_dir(ws.path) / f"pre-upgrade-{current}-{stamp}.sqlite"
        )
    cfg = alembic_config()
    with ws.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)
    return backup
