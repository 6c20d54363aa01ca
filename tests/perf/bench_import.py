"""`reviewer import` of generated sessions against a bare orjson + executemany loop over
the same file, both measured in this run. Set BENCH_IMPORT_SESSIONS to change the size."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from reviewer.services.import_workers import default_workers
from reviewer.synth.generator import write_jsonl
from tests.perf.harness import Figures, benchmark

N = int(os.environ.get("BENCH_IMPORT_SESSIONS", "100000"))

_BASELINE = """
import sqlite3, sys, orjson, resource
con = sqlite3.connect(sys.argv[2])
con.execute("PRAGMA journal_mode=WAL")
con.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, key TEXT, data BLOB)")
rows = []
with open(sys.argv[1], "rb") as f:
    for line in f:
        rows.append((orjson.loads(line)["id"], line))
con.executemany("INSERT INTO raw (key, data) VALUES (?, ?)", rows)
con.commit()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

_OURS = """
import sys, resource
from pathlib import Path
from reviewer.services.workspaces import init_workspace
from reviewer.services.importing import import_paths
ws = init_workspace(sys.argv[2])
summary = import_paths(ws, [Path(sys.argv[1])])
assert summary.imported == int(sys.argv[3]), summary
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def _run(code: str, *args: str) -> tuple[float, list[float]]:
    """Wall time of the script, and the figures it printed (peak RSS in MB)."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    )
    return time.perf_counter() - start, [float(x) for x in out.stdout.split()]


@benchmark("import")
def import_throughput() -> Figures:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "sessions.jsonl"
        size = write_jsonl(data, N, seed=11)
        base_s, [base_rss] = _run(_BASELINE, str(data), str(Path(tmp) / "bare.sqlite"))
        ours_s, [ours_rss, worker_rss] = _run(
            _OURS, str(data), str(Path(tmp) / "ws.sqlite"), str(N)
        )
        with sqlite3.connect(Path(tmp) / "ws.sqlite") as con:
            stored = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
        median = sorted(len(line) for line in data.open("rb"))[N // 2] if N < 200_000 else None
    assert stored == N
    return {
        "sessions": N,
        "file_mb": round(size / 1e6, 1),
        "median_session_kb": round(median / 1000, 2) if median else None,
        "import_s": round(ours_s, 2),
        "import_sessions_per_s": round(N / ours_s),
        "import_peak_rss_mb": round(ours_rss),
        "import_worker_peak_rss_mb": round(worker_rss),
        "import_workers": default_workers(),
        "baseline_bare_loop_s": round(base_s, 2),
        "baseline_sessions_per_s": round(N / base_s),
        "baseline_peak_rss_mb": round(base_rss),
        "throughput_ratio_to_baseline": round(base_s / ours_s, 3),
        "note": orjson.dumps(
            {
                "baseline": "orjson.loads + executemany raw bytes, one transaction",
                "ours": "full import, committed chunks; worker RSS is the largest worker's",
            }
        ).decode(),
    }
