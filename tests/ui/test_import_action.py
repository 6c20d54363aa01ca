from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from reviewer.synth.generator import write_jsonl
from reviewer.ui.main_window import MainWindow


def _generated(
    qtbot: QtBot, window: MainWindow, workspace: Path, f: Path, count: int, seed: int
) -> Path:
    """Open ``workspace`` in the window, and write ``count`` generated sessions to ``f``."""
    with qtbot.waitSignal(window.workspace_opened, timeout=10_000):
        window.open_workspace(str(workspace))
    write_jsonl(f, count, seed=seed)
    return f


def test_import_from_the_app_refreshes_the_list(
    qtbot: QtBot, window: MainWindow, filled_workspace: Path, tmp_path: Path
) -> None:
    f = _generated(qtbot, window, filled_workspace, tmp_path / "more.jsonl", 30, seed=2)
    (tmp_path / "bad.jsonl").write_bytes(b"{broken\n")
    shown: list[tuple[int, int]] = []
    with qtbot.waitSignal(window.bench.queue_loaded, timeout=20_000):
        job = window.import_files([f, tmp_path / "bad.jsonl"])
        assert job is not None
        job.progressed.connect(lambda done, total, _m: shown.append((done, total)))
    assert shown and shown[-1] == (30, 30)  # a bar to the end, not only a busy sign
    assert job.dialog.maximum() == 30
    assert window.last_import is not None
    assert (window.last_import.imported, window.last_import.exit_code) == (30, 3)
    assert window.model.rowCount() == 451 + 30


def test_an_import_with_bad_records_says_which_and_where_all_are_listed(
    qtbot: QtBot, window: MainWindow, filled_workspace: Path, tmp_path: Path
) -> None:
    f = _generated(qtbot, window, filled_workspace, tmp_path / "some-bad.jsonl", 3, seed=4)
    lines = f.read_bytes().splitlines(keepends=True)
    f.write_bytes(b"".join([lines[0], b"{broken\n", lines[1], b'"just a string"\n', lines[2]]))
    with qtbot.waitSignal(window.bench.queue_loaded, timeout=20_000):
        window.import_files([f])
    box = window.import_problems
    assert box.isVisible()
    text = box.text()
    assert "3 imported" in text and "2 rejected" in text
    assert "some-bad.jsonl, line 2: malformed JSON" in text
    assert "some-bad.jsonl, line 4: " in text
    report = window.last_import.report if window.last_import else None
    assert report is not None and report in text
    assert len(Path(report).read_bytes().splitlines()) == 2


def test_cancel_stops_the_import_and_keeps_whole_chunks(
    qtbot: QtBot, window: MainWindow, filled_workspace: Path, tmp_path: Path
) -> None:
    f = _generated(qtbot, window, filled_workspace, tmp_path / "many.jsonl", 1200, seed=3)
    job = window.import_files([f])
    assert job is not None
    job.progress.cancel()
    with qtbot.waitSignal(job.finished, timeout=20_000) as blocker:
        pass
    summary = blocker.args[0]
    assert summary.cancelled
    assert summary.imported % 500 == 0 and summary.imported < 1200
