"""Exporting 200,000 reviews to csv, jsonl and parquet, against pandas on the same rows.

Targets 100,000 rows/s for each format; ``rows_per_cpu_s`` is the same rate per second of
CPU the export used, which other load on the machine changes less than wall time.

The workspace is built with bulk inserts (100,000 sessions, two reviews each: most say
the session was fine, about a third found a failure and wrote a rationale and a corrected
answer of their own). Each export runs in a child process, so its peak memory is its own;
the baseline child reads the same reviews joined to their sessions with ``pandas.read_sql``
and writes them with ``to_csv``, ``to_json(lines=True)`` and ``to_parquet``.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import orjson

from reviewer.services.workspaces import init_workspace
from tests.perf.harness import Figures, benchmark

SESSIONS = 100_000
REVIEWERS = ("alice", "bob")
TARGET_ROWS_PER_S = 100_000

_PEAK = """
def peak_mb():
    # VmHWM: this process's own peak (ru_maxrss would include the parent's, from fork)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

_CHILD_OURS = (
    _PEAK
    + """
import json, sys, time
from pathlib import Path
from reviewer.export.options import ExportOptions
from reviewer.services.exporting import export
from reviewer.services.workspaces import open_existing
ws = open_existing(sys.argv[1])
rss = peak_mb()
start = time.perf_counter()
cpu = time.process_time()
manifest = export(ws, ExportOptions(format=sys.argv[2]), Path(sys.argv[3]))
seconds = time.perf_counter() - start
cpu = time.process_time() - cpu
peak = peak_mb()
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rows": manifest.counts.rows,
                  "peak_rss_mb": peak, "rss_before_mb": rss}))
"""
)

_CHILD_BASELINE = (
    _PEAK
    + """
import json, sqlite3, sys, time
import pandas as pd
con = sqlite3.connect(sys.argv[1])
rss = peak_mb()
start = time.perf_counter()
frame = pd.read_sql(
    'SELECT r.uid, s.session_key, s.revision, b.name AS batch, r.reviewer, r.role, r.status,'
    ' r.status_reason, r."values", r.details, r.failure_step, r.started_at, r.submitted_at,'
    ' r.updated_at, r.active_seconds, r.simulated, r.origin, r.conflict_of, s.agent_name,'
    ' s.agent_version, s.model, s.started_at AS session_started_at, s.source_format'
    ' FROM reviews r JOIN sessions s ON s.id = r.session_id'
    ' LEFT JOIN batches b ON b.id = r.batch_id'
    " WHERE r.status = 'submitted' ORDER BY s.session_key, s.revision, r.reviewer, r.uid",
    con,
)
fmt, out = sys.argv[2], sys.argv[3]
if fmt == "csv":
    frame.to_csv(out, index=False)
elif fmt == "jsonl":
    frame.to_json(out, orient="records", lines=True)
else:
    frame.to_parquet(out, index=False)
seconds = time.perf_counter() - start
peak = peak_mb()
print(json.dumps({"seconds": seconds, "rows": len(frame), "peak_rss_mb": peak,
                  "rss_before_mb": rss}))
"""
)


