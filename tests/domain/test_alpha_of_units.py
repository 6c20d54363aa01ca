"""Krippendorff's alpha from one rating per row is the figure of the coders × units matrix."""

from __future__ import annotations

import numpy as np
import pytest

from reviewer.domain import stats
from tests.domain.test_stats import KRIPPENDORFF_2011


def _long(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    coders, units = np.nonzero(np.ones_like(m, dtype=bool))
    return units.astype(np.intp), m[coders, units]


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
def test_the_worked_example_gives_the_same_alpha(level: stats.Level) -> None:
    assert stats.krippendorff_alpha_of_units(*_long(KRIPPENDORFF_2011), level) == (
        stats.krippendorff_alpha(KRIPPENDORFF_2011, level)
    )


@pytest.mark.parametrize("seed", range(20))
def test_random_reliability_data_gives_exactly_the_same_alpha(seed: int) -> None:
    rng = np.random.default_rng(seed)
    coders, units = int(rng.integers(2, 8)), int(rng.integers(1, 60))
    m = rng.integers(0, int(rng.integers(1, 6)), size=(coders, units)).astype(float)
    m[rng.random(m.shape) < rng.uniform(0, 0.8)] = np.nan
    for level in ("nominal", "ordinal"):
        assert stats.krippendorff_alpha_of_units(*_long(m), level) == (
            stats.krippendorff_alpha(m, level)
        ), (seed, level)
