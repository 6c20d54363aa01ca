"""Creating and opening workspaces, with the default rubric installed."""

from __future__ import annotations

from pathlib import Path

from reviewer.resources import default_rubric
from reviewer.store.rubrics import find_rubric, store_rubric
from reviewer.store.workspace import (
    Workspace,
    WorkspaceError,
    create_workspace,
    open_workspace,
    sqlite_file,
)

__all__ = ["Workspace", "WorkspaceError", "init_workspace", "is_sealed_file", "open_existing"]

ZIP_MAGIC = b"PK\x03\x04"
"""Review packs and results are sealed zip files; a workspace is SQLite or a database URL."""


def is_sealed_file(target: str | Path) -> bool:
    """True when ``target`` is a zip file (a review pack or results), not a workspace."""
    path = Path(target)
    try:
        with path.open("rb") as f:
            return f.read(4) == ZIP_MAGIC
    except OSError:  # a URL, a folder, a missing file: the workspace opening says why
        return False


def _ensure_default_rubric(ws: Workspace) -> None:
    with ws.write() as s:
        if find_rubric(s, "default") is None:
            store_rubric(s, default_rubric())


def init_workspace(target: str | Path) -> Workspace:
    """Create a workspace (SQLite file path or database URL) with the default rubric."""
    ws = create_workspace(target)
    _ensure_default_rubric(ws)
    return ws


def open_existing(target: str | Path) -> Workspace:
    """Open a workspace, upgrading its schema when needed (a backup is taken first).

    An SQLite workspace is checked first (``quick_check``): a damaged one is set aside
    untouched and :class:`reviewer.services.backups.WorkspaceDamaged` names the latest good
    backup.
    """
    from reviewer.services.backups import check_at_open

    db = sqlite_file(target)
    if db is not None:
        check_at_open(db)
    ws = open_workspace(target)
    _ensure_default_rubric(ws)
    return ws