def build_workspace(path: Path, sessions: int = SESSIONS, seed: int = 5) -> int:
    """A workspace of ``sessions`` sessions with two submitted reviews each; returns the
    number of reviews. Rows go in with executemany, as SQLAlchemy would store them."""
    init_workspace(path).close()
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    con.execute(
        "INSERT INTO batches (id, name, spec, rubric_id, blind, created_at, population)"
        " VALUES (1, 'bench', '{}', 1, 0, '2026-10-01 00:00:00.000000', ?)",
        (sessions,),
    )
    versions = ("1.0", "1.1", "2.0")
    models = ("gpt-4o-mini", "gpt-4.1", "claude-sonnet-4")
    con.executemany(
        "INSERT INTO sessions (id, session_key, revision, is_latest, content_hash,"
        " imported_at, source_format, agent_name, agent_version, model, started_at,"
        " step_count, tool_call_count, has_tool_error, first_user_text)"
        " VALUES (?, ?, 1, 1, '', '2026-10-01 00:00:00.000000', 'canonical',"
        " 'support-agent', ?, ?, ?, 6, 1, 0, 'Where is my order?')",
        (
            (
                i + 1,
                f"sess-{i:07d}",
                versions[i % 3],
                models[i % 3],
                f"2026-10-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00.000000",
            )
            for i in range(sessions)
        ),
    )
    fine = orjson.dumps(
        {"quality": "5", "correctness": "correct", "policy": "compliant", "failure_categories": []}
    ).decode()
    reviews = []
    for i in range(sessions):
        for reviewer in REVIEWERS:
            failed = rng.random() < 0.3
            if failed:
                values = orjson.dumps(
                    {
                        "quality": str(rng.randint(1, 3)),
                        "correctness": rng.choice(("incorrect", "partially_correct")),
                        "policy": rng.choice(("compliant", "minor_violation")),
                        "failure_categories": rng.sample(
                            ["answered_incorrectly", "tool_failure", "looped", "incomplete"],
                            rng.randint(1, 2),
                        ),
                        "rationale": f"Step {rng.randint(1, 6)} of sess-{i:07d} went wrong.",
                        "corrected_response": f"Your order {i} ships on day {rng.randint(1, 9)}.",
                    }
                ).decode()
            else:
                values = fine
            minute = rng.randint(0, 59)
            reviews.append(
                (
                    uuid.UUID(int=rng.getrandbits(128)).hex,
                    i + 1,
                    1 if i % 2 else None,
                    reviewer,
                    values,
                    rng.randint(1, 5) if failed else None,
                    f"2026-10-20 10:{minute:02d}:00.000000",
                    f"2026-10-20 11:{minute:02d}:00.000000",
                    round(rng.lognormvariate(4, 0.4), 1),
                )
            )
    con.executemany(
        'INSERT INTO reviews (uid, session_id, batch_id, reviewer, role, rubric_id, "values",'
        " details, failure_step, status, started_at, updated_at, submitted_at, active_seconds,"
        " simulated, origin, version_id)"
        " VALUES (?, ?, ?, ?, 'reviewer', 1, ?, '{}', ?, 'submitted', ?, ?, ?, ?, 0, 'local', 1)",
        ((*r[:7], r[7], r[7], r[8]) for r in reviews),
    )
    con.commit()
    con.close()
    return len(reviews)


def _child(code: str, workspace: Path, fmt: str, out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", code, str(workspace), fmt, str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@benchmark("export")
def export_reviews() -> Figures:
    figures: Figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws.sqlite"
        reviews = build_workspace(workspace)
        figures["reviews"] = reviews
        figures["target_rows_per_s"] = TARGET_ROWS_PER_S
        # Other work on the machine slows every figure alike: the 1-minute load average
        # at the start says how busy it was (this machine has os.cpu_count() cores).
        figures["load_average_1min"] = round(os.getloadavg()[0], 2)
        figures["cpus"] = os.cpu_count()
        for fmt in ("csv", "jsonl", "parquet"):
            ours = _child(_CHILD_OURS, workspace, fmt, Path(tmp) / f"ours.{fmt}")
            base = _child(_CHILD_BASELINE, workspace, fmt, Path(tmp) / f"base.{fmt}")
            assert ours["rows"] == base["rows"] == reviews
            figures[fmt] = {
                "seconds": round(ours["seconds"], 3),
                "cpu_seconds": round(ours["cpu_seconds"], 3),
                "rows_per_cpu_s": round(reviews / ours["cpu_seconds"]),
                "rows_per_s": round(reviews / ours["seconds"]),
                "peak_rss_mb": round(ours["peak_rss_mb"]),
                "rss_before_export_mb": round(ours["rss_before_mb"]),
                "file_mb": round((Path(tmp) / f"ours.{fmt}").stat().st_size / 1e6, 1),
                "baseline_pandas_seconds": round(base["seconds"], 3),
                "baseline_pandas_rows_per_s": round(reviews / base["seconds"]),
                "baseline_pandas_peak_rss_mb": round(base["peak_rss_mb"]),
                "speed_ratio_to_baseline": round(base["seconds"] / ours["seconds"], 2),
            }
    return figures
