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

from reviewer.ingest.workers import default_workers
from reviewer.synth.generator import write_jsonl
from tests.perf.harness import Figures, benchmark

N = int(os.environ.get("BENCH_IMPORT_SESSIONS", "100000"))

_PEAK = """
def _status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
"""
# Peak RSS as VmHWM of this very process: ru_maxrss would also count the harness process
# it was started from (Linux keeps the larger figure across fork and exec).
_PEAK_OF_THIS_PROCESS = '_status_kb("self", "VmHWM:") / 1024'

_BASELINE = (
    _PEAK
    + """
import sqlite3, sys, orjson
con = sqlite3.connect(sys.argv[2])
con.execute("PRAGMA journal_mode=WAL")
con.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, key TEXT, data BLOB)")
rows = []
with open(sys.argv[1], "rb") as f:
    for line in f:
        rows.append((orjson.loads(line)["id"], line))
con.executemany("INSERT INTO raw (key, data) VALUES (?, ?)", rows)
con.commit()
print("""
    + _PEAK_OF_THIS_PROCESS
    + """)
"""
)

_OURS = (
    _PEAK
    + """
import os, sys, threading, time
from pathlib import Path
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.services.importing import import_paths

def _children(pid):
    kids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            kids += [int(k) for k in f.read().split()]
    return kids

together = [0]
done = threading.Event()

def _sample():
    # This process and its worker processes together, every 20 ms.
    me = os.getpid()
    while not done.wait(0.02):
        total = _status_kb(me, "VmRSS:") + sum(_status_kb(k, "VmRSS:") for k in _children(me))
        together[0] = max(together[0], total)

sampler = threading.Thread(target=_sample, daemon=True)
sampler.start()
again = sys.argv[4] == "again"
ws = (open_existing if again else init_workspace)(sys.argv[2])
summary = import_paths(ws, [Path(sys.argv[1])])
done.set()
sampler.join()
assert (summary.duplicates if again else summary.imported) == int(sys.argv[3]), summary
print("""
    + _PEAK_OF_THIS_PROCESS
    + """)
print(together[0] / 1024)
"""
)


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
        ours_s, [ours_rss, together_rss] = _run(
            _OURS, str(data), str(Path(tmp) / "ws.sqlite"), str(N), "first"
        )
        again_s, [_again_rss, again_together_rss] = _run(
            _OURS, str(data), str(Path(tmp) / "ws.sqlite"), str(N), "again"
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
        "import_with_workers_peak_rss_mb": round(together_rss),
        "import_workers": default_workers(),
        "reimport_all_duplicates_s": round(again_s, 2),
        "reimport_ratio_to_first_import": round(again_s / ours_s, 3),
        "reimport_with_workers_peak_rss_mb": round(again_together_rss),
        "baseline_bare_loop_s": round(base_s, 2),
        "baseline_sessions_per_s": round(N / base_s),
        "baseline_peak_rss_mb": round(base_rss),
        "throughput_ratio_to_baseline": round(base_s / ours_s, 3),
        "note": orjson.dumps(
            {
                "baseline": "orjson.loads + executemany raw bytes, one transaction",
                "ours": "full import, committed chunks; then the same file again (target: "
                "re-import <= 0.25x the first import)",
                "rss": "VmHWM of each script; with workers: the importing process and its "
                "workers together, sampled every 20 ms",
            }
        ).decode(),
    }


TINY = int(os.environ.get("BENCH_TINY_SESSIONS", "300000"))


def _write_tiny(path: Path, n: int) -> int:
    """``n`` tiny valid canonical sessions (one user step each, about 100 bytes a line)."""
    with path.open("wb") as f:
        for i in range(n):
            f.write(
                b'{"schema_version":1,"id":"tiny-%d","steps":[{"role":"user","content":"q %d"}]}\n'
                % (i, i)
            )
        return f.tell()


@benchmark("import_tiny")
def import_tiny_memory() -> Figures:
    """Peak memory of importing tiny sessions stays bounded in their number: the same
    import at a tenth of the size is the baseline (target: about 300 MB for the process
    tree, whatever the number of records)."""
    figures: Figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, n in (("baseline_tenth", TINY // 10), ("full", TINY)):
            data = Path(tmp) / f"tiny-{n}.jsonl"
            size = _write_tiny(data, n)
            seconds, [rss, together] = _run(
                _OURS, str(data), str(Path(tmp) / f"ws-{n}.sqlite"), str(n), "first"
            )
            data.unlink()
            figures[f"{label}_sessions"] = n
            figures[f"{label}_file_mb"] = round(size / 1e6, 1)
            figures[f"{label}_import_s"] = round(seconds, 2)
            figures[f"{label}_peak_rss_mb"] = round(rss)
            figures[f"{label}_with_workers_peak_rss_mb"] = round(together)
    figures["rss_growth_full_over_tenth"] = round(
        figures["full_with_workers_peak_rss_mb"]
        / figures["baseline_tenth_with_workers_peak_rss_mb"],
        2,
    )
    return figures
