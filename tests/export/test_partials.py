"""Partial files an export killed midway left behind are cleaned by the next export to
that folder: only ours, only stale ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reviewer import atomic
from reviewer.export.options import ExportOptions
from reviewer.services.exporting import export
from reviewer.store.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
HOUR_AGO = time.time() - 3600

KILLED = """
import sys
from pathlib import Path
from reviewer import atomic

tmp = atomic.create_beside(Path(sys.argv[1]))
f = tmp.open("wb")
atomic.hold(f)
f.write(b"x" * 1_000_000)
f.flush()
print(tmp, flush=True)
sys.stdin.read()  # until killed
"""


def _killed_export(out: Path) -> Path:
    """What an export killed midway leaves: its partial file, half written."""
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(out)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    left = Path(child.stdout.readline().strip())
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdin.close()
    child.stdout.close()
    return left


def _aged(path: Path) -> Path:
    os.utime(path, (HOUR_AGO, HOUR_AGO), follow_symlinks=False)
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks and symlinks")
def test_the_next_export_cleans_stale_partials_and_nothing_else(
    labelled: Workspace, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    killed = _aged(_killed_export(folder / "labels.parquet"))
    assert killed.name.startswith(".labels.parquet.") and killed.stat().st_size == 1_000_000
    other_killed = _aged(_killed_export(folder / "old-run.jsonl"))
    fresh = _killed_export(folder / "labels.csv")  # could be an export starting right now
    running = _aged(atomic.create_beside(folder / "big.jsonl") or Path())
    held = running.open("wb")
    atomic.hold(held)  # an export still writing, slowly
    kept = {
        "notes.partial": "not ours",
        ".labels.csv.partial": "no random part",
        ".labels.csv.ABCDEF123456.partial": "not hex in lower case",
        ".labels.csv.0123456789ab.partial.txt": "another suffix",
    }
    for name in kept:
        (folder / name).write_text("keep")
        _aged(folder / name)
    stale_dir = folder / ".labels.csv.0123456789ab.partial"
    stale_dir.mkdir()
    _aged(stale_dir)
    link = folder / ".labels.csv.ba9876543210.partial"
    link.symlink_to(tmp_path / "labels.sqlite")
    _aged(link)
    try:
        export(labelled, ExportOptions(format="jsonl"), folder / "labels.jsonl")
    finally:
        held.close()
    left = {p.name for p in folder.iterdir()}
    assert killed.name not in left and other_killed.name not in left
    assert {fresh.name, running.name, *kept, stale_dir.name, link.name} <= left
    assert {"labels.jsonl", "labels.jsonl.manifest.json"} <= left
    assert (tmp_path / "labels.sqlite").is_file()  # a link is never followed
