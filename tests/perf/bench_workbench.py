"""The review workbench, driven offscreen: open, first paint, submit-and-next, GUI stalls.

Baselines from the same run: a bare ``QPlainTextEdit.setPlainText`` of the same transcript
text (what any text view pays), a bare load of the session from the workspace, and the
longest gap of the stall probe while the event loop sits idle (what the machine's other work
costs the probe: on a shared machine a stall is only the code's beyond that). As the app does
after start-up (``freeze_startup_heap``), what was allocated before the measured part is kept
out of later garbage collections.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from reviewer.domain.session import Role, Session, Step
from reviewer.services import browse
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace
from reviewer.synth.generator import generate_sessions
from reviewer.ui.app import freeze_startup_heap
from reviewer.ui.main_window import MainWindow
from tests.perf.harness import Figures, Timer, benchmark
from tests.perf.qt import after

TYPICAL = 300
OPENS = 100
SUBMITS = 60


def _big_session() -> Session:
    """2,000 steps, about 10 MB of text."""
    base = next(iter(generate_sessions(1, seed=11)))
    steps = []
    for i in range(2000):
        role = (Role.USER, Role.ASSISTANT, Role.TOOL)[i % 3]
        words = " ".join(f"word{j}" for j in range(800))  # ~5 KB, wrapped text
        steps.append(Step(role=role, content=f"step {i}: {words}"))
    return base.model_copy(update={"id": "big-2000", "steps": steps})


def _core_wait() -> float:
    """Seconds the calling thread has spent ready to run but waiting for a core (Linux's
    schedstat; 0 where there is none)."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class _Stalls:
    """Ticks every 5 ms on the GUI thread; the longest gap is the longest stall.

    Beside each gap's wall time it keeps the GUI thread's own CPU time in it
    (``worst_cpu``): on a machine shared with other work a gap's wall time is mostly the
    neighbours' turn, its CPU time is the code's work in one turn of the event loop. Of the
    longest gap it also keeps how long the GUI thread waited for a core in it
    (``worst_core_wait``): the neighbours' turn, measured. What is left of the gap is the
    GUI thread asleep: waiting for the GIL, or idle.
    """

    def __init__(self) -> None:
        self.timer = QTimer()
        self.reset()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now, cpu, wait = time.perf_counter(), time.thread_time(), _core_wait()
        if now - self._last > self.worst:
            self.worst, self.worst_core_wait = now - self._last, wait - self._last_wait
        self.worst_cpu = max(self.worst_cpu, cpu - self._last_cpu)
        self._last, self._last_cpu, self._last_wait = now, cpu, wait

    def reset(self) -> None:
        self.worst = self.worst_cpu = self.worst_core_wait = 0.0
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self._last_wait = _core_wait()


def _settle(app: object) -> None:
    deadline = time.perf_counter() + 2
    while time.perf_counter() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)  # type: ignore[attr-defined]
        w = _current
        if w is not None and not w.bench.items.busy and not w.bench.runner.busy:
            return


_current: MainWindow | None = None


def _row_of(w: MainWindow, ws: Workspace, key: str) -> int:
    """The row of session ``key``, whether or not its page of the list is fetched yet."""
    for found in browse.summaries(ws, browse.session_ids(ws)):
        row = w.model.row_of(found.id) if found.key == key else None
        if row is not None:
            return row
    raise LookupError(key)


