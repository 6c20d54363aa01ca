"""Alembic migrations, run when a workspace is opened; backup before upgrading."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from reviewer.store.workspace import Workspace

# Alembic is imported only when a schema is created or upgraded: a workspace already at the
# head revision (every open but the first after an update) is recognised without it.

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class MigrationError(Exception):
    """The workspace's schema cannot be brought to this version of the app."""


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = script().get_current_head()
    assert head is not None
    return head


def current_revision(ws: Workspace) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with ws.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


_REVISION = re.compile(r"""^revision(?:\s*:[^=\n]+)?\s*=\s*["']([^"'\n]+)["']""", re.M)
_DOWN_REVISION = re.compile(
    r"""^down_revision(?:\s*:[^=\n]+)?\s*=\s*(?:["']([^"'\n]+)["']|None)\s*$""", re.M
)


def head_from_sources() -> str | None:
    """The head revision, read from the text of the migration files (no Alembic); None
    when a file does not have the plain ``revision = "…"`` / ``down_revision = "…"`` shape
    or the revisions do not form one line (then Alembic decides)."""
    down_of: dict[str, str | None] = {}
    for f in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        if f.name.startswith("_"):
            continue
        source = f.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN_REVISION.findall(source)
        if len(revision) != 1 or len(down) != 1 or revision[0] in down_of:
            return None
        down_of[revision[0]] = down[0] or None
    downs = list(down_of.values())
    heads = [r for r in down_of if r not in downs]
    if len(heads) != 1 or len(set(downs)) != len(downs) or downs.count(None) != 1:
        return None
    return heads[0]


def _stored_revisions(ws: Workspace) -> list[str] | None:
    """The revisions recorded in the workspace (plain SQL); None when there is no record."""
    try:
        with ws.engine.connect() as conn:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return [str(r) for r in found]
    except DBAPIError:
        return None


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
    if target == "head":
        head = head_from_sources()
        if head is not None and _stored_revisions(ws) == [head]:
            return None
    from alembic import command

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
