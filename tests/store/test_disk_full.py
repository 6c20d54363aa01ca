"""Disk full and read-only workspaces during a save: one clear line, no partial rows, and
the same save succeeds once the cause is gone."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from sqlalchemy import event, text

from reviewer.domain.review import Review
from reviewer.domain.rubric import Rubric
from reviewer.services.importing import store_sessions
from reviewer.services.reviewing import store
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace, WorkspaceWriteError
from tests.helpers.factories import make_session


def _review(rubric: Rubric, answer: str) -> Review:
    return Review(
        session_key="s-1",
        reviewer="ana",
        rubric_name=rubric.name,
        rubric_version=rubric.version,
        values={"quality": "2", "corrected_response": answer},
    )


def _counts(ws: Workspace) -> tuple[int, int, int]:
    with ws.read() as s:
        return tuple(  # type: ignore[return-value]
            s.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("reviews", "audit_log", "review_tags")
        )


def _cap_pages(ws: Workspace) -> Any:
    """Make the database full: no page may be added beyond those it has now."""
    with ws.read() as s:
        pages = s.execute(text("PRAGMA page_count")).scalar_one()

    def cap(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

    ws.engine.dispose()
    event.listen(ws.engine, "connect", cap)
    return cap


def test_a_full_disk_refuses_the_save_cleanly_and_the_retry_succeeds(
    tmp_path: Path, rubric: Rubric
) -> None:
    ws = init_workspace(tmp_path / "ws.sqlite")
    store_sessions(ws, [make_session("s-1")])
    review = _review(rubric, "The answer should have been… " + "x" * 300_000)
    before = _counts(ws)
    cap = _cap_pages(ws)
    started = time.perf_counter()
    with pytest.raises(WorkspaceWriteError, match="the disk is full") as caught:
        store(ws, review, rubric)
    assert time.perf_counter() - started < 1.0
    assert "SQL" not in str(caught.value) and "xxxx" not in str(caught.value)
    assert _counts(ws) == before  # no partial rows
    event.remove(ws.engine, "connect", cap)
    ws.engine.dispose()  # space is back
    store(ws, review, rubric)
    assert _counts(ws)[0] == before[0] + 1
    ws.close()


def test_the_workbench_keeps_the_edit_says_why_and_saves_it_later(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewer.services import drafts
    from reviewer.ui.main_window import MainWindow

    ws = init_workspace(tmp_path / "ws.sqlite")
    store_sessions(ws, [make_session("s-1")])
    ws.close()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings, reviewer="ana")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.session_shown, timeout=10_000):
        w.open_workspace(str(tmp_path / "ws.sqlite"))
    real = drafts.store
    full = True

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if full:
            raise WorkspaceWriteError(
                "ws.sqlite was not changed: the disk is full: free some space"
            )
        return real(*args, **kwargs)

    monkeypatch.setattr(drafts, "store", flaky)
    w.bench.form.set_active(0)
    w.bench.form.pick(4)
    started = time.perf_counter()
    w.bench.save_draft()
    qtbot.waitUntil(lambda: "disk is full" in w.bench.form.problem.text(), timeout=1_000)
    assert time.perf_counter() - started < 1.0
    assert "kept and retried" in w.bench.form.problem.text()
    assert w.bench.form.state().values["quality"] == "4"  # the edit stays in the form
    full = False
    with qtbot.waitSignal(w.bench.review_saved, timeout=10_000):
        w.bench.save_draft()  # what the retry timer does a few seconds later
    w.close()
