"""Run benchmarks and print their figures as JSON: python -m tests.perf [NAME...]"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

from tests.perf.harness import BENCHMARKS


def main(names: list[str]) -> int:
    here = Path(__file__).parent
    for info in pkgutil.iter_modules([str(here)]):
        if info.name.startswith("bench_"):
            importlib.import_module(f"tests.perf.{info.name}")
    wanted = names or sorted(BENCHMARKS)
    unknown = [n for n in wanted if n not in BENCHMARKS]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(sorted(BENCHMARKS))}",
            file=sys.stderr,
        )
        return 2
    results = {}
    for name in wanted:
        print(f"running {name}…", file=sys.stderr)
        results[name] = BENCHMARKS[name]()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
