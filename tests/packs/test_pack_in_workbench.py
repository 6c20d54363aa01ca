"""A pack is reviewed in the ordinary workbench, with the lead's workspace out of reach."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from reviewer.services.merging import merge_results
from reviewer.services.packs import create_pack, open_pack, pack_info, write_results
from reviewer.services.workspaces import open_existing
from reviewer.store.reviews import get_review
from reviewer.store.workspace import Workspace
from reviewer.ui.main_window import MainWindow
from tests.packs.helpers import make_batch


def test_a_pack_is_reviewed_in_the_workbench_offline_and_merged_back(
    qtbot: QtBot, workspace: Workspace, tmp_path: Path
) -> None:
    make_batch(workspace, "b1", {"ana": range(3), "bob": range(3, 5)}, items=5)
    pack = create_pack(workspace, "b1", "ana", tmp_path / "ana.reviewpack")
    lead_path = workspace.path
    assert lead_path is not None
    workspace.close()
    away = lead_path.rename(tmp_path / "elsewhere.sqlite")  # the laptop has no lead workspace

    offline = open_pack(pack.path)
    info = pack_info(offline)
    assert info is not None and offline.path is not None
    target = str(offline.path)
    offline.close()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings, reviewer=info.reviewer, batch=info.batch)
    qtbot.addWidget(w)
    w.show()
    with (
        qtbot.waitSignal(w.workspace_opened, timeout=10_000),
        qtbot.waitSignal(w.session_shown, timeout=10_000),
    ):
        w.open_workspace(target)
    assert w.model.rowCount() == 3  # ana's items only
    w.activateWindow()
    w.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    for k in "511":
        qtbot.keyClick(w.table, k)
    with qtbot.waitSignal(w.bench.review_saved, timeout=5_000) as saved:
        qtbot.keyClick(w.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    uid = saved.args[0]
    w.close()

    results = write_results(pack.path, tmp_path / "ana.reviewresults")
    away.rename(lead_path)  # back at the office
    lead = open_existing(lead_path)
    report = merge_results(lead, [results.path])
    assert report.added == 1
    with lead.read() as s:
        merged = get_review(s, uid)
    assert merged is not None and merged.reviewer == "ana" and merged.values["quality"] == "5"
    lead.close()
