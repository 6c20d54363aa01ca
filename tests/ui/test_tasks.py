"""The UI's task-runner policy: writes in order and one at a time, reads in parallel after
the writes before them, stale reads dropped, nothing lost at shutdown."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from reviewer.ui.tasks import GIL_SWITCH_S, READERS, TaskRunner


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    r.shutdown()


def test_writes_run_in_submission_order_never_two_at_once(qtbot: QtBot, runner: TaskRunner) -> None:
    ran: list[int] = []
    delivered: list[int] = []
    running = 0
    overlap = False
    guard = threading.Lock()

    def save(n: int) -> int:
        nonlocal running, overlap
        with guard:
            running += 1
            overlap = overlap or running > 1
        threading.Event().wait(0.001 * (n % 3))  # uneven work: order must not depend on it
        ran.append(n)
        with guard:
            running -= 1
        return n

    for n in range(30):
        runner.write(save, n, on_done=delivered.append)
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    assert ran == list(range(30)) and delivered == list(range(30))
    assert not overlap


def test_a_read_sees_every_write_submitted_before_it(qtbot: QtBot, runner: TaskRunner) -> None:
    stored: list[str] = []
    release = threading.Event()
    seen: list[list[str]] = []

    def slow_save() -> None:
        release.wait(10)
        stored.append("saved")

    runner.write(slow_save)
    runner.read(lambda: list(stored), on_done=seen.append)  # the item reopened after a save
    release.set()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert seen == [["saved"]]


def test_reads_run_in_parallel(qtbot: QtBot, runner: TaskRunner) -> None:
    both = threading.Barrier(READERS, timeout=10)  # broken unless the reads meet
    results: list[int] = []
    for _ in range(READERS):
        runner.read(both.wait, on_done=results.append)
    qtbot.waitUntil(lambda: len(results) == READERS, timeout=10_000)
    assert sorted(results) == list(range(READERS))


def test_only_the_newest_read_of_a_key_is_delivered(qtbot: QtBot, runner: TaskRunner) -> None:
    first_may_finish = threading.Event()
    shown: list[str] = []
    errors: list[BaseException] = []

    def slow(name: str) -> str:
        first_may_finish.wait(10)
        return name

    def fails() -> str:
        raise RuntimeError("stale too")

    runner.read(slow, "item 1", key="open", on_done=shown.append)
    runner.read(fails, key="open", on_done=shown.append, on_error=errors.append)
    runner.read(lambda: "item 3", key="open", on_done=shown.append)
    runner.read(lambda: "page", on_done=shown.append)  # no key: always delivered
    first_may_finish.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    assert sorted(shown) == ["item 3", "page"] and errors == []


def test_a_failure_without_a_handler_is_reported(qtbot: QtBot, runner: TaskRunner) -> None:
    def broken() -> None:
        raise ValueError("disk on fire")

    with qtbot.waitSignal(runner.failed, timeout=5_000) as blocker:
        runner.write(broken)
    assert blocker.args[0] == "ValueError: disk on fire"


def test_shutdown_finishes_queued_writes_and_drops_the_rest(qtbot: QtBot) -> None:
    runner = TaskRunner()
    release = threading.Event()
    saved: list[int] = []
    runner.write(release.wait, 10)
    for n in range(5):
        runner.write(saved.append, n)
    release.set()
    runner.shutdown(finish_pending=True)
    assert saved == [0, 1, 2, 3, 4]
    assert runner.write(saved.append, 99).cancelled()  # closed: nothing runs any more
    assert runner.read(saved.append, 99).cancelled()


def test_workers_hand_the_gil_to_the_gui_thread_within_a_quarter_millisecond(
    runner: TaskRunner,
) -> None:
    """Python's default, 5 ms per hand-over, made one repaint of the window wait 30–70 ms
    behind a worker: each call from Qt into Python during it waited its turn (about 200 of
    them while a session opens)."""
    assert sys.getswitchinterval() <= GIL_SWITCH_S <= 0.00025
