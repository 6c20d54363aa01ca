"""`reviewer stats` and a dashboard refresh on 1,000,000 sessions and 200,000 reviews.

Targets (issue 6): `reviewer stats` ≤ 2 s, a dashboard refresh (``compute_stats``, the call
behind it) ≤ 1 s. Baselines from the same run: one bare COUNT … GROUP BY over the reviews
with sqlite3 (what any figure of the reviews costs at least), starting the `reviewer`
command for `--version` (what any command costs before it does anything), and opening the
workspace as every command does (``open_existing``, with its ``quick_check``).

CPU seconds are printed beside wall seconds: on a machine shared with other work the wall
time of a two-threaded read says more about the neighbours than about the code.

Set ``BENCH_ANALYTICS_WORKSPACE=/path/ws.sqlite`` to keep the built workspace there and reuse
it in later runs (building takes about half a minute).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reviewer.services.analytics import StatsQuery, compute_stats
from reviewer.services.workspaces import open_existing
from tests.perf.analytics_data import build
from tests.perf.harness import Figures, benchmark, timed

RUNS = 5
STATS_TARGET_S = 2.0
REFRESH_TARGET_S = 1.0
FIGURES_MODULE = "reviewer.services.analytics.compute"


def _median(samples: list[float]) -> float:
    return round(statistics.median(samples), 3)


def _command(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "reviewer", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def _measure(path: Path) -> Figures:
    con = sqlite3.connect(path)
    bare = []
    for _ in range(RUNS):
        with timed() as t:
            con.execute(
                "SELECT batch_id, reviewer, status, count(*) FROM reviews GROUP BY 1, 2, 3"
            ).fetchall()
        bare.append(t.seconds)
    reviews, sessions = con.execute(
        "SELECT (SELECT count(*) FROM reviews), (SELECT count(*) FROM sessions)"
    ).fetchone()
    con.close()

    opening = []
    for _ in range(3):
        with timed() as t:
            ws = open_existing(path)  # what every command does first (quick_check included)
        opening.append(t.seconds)
        ws.close()
    ws = open_existing(path)
    compute_stats(ws)  # imports and first-touch of the file, as when the app is running
    refresh, refresh_cpu, refresh_batch, refresh_batch_cpu = [], [], [], []
    for _ in range(RUNS):
        cpu = time.process_time()
        with timed() as t:
            report = compute_stats(ws, StatsQuery(disagreements=500))
        refresh.append(t.seconds)
        refresh_cpu.append(time.process_time() - cpu)
        cpu = time.process_time()
        with timed() as t:
            compute_stats(ws, StatsQuery(batch="batch-3", disagreements=500))
        refresh_batch.append(t.seconds)
        refresh_batch_cpu.append(time.process_time() - cpu)
    ws.close()

    startup = [_command("--version") for _ in range(RUNS)]
    imports = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(
            # the figures' modules (pandas among them) load on first use of compute_stats
            [sys.executable, "-c", f"import reviewer.cli.cmd_stats, {FIGURES_MODULE}"],
            check=True,
        )
        imports.append(time.perf_counter() - start)
    cli = [_command("stats", str(path), "--json") for _ in range(RUNS)]
    cli_text = [_command("stats", str(path), "--batch", "batch-3") for _ in range(3)]
    bare_s = _median(bare)
    return {
        "sessions": sessions,
        "reviews": reviews,
        "baseline_bare_sql_count_group_by_reviews_s": bare_s,
        "baseline_cli_startup_version_s": _median(startup),
        # `--version` loads no command since commands load lazily: what `stats` imports
        "baseline_import_stats_modules_s": _median(imports),
        "baseline_open_workspace_s": _median(opening),
        "dashboard_refresh_all_reviews_s": _median(refresh),
        "dashboard_refresh_all_reviews_worst_s": round(max(refresh), 3),
        "dashboard_refresh_all_reviews_cpu_s": _median(refresh_cpu),
        "dashboard_refresh_one_batch_s": _median(refresh_batch),
        "dashboard_refresh_one_batch_cpu_s": _median(refresh_batch_cpu),
        "dashboard_refresh_ratio_to_bare_sql": round(_median(refresh) / bare_s, 1),
        "stats_cli_json_all_reviews_s": _median(cli),
        "stats_cli_json_worst_s": round(max(cli), 3),
        "stats_cli_text_one_batch_s": _median(cli_text),
        "stats_cli_minus_startup_s": round(_median(cli) - _median(startup), 3),
        "stats_cli_minus_startup_and_open_s": round(
            _median(cli) - _median(startup) - _median(opening), 3
        ),
        "stats_cli_minus_its_imports_s": round(_median(cli) - _median(imports), 3),
        "judge_sample_sessions": report.judge_sample,
        "disagreements": report.agreement.disagreements_total,
        "target_stats_cli_met": _median(cli) <= STATS_TARGET_S,
        "target_dashboard_refresh_met": _median(refresh) <= REFRESH_TARGET_S,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


@benchmark("analytics")
def analytics() -> Figures:
    kept = os.environ.get("BENCH_ANALYTICS_WORKSPACE")
    if kept:
        path = Path(kept)
        built = 0.0
        if not path.exists():
            with timed() as t:
                build(path)
            built = t.seconds
        return {"build_s": round(built, 1), **_measure(path)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "analytics.sqlite"
        with timed() as t:
            build(path)
        return {"build_s": round(t.seconds, 1), **_measure(path)}
