"""Batch → New batch: live preview per stratum, then the batch is stored."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from reviewer.services.batches import get_batch
from reviewer.services.workspaces import open_existing
from reviewer.ui.main_window import MainWindow


def test_new_batch_dialog_previews_strata_and_creates_the_batch(
    qtbot: QtBot, settings: QSettings, filled_workspace: Path
) -> None:
    w = MainWindow(settings, reviewer="lead")
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.workspace_opened, timeout=10_000):
        w.open_workspace(str(filled_workspace))
    dialog = w.new_batch()
    assert dialog is not None
    with qtbot.waitSignal(dialog.preview_ready, timeout=10_000):
        dialog.stratify.setText("tool_error")
        dialog.refresh_preview()
    cells = [
        [dialog.table.item(r, c).text() for c in range(4)] for r in range(dialog.table.rowCount())
    ]
    assert cells == [["tool_error=False", "451", "100", "208"]]
    with qtbot.waitSignal(dialog.preview_ready, timeout=10_000):
        dialog.where.setText("colour=red")
        dialog.refresh_preview()
    assert "unknown field 'colour'" in dialog.message.text()
    dialog.where.setText("")
    dialog.name.setText("from-dialog")
    dialog.size_box.setValue(20)
    dialog.reviewers.setText("ann, ben")
    with qtbot.waitSignal(dialog.batch_created, timeout=10_000):
        dialog.buttons.accepted.emit()
    w.close()
    ws = open_existing(filled_workspace)
    batch = get_batch(ws, "from-dialog")
    ws.close()
    assert len(batch.items) == 20
    assert {r for i in batch.items for r in i.reviewers} == {"ann", "ben"}
