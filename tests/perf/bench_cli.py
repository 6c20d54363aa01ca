"""Start-up time of the `reviewer` command against a bare `python -c pass`, same run."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.perf.harness import Figures, benchmark

RUNS = 7


def _median_wall(args: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _init_wall() -> float:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(RUNS):
            target = Path(tmp) / f"w{i}.sqlite"
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "reviewer", "init", str(target)],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - start)
    return statistics.median(times)


@benchmark("cli_startup")
def cli_startup() -> Figures:
    """Median wall time of `reviewer --version`, `--help` and `init` (target ≤ 0.25 s for the
    first two), beside `python -c pass` and `python -c "import click"`."""
    reviewer = [sys.executable, "-m", "reviewer"]
    return {
        "runs": RUNS,
        "version_s": round(_median_wall([*reviewer, "--version"]), 3),
        "help_s": round(_median_wall([*reviewer, "--help"]), 3),
        "init_s": round(_init_wall(), 3),
        "baseline_python_pass_s": round(_median_wall([sys.executable, "-c", "pass"]), 3),
        "baseline_import_click_s": round(_median_wall([sys.executable, "-c", "import click"]), 3),
    }
