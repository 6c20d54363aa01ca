"""`reviewer backup`, `reviewer restore` and `reviewer check` (SQLite workspaces)."""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.cli.common import fail

_DB = click.Path(dir_okay=False, path_type=Path)


def _sqlite(target: Path) -> Path:
    from reviewer.store.workspace import sqlite_file

    db = sqlite_file(target)
    if db is None:
        fail("backups are for SQLite workspaces; back up PostgreSQL with pg_dump")
    return db


@click.command("backup")
@click.argument("workspace", type=_DB)
@click.option("--list", "show", is_flag=True, help="List the backups instead of taking one.")
def backup_cmd(workspace: Path, show: bool) -> None:
    """Take an online backup of WORKSPACE into WORKSPACE.backups/ (or list them).

    The app also backs up by itself: before schema upgrades and merges, when it opens a
    workspace and every 30 minutes while it is open; each kind keeps its newest 10.
    """
    from reviewer.services.backups import BackupError, backup_now, list_backups

    db = _sqlite(workspace)
    if show:
        backups = list_backups(db)
        if not backups:
            click.echo(f"no backups of {db.name} yet")
        for b in backups:
            click.echo(f"{b.taken_at:%Y-%m-%d %H:%M:%S} UTC\t{b.kind}\t{b.size:,} B\t{b.path}")
        return
    try:
        dest = backup_now(db, "manual")
    except BackupError as exc:
        fail(str(exc))
    click.echo(f"backup taken: {dest}")


@click.command("restore")
@click.argument("workspace", type=_DB)
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The backup to restore (default: the newest that passes SQLite's quick_check).",
)
def restore_cmd(workspace: Path, source: Path | None) -> None:
    """Put a backup in place of WORKSPACE (close the app on it first).

    What is there is backed up first (or kept aside when it is damaged), so a restore can
    itself be undone.
    """
    from reviewer.services.backups import BackupError, restore

    db = _sqlite(workspace)
    try:
        chosen = restore(db, source)
    except BackupError as exc:
        fail(str(exc))
    click.echo(f"restored {db} from {chosen.name}")


@click.command("check")
@click.argument("workspace", type=_DB)
def check_cmd(workspace: Path) -> None:
    """Run SQLite's integrity_check and foreign_key_check on WORKSPACE (read-only).

    Exit status 0 when it is sound, 1 when damaged (restore a backup with `reviewer restore`).
    """
    from reviewer.services.backups import BackupError, problem

    db = _sqlite(workspace)
    if not db.is_file():
        fail(f"no workspace at {db}")
    try:
        reason = problem(db, full=True)
    except BackupError as exc:
        fail(str(exc))
    if reason is None:
        click.echo(f"{db.name}: ok")
        return
    fail(f"{db.name} is damaged: {reason}", code=1)


@click.command("diagnostics")
def diagnostics_cmd() -> None:
    """Print versions, platform, SQLite and recent errors for a bug report.

    Never includes session content, workspace paths or passwords.
    """
    from reviewer.services.diagnostics import report

    click.echo(report())
