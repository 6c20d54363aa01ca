"""The demo workspace: generated sessions in an SQLite file, ready to review."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path

from reviewer.services.importing import store_sessions
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.workspace import Workspace, set_meta
from reviewer.synth.generator import generate_sessions

DEMO_SESSIONS = 2000
DEMO_SEED = 7


def default_demo_path() -> Path:
    return user_data_path("agentops-reviewer", appauthor=False) / "demo.sqlite"


def build_demo(
    path: Path,
    *,
    sessions: int = DEMO_SESSIONS,
    seed: int = DEMO_SEED,
    rebuild: bool = False,
    progress: Progress = NO_PROGRESS,
) -> Workspace:
    """Create the demo workspace at ``path`` (or reopen it when it is already there)."""
    if path.exists() and not rebuild:
        ws = open_existing(path)
        if ws.meta("demo_complete") == "yes":
            return ws
        ws.close()  # a build that was interrupted: start again
    if path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    ws = init_workspace(path)
    store_sessions(ws, generate_sessions(sessions, seed), total=sessions, progress=progress)
    set_meta(ws, "demo_complete", "yes")
    return ws
