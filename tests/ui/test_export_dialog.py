"""File → Export: options, a worker run with progress, Cancel, and what the dialog says."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from reviewer.services.workspaces import init_workspace
from reviewer.ui.export_dialog import ExportDialog, open_export_dialog
from reviewer.ui.main_window import MainWindow
from tests.export.conftest import build


@pytest.fixture
def reviewed(tmp_path: Path) -> Path:
    path = tmp_path / "reviewed.sqlite"
    ws = init_workspace(path)
    build(ws)
    ws.close()
    return path


@pytest.fixture
def dialog(qtbot: QtBot, window: MainWindow, reviewed: Path) -> Iterator[ExportDialog]:
    with qtbot.waitSignal(window.workspace_opened, timeout=10_000):
        window.open_workspace(str(reviewed))
    opened = open_export_dialog(window, window.workspace, window.import_runner)
    assert opened is not None
    qtbot.waitUntil(lambda: opened.batch.count() == 2, timeout=5_000)  # batches load on a worker
    yield opened
    opened.close()


def test_the_file_menu_offers_export(window: MainWindow) -> None:
    file_menu = window.menuBar().actions()[0].menu()
    texts = [a.text() for a in file_menu.actions()]
    assert "&Export labels…" in texts
    assert (
        open_export_dialog(window, window.workspace, window.import_runner) is None
    )  # no workspace open yet


def test_export_runs_on_the_worker_and_reports_what_it_wrote(
    qtbot: QtBot, dialog: ExportDialog, tmp_path: Path
) -> None:
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    dialog.level.setCurrentIndex(dialog.level.findData("session"))
    dialog.batch.setCurrentIndex(dialog.batch.findData("week-1"))
    out = tmp_path / "labels.csv"
    dialog.out.setText(str(out))
    with qtbot.waitSignal(dialog.exported, timeout=20_000) as blocker:
        dialog.export_button.click()
    manifest = blocker.args[0]
    assert (manifest.level, manifest.batch, manifest.counts.rows) == ("session", "week-1", 1)
    assert out.exists()
    assert json.loads(Path(f"{out}.manifest.json").read_text())["data"]["file"] == "labels.csv"
    assert dialog.message.text().startswith(f"Wrote 1 rows to {out}")
    assert dialog.export_button.isEnabled()


def test_dataset_formats_take_thresholds_and_switch_the_extension(
    qtbot: QtBot, dialog: ExportDialog, tmp_path: Path
) -> None:
    dialog.out.setText(str(tmp_path / "labels.csv"))
    dialog.format.setCurrentIndex(dialog.format.findData("openai-sft"))
    assert dialog.out.text() == str(tmp_path / "labels.jsonl")
    assert not dialog.level.isEnabled() and dialog.min_quality.isEnabled()
    dialog.require.setText("")
    with qtbot.waitSignal(dialog.exported, timeout=20_000) as blocker:
        dialog.start()
    assert blocker.args[0].counts.rows == 4 and "Left out" not in dialog.message.text()
    dialog.require.setText("policy")
    dialog.start()
    assert dialog.message.text() == "Require 'policy': write DIMENSION=VALUE"


def test_cancel_stops_the_export_and_writes_nothing(
    qtbot: QtBot, window: MainWindow, dialog: ExportDialog, tmp_path: Path
) -> None:
    release = threading.Event()
    window.import_runner.run(release.wait)  # the worker is busy: the export waits its turn
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dialog.out.setText(str(out_dir / "labels.parquet"))
    dialog.format.setCurrentIndex(dialog.format.findData("parquet"))
    dialog.start()
    assert dialog.progress_dialog is not None
    dialog.progress_dialog.canceled.emit()  # what its Cancel button sends
    with qtbot.waitSignal(dialog.failed, timeout=20_000) as blocker:
        release.set()
    assert blocker.args[0] == "Cancelled: nothing was written."
    assert list(out_dir.iterdir()) == []


def test_a_bad_filter_is_explained(qtbot: QtBot, dialog: ExportDialog, tmp_path: Path) -> None:
    dialog.out.setText(str(tmp_path / "labels.jsonl"))
    dialog.where.setText("versoin=2")
    with qtbot.waitSignal(dialog.failed, timeout=20_000) as blocker:
        dialog.start()
    assert "unknown field 'versoin' (did you mean 'version'?)" in blocker.args[0]
    assert not (tmp_path / "labels.jsonl").exists()
