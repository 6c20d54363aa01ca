"""Import workers exit when the importing process dies, even by SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from reviewer.ingest import workers as import_workers

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from pathlib import Path
from reviewer.ingest.detect import by_name
from reviewer.ingest.workers import Workers
from reviewer.services.importing import PREPARATION
from reviewer.synth.generator import write_jsonl

if __name__ == "__main__":
    mode, folder = sys.argv[1], Path(sys.argv[2])
    if mode == "pool":  # an import's workers, between two tasks
        path = folder / "s.jsonl"
        write_jsonl(path, 20, 1)
        workers = Workers(2, PREPARATION).__enter__()
        items = workers.prepared(path, by_name("canonical"), 10**6)
        next(items)
        pids = list(workers._pool._processes)
    else:  # only the portable watch (as where prctl does not exist)
        import multiprocessing
        from tests.ingest.test_worker_orphans import watched_only
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        worker = context.Process(target=watched_only, args=(ready,))
        worker.start()
        if not ready.wait(20):
            sys.exit("the worker did not start its watch")
        pids = [worker.pid]
    print(" ".join(map(str, pids)), flush=True)
    sys.stdin.read()  # until killed
"""


def watched_only(ready: Any) -> None:
    """A spawned worker that has only the portable parent watch, then waits for work."""
    sys.platform = "portable"  # no prctl
    import_workers._die_with_parent()
    ready.set()
    signal.pause()


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
@pytest.mark.parametrize("mode", ["pool", "portable watch"])
def test_workers_exit_when_the_importing_process_is_killed(mode: str, tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode.split()[0], str(tmp_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        pids = [int(p) for p in child.stdout.readline().split()]
        assert pids and all(_alive(p) for p in pids)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.stdin is not None and child.stdout is not None
        child.stdin.close()
        child.stdout.close()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling other processes: no signal to wait on
    left = [p for p in pids if _alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)  # do not leave them behind when the test fails
    assert not left, f"workers still running after their parent died: {left}"
