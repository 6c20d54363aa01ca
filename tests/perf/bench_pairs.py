"""The pair workbench, driven offscreen: open a pair, submit-and-next.

Baselines from the same run: a bare ``QPlainTextEdit.setPlainText`` of both transcripts'
text, and a bare load of the two sessions from the workspace.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from reviewer.domain.batch import SamplingSpec
from reviewer.domain.preference import Winner
from reviewer.services import browse
from reviewer.services.importing import store_sessions
from reviewer.services.pairwise import create_pair_batch, pair_spec
from reviewer.services.workspaces import init_workspace
from reviewer.synth.generator import generate_sessions
from reviewer.ui.pair_bench import PairBench
from tests.perf.harness import Figures, Timer, benchmark

TASKS = 160
OPENS = 60
SUBMITS = 60


def _wait(signal: object, timeout_ms: int = 30_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)  # type: ignore[attr-defined]


def _settle(app: QApplication, bench: PairBench) -> None:
    deadline = time.perf_counter() + 2
    while time.perf_counter() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if not bench.runner.busy:
            return


@benchmark("pairs")
def pairs() -> Figures:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        ws = init_workspace(path)
        sessions = []
        for i, s in enumerate(generate_sessions(TASKS, seed=5)):
            meta = {**s.metadata, "task_id": f"task-{i}"}
            v1 = s.agent.model_copy(update={"version": "1.0"})
            v2 = s.agent.model_copy(update={"version": "2.0"})
            a = s.model_copy(update={"metadata": meta, "agent": v1})
            b = s.model_copy(update={"id": s.id + "-b", "metadata": meta, "agent": v2})
            sessions += [a, b]
        store_sessions(ws, sessions)
        spec = SamplingSpec(
            size=TASKS, seed=1, pairs=pair_spec("metadata.task_id", "version=1.0,2.0")
        )
        create_pair_batch(ws, "cmp", spec)
        steps = sorted(len(s.steps) for s in sessions)
        bench = PairBench(ws, "bench", "cmp")
        bench.resize(1280, 800)
        bench.show()
        bench.load()
        _wait(bench.pair_shown)

        opens = Timer()
        for pos in range(1, OPENS + 1):
            _settle(app, bench)
            start = time.perf_counter()
            bench.open_position(pos)
            _wait(bench.pair_shown)
            bench.view.left.viewport().repaint()
            bench.view.right.viewport().repaint()
            opens.samples.append(time.perf_counter() - start)

        bare = QPlainTextEdit()
        bare.resize(540, 700)
        bare.show()
        bare_t = Timer()
        for k in range(OPENS):
            text = "\n\n".join(
                f"{st.role.value}\n{st.content}"
                for s in sessions[2 * k : 2 * k + 2]
                for st in s.steps
            )
            start = time.perf_counter()
            bare.setPlainText(text)
            bare.viewport().repaint()
            bare_t.samples.append(time.perf_counter() - start)
        load_t = Timer()
        ids = browse.session_ids(ws)
        for k in range(OPENS):
            start = time.perf_counter()
            browse.get_session(ws, ids[2 * k])
            browse.get_session(ws, ids[2 * k + 1])
            load_t.samples.append(time.perf_counter() - start)

        submits = Timer()
        bench.open_position(OPENS + 1)
        _wait(bench.pair_shown)
        for _ in range(SUBMITS):
            bench.pick(Winner.LEFT)
            _settle(app, bench)  # the reviewer reads for a while
            start = time.perf_counter()
            bench.submit()
            _wait(bench.pair_shown)
            submits.samples.append(time.perf_counter() - start)
        bench.shutdown()
        bench.close()
        bare.close()
        ws.close()

    def ms(x: float) -> float:
        return round(x * 1000, 1)

    return {
        "typical_steps_median": steps[len(steps) // 2],
        "open_pair_p50_ms": ms(opens.percentile(50)),
        "open_pair_p95_ms": ms(opens.percentile(95)),
        "open_pair_target_p95_ms": 80,
        "baseline_bare_setPlainText_two_p95_ms": ms(bare_t.percentile(95)),
        "baseline_bare_load_two_p95_ms": ms(load_t.percentile(95)),
        "submit_and_next_p50_ms": ms(submits.percentile(50)),
        "submit_and_next_p95_ms": ms(submits.percentile(95)),
        "submit_target_p95_ms": 50,
    }
