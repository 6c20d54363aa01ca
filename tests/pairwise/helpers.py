"""A workspace with several trials of the same tasks under two agent versions."""

from __future__ import annotations

from reviewer.services.importing import store_sessions
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session


def fill_trials(ws: Workspace, tasks: int = 20, trials: int = 2) -> None:
    """``tasks`` tasks (metadata.task_id t-00…), each tried ``trials`` times by 1.0 and by
    2.0, plus a 3.0 session on task t-00 and a 2.0 session of a task only 2.0 ran."""
    sessions = []
    for t in range(tasks):
        for version in ("1.0", "2.0"):
            for k in range(trials):
                s = make_session(
                    f"t{t:02d}-v{version}-{k}",
                    text=f"Task {t}: where is my order {t}?",
                    version=version,
                    metadata={"task_id": f"t-{t:02d}"},
                )
                s.steps[-1].content = f"Answer by {version} try {k} to task {t}."
                sessions.append(s)
    sessions.append(make_session("v3", version="3.0", metadata={"task_id": "t-00"}))
    sessions.append(make_session("lonely", version="2.0", metadata={"task_id": "only-2"}))
    store_sessions(ws, sessions)
