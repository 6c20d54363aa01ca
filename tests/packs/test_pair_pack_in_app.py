"""A pack of a pairwise batch opens in the app's pair bench, is reviewed by keyboard alone,
and its preferences merge back into the lead's workspace."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from reviewer.domain.batch import SamplingSpec
from reviewer.services.merging import merge_results
from reviewer.services.packs import create_pack
from reviewer.services.pairwise import create_pair_batch, pair_spec
from reviewer.services.preferences import load_pair_queue
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.ui.main_window import MainWindow
from reviewer.ui.pair_bench import PairBench
from tests.pairwise.helpers import fill_trials


def test_a_pair_pack_opens_in_the_pair_bench_and_its_choice_merges_back(
    qtbot: QtBot, tmp_path: Path
) -> None:
    lead_path = tmp_path / "lead.sqlite"
    lead = init_workspace(lead_path)
    fill_trials(lead, tasks=4)
    spec = SamplingSpec(
        size=4, seed=1, pairs=pair_spec("metadata.task_id", "version=1.0,2.0"), reviewers=["ann"]
    )
    create_pair_batch(lead, "cmp", spec)
    pack = create_pack(lead, "cmp", "ann", tmp_path / "ann.reviewpack")
    lead.close()

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings, reviewer="someone else")
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    w.open_pack_file(pack.path)
    qtbot.waitUntil(lambda: isinstance(getattr(w, "pairs", None), PairBench), timeout=10_000)
    bench: PairBench = w.pairs  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: bench.item is not None, timeout=10_000)
    assert (w.reviewer, bench.reviewer, w.pack is not None) == ("ann", "ann", True)
    assert "(offline)" in w.windowTitle()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    first = bench.item
    assert first is not None
    focus = QApplication.focusWidget()
    assert focus is not None
    qtbot.keyClick(focus, "1")
    with qtbot.waitSignal(bench.preference_saved, timeout=5_000) as saved:
        focus = QApplication.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert saved.args[1] == "submitted"
    # File → Return results: written after the bench's pending saves
    w.return_results(tmp_path / "ann.results")
    qtbot.waitUntil(lambda: w.last_results is not None, timeout=10_000)
    results = w.last_results
    assert results is not None and results.preferences == 1
    assert "1 preferences (1 submitted)" in w.statusBar().currentMessage()
    w.close()
    lead = open_existing(lead_path)
    assert merge_results(lead, [results.path]).added == 1
    statuses = {e.position: e.status for e in load_pair_queue(lead, "cmp", "ann").entries}
    assert statuses[first.position] == "submitted"
    lead.close()
