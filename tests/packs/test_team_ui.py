"""Packs, merges, conflicts, history and a workspace out of reach — in the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from reviewer.domain.review import ReviewRole, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services import drafts
from reviewer.services.conflicts import open_conflicts
from reviewer.services.merging import merge_results
from reviewer.services.packs import create_pack, open_pack, write_results
from reviewer.services.workspaces import open_existing
from reviewer.store.reviews import get_review
from reviewer.store.tables import ReviewRow
from reviewer.store.workspace import Workspace, WorkspaceUnavailable
from reviewer.ui.main_window import MainWindow
from tests.packs.helpers import BAD, GOOD, make_batch, review_item
from tests.packs.test_conflicts import OTHER, conflicted
from tests.packs.test_merge_forgery import _forged, _line, _review


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot: QtBot, settings: QSettings) -> Iterator[MainWindow]:
    w = MainWindow(settings, reviewer="ana", batch="b1")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def _activate(qtbot: QtBot, w: MainWindow) -> None:
    w.activateWindow()
    w.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)


def _open(qtbot: QtBot, w: MainWindow, target: str) -> None:
    with (
        qtbot.waitSignal(w.workspace_opened, timeout=10_000),
        qtbot.waitSignal(w.session_shown, timeout=10_000),
    ):
        w.open_workspace(target)
    _activate(qtbot, w)


def _open_batch(qtbot: QtBot, w: MainWindow, workspace: Workspace) -> None:
    """A batch of two items for ana, opened in the window."""
    make_batch(workspace, "b1", {"ana": range(2)}, items=2)
    assert workspace.path is not None
    _open(qtbot, w, str(workspace.path))


def _server_away(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Make saves find the workspace out of reach until the returned list is cleared."""
    real_store = drafts.store
    away = [True]

    def store(*args: object, **kwargs: object) -> object:
        if away:
            raise WorkspaceUnavailable("the workspace server cannot be reached")
        return real_store(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(drafts, "store", store)
    return away


def _values(ws_path: Path, uid: str) -> dict[str, object]:
    ws = open_existing(ws_path)
    try:
        with ws.read() as s:
            review = get_review(s, uid)
        assert review is not None
        return dict(review.values)
    finally:
        ws.close()


def test_a_pack_is_opened_and_returned_from_the_file_menu(
    qtbot: QtBot, window: MainWindow, workspace: Workspace, tmp_path: Path
) -> None:
    make_batch(workspace, "b1", {"bea": range(3), "ana": range(3, 5)}, items=5, gold=[0])
    pack = create_pack(workspace, "b1", "bea", tmp_path / "bea.reviewpack")
    with (
        qtbot.waitSignal(window.workspace_opened, timeout=10_000),
        qtbot.waitSignal(window.session_shown, timeout=10_000),
    ):
        window.open_pack_file(pack.path)
    assert window.reviewer == "bea"  # a pack is reviewed under its reviewer's name
    assert "offline" in window.windowTitle() and window.model.rowCount() == 3
    assert window.return_action.isEnabled() and not window.merge_action.isEnabled()
    _activate(qtbot, window)
    for k in "411":
        qtbot.keyClick(window.table, k)
    with qtbot.waitSignal(window.bench.review_saved, timeout=5_000) as saved:
        qtbot.keyClick(window.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    uid = saved.args[0]
    out = tmp_path / "bea.reviewresults"
    window.return_results(out)
    qtbot.waitUntil(lambda: window.last_results is not None, timeout=10_000)
    assert window.last_results is not None and window.last_results.submitted == 1
    assert "Send this file to your lead" in window.statusBar().currentMessage()
    report = merge_results(workspace, [out])
    assert report.added == 1
    with workspace.read() as s:
        merged = get_review(s, uid)
    assert merged is not None and merged.reviewer == "bea" and merged.values["quality"] == "4"


def test_the_lead_merges_and_settles_a_conflict_in_the_app(
    qtbot: QtBot, window: MainWindow, workspace: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    results = conflicted(workspace, rubric, tmp_path)
    assert workspace.path is not None
    _open(qtbot, window, str(workspace.path))
    assert window.merge_action.isEnabled() and not window.return_action.isEnabled()
    window.merge_files([results])
    qtbot.waitUntil(
        lambda: window.conflicts_dialog is not None and window.conflicts_dialog.list.count() == 1,
        timeout=10_000,
    )
    assert window.last_merge is not None and window.last_merge.flagged == 1
    dialog = window.conflicts_dialog
    assert dialog is not None and dialog.isVisible()
    # both versions side by side, the differing rows marked
    cells = {
        dialog.table.item(r, 0).text(): (
            dialog.table.item(r, 1).text(),
            dialog.table.item(r, 2).text(),
        )
        for r in range(dialog.table.rowCount())
    }
    assert cells["Quality"][0].endswith("(2)") and cells["Quality"][1].endswith("(1)")
    qtbot.mouseClick(dialog.use_kept, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.list.count() == 0, timeout=10_000)
    assert "No conflicts" in dialog.summary.text()
    assert open_conflicts(workspace) == []
    with workspace.read() as s:
        row = s.scalar(select(ReviewRow).where(ReviewRow.conflict_of.is_(None)))
        assert row is not None and row.values == OTHER


def test_a_save_over_a_change_made_elsewhere_asks_which_to_keep(
    qtbot: QtBot, window: MainWindow, workspace: Workspace, rubric: Rubric
) -> None:
    make_batch(workspace, "b1", {"ana": range(2)}, items=2)
    draft = review_item(
        workspace, rubric, 0, "ana", values={"quality": "3"}, status=ReviewStatus.DRAFT
    )
    assert workspace.path is not None
    _open(qtbot, window, str(workspace.path))
    assert window.bench.item is not None and window.bench.item.review.uid == draft.uid
    # meanwhile, on another computer, the same review is changed and saved
    review_item(workspace, rubric, 0, "ana", values=BAD, uid=draft.uid)
    window.bench.form.set_active(0)  # quality
    qtbot.keyClick(window.table, "5")
    window.bench.save_draft()
    qtbot.waitUntil(
        lambda: (
            window.bench.conflict_dialog is not None and window.bench.conflict_dialog.isVisible()
        ),
        timeout=10_000,
    )
    dialog = window.bench.conflict_dialog
    assert dialog is not None
    assert _values(workspace.path, draft.uid) == BAD  # nothing overwritten
    qtbot.mouseClick(dialog.use_theirs, Qt.MouseButton.LeftButton)
    assert window.bench.form.state().values["quality"] == "2"  # the saved version is shown
    # and keeping one's own after a second clash overwrites knowingly
    review_item(workspace, rubric, 0, "ana", values=GOOD, uid=draft.uid)
    _activate(qtbot, window)
    window.bench.form.set_active(0)  # quality
    qtbot.keyClick(window.table, "5")
    window.bench.save_draft()
    qtbot.waitUntil(
        lambda: (
            window.bench.conflict_dialog is not dialog
            and window.bench.conflict_dialog is not None
            and window.bench.conflict_dialog.isVisible()
        ),
        timeout=10_000,
    )
    second = window.bench.conflict_dialog
    assert second is not None
    with qtbot.waitSignal(window.bench.review_saved, timeout=5_000):
        qtbot.mouseClick(second.keep_mine, Qt.MouseButton.LeftButton)
    assert _values(workspace.path, draft.uid)["quality"] == "5"


def test_reviews_are_kept_locally_while_the_workspace_is_away(
    qtbot: QtBot,
    window: MainWindow,
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _open_batch(qtbot, window, workspace)
    away = _server_away(monkeypatch)
    for k in "411":
        qtbot.keyClick(window.table, k)
    window.bench.save_draft()
    qtbot.waitUntil(lambda: window.bench.banner.isVisible(), timeout=10_000)
    assert "cannot be reached" in window.bench.banner.text()
    assert "kept on this computer" in window.bench.banner.text()
    with workspace.read() as s:
        assert s.scalars(select(ReviewRow)).all() == []
    assert len(window.bench.drafts.pending(workspace.workspace_id)) == 1
    away.clear()  # the connection is back: the next retry saves what was kept
    with qtbot.waitSignal(window.statusBar().messageChanged, timeout=10_000):
        window.bench.retry_kept()
    qtbot.waitUntil(lambda: not window.bench.banner.isVisible(), timeout=10_000)
    assert window.bench.drafts.pending(workspace.workspace_id) == []
    with workspace.read() as s:
        [row] = s.scalars(select(ReviewRow)).all()
        assert (row.values["quality"], row.values["correctness"]) == ("4", "correct")


def test_history_shows_every_change_to_the_session_reviews(
    qtbot: QtBot, window: MainWindow, workspace: Workspace
) -> None:
    _open_batch(qtbot, window, workspace)
    for k in "411":
        qtbot.keyClick(window.table, k)
    with qtbot.waitSignal(window.bench.review_saved, timeout=5_000):
        window.bench.save_draft()
    dialog = window.show_history()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=5_000)
    assert dialog.table.item(0, 1).text() == "ana"
    assert dialog.table.item(0, 2).text() == "create"
    assert "1 change" in dialog.summary.text()


def test_a_kept_review_changed_elsewhere_is_said_once_and_shown_when_its_item_opens(
    qtbot: QtBot,
    window: MainWindow,
    workspace: Workspace,
    rubric: Rubric,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _open_batch(qtbot, window, workspace)
    bench = window.bench
    with qtbot.waitSignal(bench.review_saved, timeout=5_000):
        for k in "411":
            qtbot.keyClick(window.table, k)
        bench.save_draft()
    assert bench.item is not None
    uid = bench.item.review.uid
    away = _server_away(monkeypatch)
    bench.form.set_active(0)  # quality
    qtbot.keyClick(window.table, "5")
    bench.save_draft()
    qtbot.waitUntil(lambda: bench.banner.isVisible(), timeout=10_000)
    with qtbot.waitSignal(window.session_shown, timeout=10_000):
        bench.go(1)  # another item: the kept review's item is not on screen
    review_item(workspace, rubric, 0, "ana", values=BAD, uid=uid, status=ReviewStatus.DRAFT)
    said: list[str] = []
    bench.message.connect(said.append)
    away.clear()
    bench.retry_kept()
    qtbot.waitUntil(lambda: any("changed elsewhere" in m for m in said), timeout=10_000)
    assert bench.conflict_dialog is None  # not on screen: not shown yet
    bench.retry_kept()  # the next try says nothing new
    qtbot.waitUntil(lambda: not bench.items.busy, timeout=10_000)
    assert sum("changed elsewhere" in m for m in said) == 1
    assert _values(workspace.path, uid) == BAD  # nothing overwritten unseen
    with qtbot.waitSignal(window.session_shown, timeout=10_000):
        bench.go(-1)
    qtbot.waitUntil(
        lambda: bench.conflict_dialog is not None and bench.conflict_dialog.isVisible(),
        timeout=10_000,
    )
    dialog = bench.conflict_dialog
    assert dialog is not None
    with qtbot.waitSignal(bench.review_saved, timeout=5_000):
        qtbot.mouseClick(dialog.keep_mine, Qt.MouseButton.LeftButton)
    assert _values(workspace.path, uid)["quality"] == "5"
    assert bench.drafts.pending(workspace.workspace_id) == []


def test_a_refused_merge_names_what_was_refused_and_why(
    qtbot: QtBot, window: MainWindow, workspace: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    make_batch(workspace, "b1", {"ana": range(3), "bob": range(3, 5)}, items=5)
    pack = create_pack(workspace, "b1", "ana", tmp_path / "ana.reviewpack")
    offline = open_pack(pack.path)
    review_item(offline, rubric, 0, "ana")
    genuine = write_results(offline, tmp_path / "ana.results").path
    offline.close()
    hostile = [_review(rubric, 1, role=ReviewRole.GOLD), _review(rubric, 4)]
    forged = _forged(workspace, genuine, tmp_path / "forged.results", [_line(r) for r in hostile])
    assert workspace.path is not None
    _open(qtbot, window, str(workspace.path))
    window.merge_files([forged])
    qtbot.waitUntil(
        lambda: window.problem_box is not None and window.problem_box.isVisible(), timeout=10_000
    )
    box = window.problem_box
    assert box is not None and box.windowTitle() == "Nothing merged"
    assert "refused 2 review(s)" in box.text() and "its role is gold" in box.text()
    assert box.detailedText().splitlines() == [
        f"forged.results: review {hostile[0].uid[:8]} of s-00001: its role is gold; "
        "a pack's results hold reviewer reviews only",
        f"forged.results: review {hostile[1].uid[:8]} of s-00004: revision 1 of it is not "
        "an item of this pack",
    ]
    assert window.last_merge is None
    with workspace.read() as s:
        assert s.scalars(select(ReviewRow)).all() == []
