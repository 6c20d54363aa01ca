"""A tiny benchmark harness: each benchmark reports figures beside a baseline measured in
the same run, so results compare across machines."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Figures = dict[str, Any]
BENCHMARKS: dict[str, Callable[[], Figures]] = {}


def benchmark(name: str) -> Callable[[Callable[[], Figures]], Callable[[], Figures]]:
    """Register a function returning a dict of figures (include its baseline figures)."""

    def wrap(fn: Callable[[], Figures]) -> Callable[[], Figures]:
        BENCHMARKS[name] = fn
        return fn

    return wrap


@dataclass
class Timer:
    seconds: float = 0.0
    samples: list[float] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        data = sorted(self.samples)
        if not data:
            return 0.0
        k = min(len(data) - 1, max(0, round(p / 100 * (len(data) - 1))))
        return data[k]


@contextmanager
def timed() -> Iterator[Timer]:
    t = Timer()
    start = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
