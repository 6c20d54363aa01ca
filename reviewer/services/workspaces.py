"""Creating and opening workspaces, with the default rubric installed."""

from __future__ import annotations

from pathlib import Path

from reviewer.resources import default_rubric
from reviewer.store.rubrics import find_rubric, store_rubric
from reviewer.store.workspace import Workspace, WorkspaceError, create_workspace, open_workspace

__all__ = ["Workspace", "WorkspaceError", "init_workspace", "open_existing"]


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
    """Open a workspace, upgrading its schema when needed (a backup is taken first)."""
    ws = open_workspace(target)
    _ensure_default_rubric(ws)
    return ws
