"""`reviewer backup`, `reviewer restore` and `reviewer check` (SQLite workspaces)."""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.cli.common import fail

_DB = click.STRING  # a path or a postgresql:// URL (click.Path would mangle a URL's "//")


def _sqlite(target: str, what: str) -> Path:
    from reviewer.services.workspaces import sqlite_file

    db = sqlite_file(target)
    if db is None:
        fail(f"{what} are for SQLite workspaces; on PostgreSQL use pg_dump and pg_restore")
    return db


@click.command("backup")
@click.argument("workspace", type=_DB)
@click.option("--list", "show", is_flag=True, help="List the backups instead of taking one.")
def backup_cmd(workspace: str, show: bool) -> None:
    """Take an online backup of WORKSPACE into WORKSPACE.backups/ (or list them).

    The app also backs up by itself: before schema upgrades and merges, when it opens a
    workspace and every 30 minutes while it is open; each kind keeps its newest 10.
    """
    from reviewer.services.backups import BackupError, backup_now, list_backups

    db = _sqlite(workspace, "backups")
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
def restore_cmd(workspace: str, source: Path | None) -> None:
    """Put a backup in place of WORKSPACE (close the app on it first).

    What is there is backed up first (or kept aside when it is damaged), so a restore can
    itself be undone.
    """
    from reviewer.services.backups import BackupError, restore

    db = _sqlite(workspace, "restores")
    try:
        chosen = restore(db, source)
    except BackupError as exc:
        fail(str(exc))
    click.echo(f"restored {db} from {chosen.name}")


@click.command("check")
@click.argument("workspace", type=_DB)
def check_cmd(workspace: str) -> None:
    """Run SQLite's integrity_check and foreign_key_check on WORKSPACE (read-only).

    Exit status 0 when it is sound, 1 when damaged (restore a backup with `reviewer restore`).
    """
    from reviewer.services.backups import BackupError, problem

    db = _sqlite(workspace, "checks")
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
