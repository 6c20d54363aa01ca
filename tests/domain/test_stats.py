"""The statistics against published worked examples, and against statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.proportion import proportion_confint

from reviewer.domain import stats

# Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison of
# seven methods. Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score, no
# continuity correction).
NEWCOMBE_1998 = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("x", "n", "low", "high"), NEWCOMBE_1998)
def test_wilson_interval_matches_newcombe_1998(x: int, n: int, low: float, high: float) -> None:
    got = stats.wilson(x, n)
    assert got is not None
    assert got[0] == pytest.approx(low, abs=5e-5)
    assert got[1] == pytest.approx(high, abs=5e-5)


def test_wilson_interval_equals_statsmodels_also_for_weighted_counts() -> None:
    x = np.array([0, 1, 2.5, 7, 30, 99.5, 100, 0.3])
    n = np.array([5, 5, 10.3, 7, 400, 100, 100, 1.7])
    low, high = stats.wilson_intervals(x, n)
    ref_low, ref_high = proportion_confint(x, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(low, ref_low, atol=1e-12)
    np.testing.assert_allclose(high, ref_high, atol=1e-12)


def test_wilson_interval_without_observations_is_none() -> None:
    assert stats.wilson(0, 0) is None


# SAS/STAT User's Guide, The FREQ Procedure, "Getting Started: Agreement Study" (two
# dermatologists rate 88 patients' skin condition: terrible, poor, marginal, clear):
# simple kappa 0.3449, ASE 0.0724, 95 % confidence limits 0.2030 and 0.4868.
SAS_SKIN_CONDITION = [[10, 4, 1, 0], [5, 10, 12, 2], [2, 4, 12, 5], [0, 2, 6, 13]]


def test_kappa_matches_the_sas_agreement_study() -> None:
    k = stats.cohen_kappa(SAS_SKIN_CONDITION)
    assert k is not None
    assert k.kappa == pytest.approx(0.3449, abs=5e-5)
    assert k.low == pytest.approx(0.2030, abs=5e-5)
    assert k.high == pytest.approx(0.4868, abs=5e-5)
    assert k.n == 88
    _kappa, se, _low, _high = stats.cohen_kappas(np.array([SAS_SKIN_CONDITION]))
    assert se[0] == pytest.approx(0.0724, abs=5e-5)


def test_kappa_of_the_textbook_two_by_two_table() -> None:
    # The worked example of the "Cohen's kappa" article (Wikipedia): 50 applications read
    # by two readers, both yes 20, both no 15, yes/no 5, no/yes 10: p_o 0.7, p_e 0.5.
    k = stats.cohen_kappa([[20, 5], [10, 15]])
    assert k is not None
    assert k.kappa == pytest.approx(0.4)


def test_vectorised_kappa_equals_statsmodels_on_many_tables() -> None:
    rng = np.random.default_rng(4)
    tables = rng.integers(0, 30, size=(40, 4, 4)).astype(float)
    tables[:, np.arange(4), np.arange(4)] += 20  # some agreement, as raters have
    kappa, se, low, high = stats.cohen_kappas(tables)
    for t, kv, sv, lv, hv in zip(tables, kappa, se, low, high, strict=True):
        ref = cohens_kappa(t)
        assert kv == pytest.approx(ref.kappa, abs=1e-12)
        assert sv == pytest.approx(ref.std_kappa, abs=1e-12)
        assert lv == pytest.approx(max(-1.0, ref.kappa_low), abs=1e-12)
        assert hv == pytest.approx(min(1.0, ref.kappa_upp), abs=1e-12)


def test_kappa_is_undefined_when_both_raters_use_one_category() -> None:
    assert stats.cohen_kappa([[12, 0], [0, 0]]) is None
    assert stats.cohen_kappa([[0, 0], [0, 0]]) is None


# Krippendorff K (2011). Computing Krippendorff's Alpha-Reliability, section C (the
# reliability data of four observers coding twelve units, missing values included):
# alpha nominal 0.743, ordinal 0.815 (interval 0.849).
NAN = math.nan
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)


def test_alpha_matches_krippendorffs_own_example() -> None:
    nominal = stats.krippendorff_alpha(KRIPPENDORFF_2011, "nominal")
    ordinal = stats.krippendorff_alpha(KRIPPENDORFF_2011, "ordinal")
    assert nominal == pytest.approx(0.743, abs=5e-4)
    assert ordinal == pytest.approx(0.815, abs=5e-4)


def test_alpha_is_undefined_without_variation_or_pairs() -> None:
    assert stats.krippendorff_alpha(np.array([[1.0, 1.0], [1.0, 1.0]]), "nominal") is None
    assert stats.krippendorff_alpha(np.array([[1.0, NAN], [NAN, 2.0]]), "nominal") is None


def test_weighted_proportion_by_hand() -> None:
    # Two units drawn with probability 1 (weight 1) and two with probability 1/3 (weight 3):
    # p = (1·1 + 1·0 + 3·0 + 3·1) / 8 = 0.5; Kish n_eff = 8² / (1 + 1 + 9 + 9) = 3.2.
    e = stats.weighted_proportion(np.array([1.0, 0.0, 0.0, 1.0]), np.array([1.0, 1.0, 3.0, 3.0]))
    assert e is not None
    assert e.value == pytest.approx(0.5)
    assert e.n == 4
    assert e.n_effective == pytest.approx(3.2)
    assert (e.low, e.high) == pytest.approx(stats.wilson(1.6, 3.2))
    unweighted = stats.weighted_proportion(np.array([1.0, 0.0, 0.0, 1.0]))
    assert unweighted is not None and unweighted.n_effective == pytest.approx(4)
    assert (unweighted.low, unweighted.high) == pytest.approx(stats.wilson(2, 4))


def test_weighted_mean_by_hand() -> None:
    # 1, 2, 3, 4 with equal weights: mean 2.5, variance 5/3, standard error sqrt(5/12).
    e = stats.weighted_mean(np.array([1.0, 2.0, 3.0, 4.0]))
    assert e is not None
    half = stats.Z95 * math.sqrt(5 / 12)
    assert (e.value, e.low, e.high) == pytest.approx((2.5, 2.5 - half, 2.5 + half))
    # weights shift the mean: (1·1 + 3·4) / 4 = 3.25
    w = stats.weighted_mean(np.array([1.0, 4.0]), np.array([1.0, 3.0]))
    assert w is not None and w.value == pytest.approx(3.25)
    assert stats.weighted_mean(np.array([NAN])) is None


def test_auc_and_rank_correlation() -> None:
    # Four scores, two positives: 3 of the 4 positive–negative pairs are ordered right.
    assert stats.auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1], bool)) == 0.75
    assert stats.auc(np.array([0.5, 0.5]), np.array([True, False])) == 0.5
    assert stats.auc(np.array([0.5]), np.array([True])) is None
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([1.0, 4.0, 9.0, 16.0, 30.0])
    assert stats.correlation(x, y, method="spearman") == pytest.approx(1.0)
    assert stats.correlation(x, y, method="pearson") < 1.0
    assert stats.correlation(x, np.ones(5), method="pearson") is None


def test_worse_beyond_intervals_needs_separated_intervals() -> None:
    base = stats.Estimate(value=0.10, low=0.08, high=0.12, n=500, n_effective=500)
    overlapping = stats.Estimate(value=0.14, low=0.11, high=0.17, n=500, n_effective=500)
    apart = stats.Estimate(value=0.20, low=0.17, high=0.23, n=500, n_effective=500)
    assert not stats.worse_beyond_intervals(overlapping, base, higher_is_worse=True)
    assert stats.worse_beyond_intervals(apart, base, higher_is_worse=True)
    assert not stats.worse_beyond_intervals(apart, base, higher_is_worse=False)