@benchmark("workbench")
def workbench() -> Figures:
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        ws = init_workspace(path)
        sessions = list(generate_sessions(TYPICAL, seed=5))
        big = _big_session()
        store_sessions(ws, [*sessions, big])
        steps = sorted(len(s.steps) for s in sessions)
        big_mb = sum(len(s.content) for s in big.steps) / 1e6
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        w = MainWindow(settings, reviewer="bench")
        global _current
        _current = w
        w.resize(1280, 800)
        w.show()
        stalls = _Stalls()
        after(w.session_shown, lambda: w.open_workspace(str(path)))
        if w.model.summary(0) is None:
            after(w.model.rows_loaded)
        freeze_startup_heap()
        _settle(app)  # the first session's paint and the item fetched ahead are done

        # Baseline: the probe alone, the event loop idle for a second.
        stalls.reset()
        idle = QEventLoop()
        QTimer.singleShot(1000, idle.quit)
        idle.exec()
        idle_stall, idle_stall_cpu = stalls.worst, stalls.worst_cpu
        idle_stall_wait = stalls.worst_core_wait

        # Open typical sessions one row after another, cold: going up the list, the session
        # fetched ahead (the next one down) is never the one opened.
        opens = Timer()
        stalls.reset()
        for i in range(OPENS, 0, -1):
            start = time.perf_counter()
            after(w.session_shown, lambda i=i: w.table.selectRow(i))
            opens.samples.append(time.perf_counter() - start)
        open_stall, open_stall_cpu = stalls.worst, stalls.worst_cpu
        open_stall_wait = stalls.worst_core_wait

        # Baseline: a bare text view showing the same transcripts as one plain string.
        bare = QPlainTextEdit()
        bare.resize(540, 700)
        bare.show()
        # The main window's deactivation by that show is handled now: it arrived later and
        # repainted the whole window inside the measured stall of the 12.6 MB session
        # (14-23 ms of painting its transcript alone).
        app.processEvents()
        bare_t = Timer()
        for s in sessions[:OPENS]:
            text = "\n\n".join(f"{st.role.value}\n{st.content}" for st in s.steps)
            start = time.perf_counter()
            bare.setPlainText(text)
            bare.viewport().repaint()
            bare_t.samples.append(time.perf_counter() - start)
        load_t = Timer()
        ids = browse.session_ids(ws)
        for sid in ids[:OPENS]:
            start = time.perf_counter()
            browse.get_session(ws, sid)
            load_t.samples.append(time.perf_counter() - start)

        # First paint of the 2,000-step session.
        row = _row_of(w, ws, "big-2000")
        stalls.reset()
        start = time.perf_counter()
        after(w.session_shown, lambda: w.table.selectRow(row))
        w.transcript.viewport().repaint()
        big_first_paint = time.perf_counter() - start
        if not w.transcript.complete:
            after(w.transcript.rendered)
        big_complete = time.perf_counter() - start
        big_stall, big_stall_cpu = stalls.worst, stalls.worst_cpu
        big_stall_wait = stalls.worst_core_wait
        start = time.perf_counter()
        bare_big = "\n\n".join(f"{st.role.value}\n{st.content}" for st in big.steps)
        bare.setPlainText(bare_big)
        bare.viewport().repaint()
        bare_big_t = time.perf_counter() - start

        # Submit and next: 5, 1, 1, Ctrl+Enter on each item, timed from submit to next shown.
        after(w.session_shown, lambda: w.table.selectRow(0))
        submits = Timer()
        stalls.reset()
        for _ in range(SUBMITS):
            for n in (5, 1, 1):
                w.form.pick(n)
            _settle(app)  # the reviewer reads for a while: the next item is fetched ahead
            start = time.perf_counter()
            after(w.session_shown, w.bench.submit)
            submits.samples.append(time.perf_counter() - start)
        submit_stall, submit_stall_cpu = stalls.worst, stalls.worst_cpu
        submit_stall_wait = stalls.worst_core_wait
        w.close()
        bare.close()
        ws.close()
        stalls.timer.stop()

    def ms(x: float) -> float:
        return round(x * 1000, 1)

    return {
        "typical_steps_median": steps[len(steps) // 2],
        "open_typical_p50_ms": ms(opens.percentile(50)),
        "open_typical_p95_ms": ms(opens.percentile(95)),
        "open_target_p95_ms": 50,
        "baseline_bare_setPlainText_p95_ms": ms(bare_t.percentile(95)),
        "baseline_bare_load_p95_ms": ms(load_t.percentile(95)),
        "big_session_mb": round(big_mb, 1),
        "big_first_paint_ms": ms(big_first_paint),
        "big_first_paint_target_ms": 300,
        "big_all_cards_in_ms": ms(big_complete),
        "baseline_bare_setPlainText_big_ms": ms(bare_big_t),
        "submit_and_next_p50_ms": ms(submits.percentile(50)),
        "submit_and_next_p95_ms": ms(submits.percentile(95)),
        "submit_target_p95_ms": 50,
        "longest_gui_stall_while_opening_ms": ms(open_stall),
        "longest_gui_stall_big_session_ms": ms(big_stall),
        "longest_gui_stall_while_submitting_ms": ms(submit_stall),
        "baseline_longest_probe_gap_idle_ms": ms(idle_stall),
        # the GUI thread's own CPU time in its busiest gap (the code, not the neighbours)
        "gui_stall_cpu_while_opening_ms": ms(open_stall_cpu),
        "gui_stall_cpu_big_session_ms": ms(big_stall_cpu),
        "gui_stall_cpu_while_submitting_ms": ms(submit_stall_cpu),
        "baseline_gui_cpu_idle_ms": ms(idle_stall_cpu),
        # how long the GUI thread waited for a core in its longest gap (the neighbours' turn)
        "gui_stall_core_wait_while_opening_ms": ms(open_stall_wait),
        "gui_stall_core_wait_big_session_ms": ms(big_stall_wait),
        "gui_stall_core_wait_while_submitting_ms": ms(submit_stall_wait),
        "baseline_gui_core_wait_idle_ms": ms(idle_stall_wait),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "gui_stall_target_ms": 50,
    }
