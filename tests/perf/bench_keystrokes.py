"""Keystrokes per typical review, counted on the real workbench (keys sent where a keyboard
sends them, to the focus widget), with and without judges' suggestions agreed with; and
submit-and-next with suggestions and a step verdict given.

Baseline from the same run: the same reviews in a blind batch (no suggestions shown).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from reviewer.domain.batch import SamplingSpec
from reviewer.services.batches import create_batch
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.synth.generator import generate_sessions
from reviewer.ui.main_window import MainWindow
from tests.perf.harness import Figures, Timer, benchmark

REVIEWS = 40
CTRL = Qt.KeyboardModifier.ControlModifier


def _wait(signal: object, timeout_ms: int = 30_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)  # type: ignore[attr-defined]


def _press(key: Qt.Key | str, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    focus = QApplication.focusWidget()
    assert focus is not None, "nothing has keyboard focus"
    QTest.keyClick(focus, key, mods)


def _session(w: MainWindow, batch: str, path: Path, app: QApplication) -> tuple[list[int], Timer]:
    """Review REVIEWS sessions; per review the keys it took, and submit-and-next times."""
    w.batch = batch
    w.open_workspace(str(path))
    _wait(w.session_shown)
    w.activateWindow()
    keys: list[int] = []
    submits = Timer()
    for _ in range(REVIEWS):
        item = w.bench.item
        assert item is not None
        sent = 0
        offered = {k: s.offered for k, s in w.form.suggestions.items() if s.offered is not None}
        needed = [b.dim for b in w.form.boxes if b.dim.required]
        if offered:
            _press(Qt.Key.Key_Return)  # take the judges' suggestions
            sent += 1
        for dim in needed:  # a fine session: the reviewer agrees, or picks 5 / 1 / 1
            if dim.name not in offered:
                w.form.focus_dimension(dim.label)
                _press("5" if dim.name == "quality" else "1")
                sent += 1
        for _ in range(3):  # let the prefetch of the next item land, as reading would
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        start = time.perf_counter()
        _press(Qt.Key.Key_Return, CTRL)
        sent += 1
        if w.bench.item is item or w.bench._wanted != w.bench.item.session_id:
            _wait(w.session_shown)
        submits.samples.append(time.perf_counter() - start)
        keys.append(sent)
    return keys, submits


@benchmark("keystrokes")
def keystrokes() -> Figures:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "keys.sqlite"
        ws = init_workspace(path)
        store_sessions(ws, list(generate_sessions(400, seed=21)))
        for name, blind in (("judged", False), ("blind", True)):
            create_batch(ws, name, SamplingSpec(size=REVIEWS + 5, seed=3, reviewers=["bench"],
                                                blind=blind))  # fmt: skip
        ws.close()
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        w = MainWindow(settings, reviewer="bench")
        w.resize(1280, 800)
        w.show()
        judged, judged_t = _session(w, "judged", path, app)
        blind, blind_t = _session(w, "blind", path, app)
        w.close()

    def ms(x: float) -> float:
        return round(x * 1000, 1)

    agreed = [k for k in judged if k <= 2]
    return {
        "reviews_each": REVIEWS,
        "keys_per_review_with_suggestions_mean": round(sum(judged) / len(judged), 2),
        "keys_per_review_with_suggestions_max": max(judged),
        "keys_per_review_all_agreed": max(agreed) if agreed else None,
        "keys_per_review_target_agreed": 2,
        "baseline_keys_per_review_blind_mean": round(sum(blind) / len(blind), 2),
        "keys_per_review_target": 4,
        "submit_and_next_with_suggestions_p95_ms": ms(judged_t.percentile(95)),
        "baseline_submit_and_next_blind_p95_ms": ms(blind_t.percentile(95)),
        "submit_target_p95_ms": 50,
    }
