"""Sampling, allocation, planning and assignment: the numbers leads report come from here."""

from __future__ import annotations

import random
from collections import Counter
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.domain.sampling import (
    SamplingError,
    Unit,
    _pps_probabilities,
    allocate,
    assign,
    draw,
    overlap_count,
    sample_size,
)

POP = [
    Unit(i, ("a", "b", "c")[i % 3] if i % 5 else "c", {"negative_feedback": float(i % 7 == 0)})
    for i in range(1, 301)
]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(1, 120),
    stratified=st.booleans(),
    allocation=st.sampled_from(["proportional", "equal"]),
    priority=st.booleans(),
    shuffle_seed=st.integers(0, 1000),
)
def test_same_inputs_and_seed_give_the_same_sample_in_the_same_order(
    seed: int, n: int, stratified: bool, allocation: str, priority: bool, shuffle_seed: int
) -> None:
    shuffled = list(POP)
    random.Random(shuffle_seed).shuffle(shuffled)  # the input order never matters
    weights = {"negative_feedback": 3.0} if priority else None
    first = draw(POP, n, seed=seed, stratified=stratified, allocation=allocation, priority=weights)
    again = draw(
        shuffled, n, seed=seed, stratified=stratified, allocation=allocation, priority=weights
    )
    assert first == again
    assert len(first) == n and len({d.id for d in first}) == n
    assert all(0 < d.probability <= 1 for d in first)


def test_another_seed_gives_another_sample() -> None:
    assert {d.id for d in draw(POP, 30, seed=1)} != {d.id for d in draw(POP, 30, seed=2)}


def test_proportional_and_equal_allocation_counts() -> None:
    sizes = {"a": 500, "b": 300, "c": 200}
    assert allocate(sizes, 100, "proportional") == {"a": 50, "b": 30, "c": 20}
    assert allocate(sizes, 10, "proportional") == {"a": 5, "b": 3, "c": 2}
    assert allocate({"a": 2, "b": 1}, 2, "proportional") == {"a": 1, "b": 1}  # remainders
    assert allocate({"a": 1, "b": 1, "c": 1}, 2, "proportional") == {"a": 1, "b": 1, "c": 0}
    assert allocate(sizes, 90, "equal") == {"a": 30, "b": 30, "c": 30}
    assert allocate({"a": 100, "b": 5, "c": 100}, 60, "equal") == {"a": 28, "b": 5, "c": 27}
    assert allocate(sizes, 5000, "equal") == sizes, "never more than a stratum holds"


@pytest.mark.parametrize("allocation", ["proportional", "equal"])
def test_drawn_strata_counts_follow_the_allocation(allocation: str) -> None:
    drawn = draw(POP, 60, seed=3, stratified=True, allocation=allocation)
    sizes = Counter(u.stratum for u in POP)
    assert Counter(d.stratum for d in drawn) == allocate(dict(sizes), 60, allocation)
    if allocation == "equal":
        assert set(Counter(d.stratum for d in drawn).values()) == {20}


@pytest.mark.parametrize("allocation", ["proportional", "equal"])
@pytest.mark.parametrize("n", [1, 17, 60, 299])
def test_stratified_inclusion_probabilities_weight_back_to_the_population_exactly(
    allocation: str, n: int
) -> None:
    drawn = draw(POP, n, seed=n, stratified=True, allocation=allocation)
    pop = Counter(u.stratum for u in POP)
    for stratum in {d.stratum for d in drawn}:
        mine = [d for d in drawn if d.stratum == stratum]
        assert sum(1 / d.probability for d in mine) == pytest.approx(pop[stratum])
    simple = draw(POP, n, seed=n)
    assert sum(1 / d.probability for d in simple) == pytest.approx(len(POP))


@settings(max_examples=100, deadline=None)
@given(
    weights=st.lists(st.floats(0.01, 50), min_size=1, max_size=60),
    share=st.floats(0.01, 1.0),
)
def test_pps_probabilities_sum_to_n_and_stay_within_0_and_1(
    weights: list[float], share: float
) -> None:
    n = max(1, round(share * len(weights)))
    probs = _pps_probabilities(weights, n)
    assert sum(probs) == pytest.approx(n)
    assert all(0 < p <= 1 for p in probs)
    # larger sizes never get smaller chances
    for (wa, pa), (wb, pb) in combinations(zip(weights, probs, strict=True), 2):
        if wa > wb:
            assert pa >= pb - 1e-12


def test_priority_sampling_over_samples_and_keeps_probabilities_honest() -> None:
    flagged = {u.id for u in POP if u.signals["negative_feedback"]}
    share = len(flagged) / len(POP)
    hits = 0
    estimates = []
    for seed in range(200):
        drawn = draw(POP, 50, seed=seed, priority={"negative_feedback": 4.0})
        hits += sum(d.id in flagged for d in drawn)
        estimates.append(sum(1 / d.probability for d in drawn if d.id in flagged))
    assert hits / (200 * 50) > 2 * share
    # Horvitz–Thompson: Σ 1/π over the flagged units drawn estimates how many there are.
    # Every flagged unit has the same π here, and exactly n·π of them... on average.
    assert sum(estimates) / len(estimates) == pytest.approx(len(flagged), rel=0.05)
    sample = draw(POP, 50, seed=0, priority={"negative_feedback": 4.0})
    expected = 5 * 50 / (len(POP) + 4 * len(flagged))
    assert {round(d.probability, 12) for d in sample if d.id in flagged} == {round(expected, 12)}


def test_priority_within_strata_takes_each_stratum_its_allocation() -> None:
    drawn = draw(POP, 45, seed=4, stratified=True, priority={"negative_feedback": 9.0})
    assert Counter(d.stratum for d in drawn) == allocate(
        dict(Counter(u.stratum for u in POP)), 45, "proportional"
    )


def test_heavy_priority_takes_units_with_certainty() -> None:
    units = [Unit(i, "", {"escalated": float(i < 3)}) for i in range(100)]
    drawn = draw(units, 10, seed=0, priority={"escalated": 1000.0})
    certain = [d for d in drawn if d.probability == 1.0]
    assert sorted(d.id for d in certain) == [0, 1, 2]
    others = [d for d in drawn if d.probability < 1.0]
    assert len(others) == 7 and all(d.probability == pytest.approx(7 / 97) for d in others)


def test_sampling_refuses_what_it_cannot_do() -> None:
    with pytest.raises(SamplingError, match="at least 1"):
        draw(POP, 0, seed=0)
    with pytest.raises(SamplingError, match="unknown allocation"):
        draw(POP, 5, seed=0, stratified=True, allocation="neyman")
    with pytest.raises(SamplingError, match="priority weights"):
        draw(POP, 5, seed=0, priority={"negative_feedback": -1.0})
    assert len(draw(POP, 10_000, seed=0)) == len(POP), "a size over N takes everyone"


def test_planner_matches_hand_computed_sizes() -> None:
    # n0 = 1.959964² · 0.25 / 0.05² = 384.146 → 385 (N so large the correction vanishes)
    assert sample_size(10**9, margin=0.05, confidence=0.95) == 385
    # N = 1000: n = 384.146 / (1 + 383.146/1000) = 277.7 → 278
    assert sample_size(1000, margin=0.05, confidence=0.95) == 278
    # N = 500: 384.146 / (1 + 383.146/500) = 217.5 → 218
    assert sample_size(500, margin=0.05, confidence=0.95) == 218
    # 99 %, ±3 %: 2.575829² · 0.25 / 0.03² = 1843.0 → 1844
    assert sample_size(10**9, margin=0.03, confidence=0.99) == 1844
    # 90 %, ±10 %: 1.644854² · 0.25 / 0.01 = 67.64 → 68; known p = 0.1: 24.35 → 25
    assert sample_size(10**9, margin=0.10, confidence=0.90) == 68
    assert sample_size(10**9, margin=0.10, confidence=0.90, proportion=0.1) == 25
    assert sample_size(50, margin=0.05, confidence=0.95) == 45
    assert sample_size(1, margin=0.05, confidence=0.95) == 1
    assert sample_size(0, margin=0.05, confidence=0.95) == 0
    with pytest.raises(SamplingError, match="margin"):
        sample_size(100, margin=0, confidence=0.95)
    with pytest.raises(SamplingError, match="confidence"):
        sample_size(100, margin=0.05, confidence=95)


@pytest.mark.parametrize("overlap", [0.0, 0.1, 0.25, 0.5, 1.0])
def test_exact_overlap_balanced_load_and_never_twice_to_one_reviewer(overlap: float) -> None:
    ids = list(range(200))
    placed = assign(ids, ["ann", "ben", "cy"], overlap=overlap, seed=5, gold=[900, 901])
    regular = [a for a in placed if not a.is_gold]
    assert [a.id for a in regular] == ids, "the drawn order is kept"
    assert sum(len(a.reviewers) == 2 for a in regular) == round(overlap * 200)
    assert all(len(set(a.reviewers)) == len(a.reviewers) for a in placed)
    load = Counter(r for a in regular for r in a.reviewers)
    assert max(load.values()) - min(load.values()) <= 1
    gold = [a for a in placed if a.is_gold]
    assert sorted(a.id for a in gold) == [900, 901]
    assert all(a.reviewers == ("ann", "ben", "cy") for a in gold)
    assert [a.position for a in placed] == list(range(202))


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(0, 150),
    reviewers=st.integers(2, 7),
    overlap=st.floats(0, 1),
    gold=st.integers(0, 5),
    seed=st.integers(0, 10_000),
)
def test_assignment_properties_hold_for_any_batch(
    n: int, reviewers: int, overlap: float, gold: int, seed: int
) -> None:
    names = [f"r{i}" for i in range(reviewers)]
    placed = assign(
        list(range(n)), names, overlap=overlap, seed=seed, gold=range(1000, 1000 + gold)
    )
    assert placed == assign(
        list(range(n)), names, overlap=overlap, seed=seed, gold=range(1000, 1000 + gold)
    )
    regular = [a for a in placed if not a.is_gold]
    doubled = [a for a in regular if len(a.reviewers) == 2]
    assert len(doubled) == overlap_count(n, overlap)
    assert all(1 <= len(a.reviewers) <= 2 for a in regular)
    assert all(len(set(a.reviewers)) == len(a.reviewers) for a in placed)
    load = Counter(r for a in regular for r in a.reviewers)
    if n:
        assert max(load[r] for r in names) - min(load[r] for r in names) <= 1
    pairs = Counter(a.reviewers for a in doubled)
    shares = [pairs[p] for p in combinations(sorted(names), 2)]
    if doubled:  # every pair of reviewers shares items, as many as any other pair (±1)
        assert max(shares) - min(shares) <= 1
    assert sum(a.is_gold for a in placed) == gold


def test_overlap_is_rounded_half_up_and_needs_two_reviewers() -> None:
    assert overlap_count(5, 0.5) == 3
    assert overlap_count(150, 0.2) == 30
    assert overlap_count(3, 1.0) == 3
    with pytest.raises(SamplingError, match="two reviewers"):
        assign([1, 2, 3], ["solo"], overlap=0.5, seed=0)
    alone = assign([1, 2], [], overlap=0.0, seed=0, gold=[9])
    assert [(a.id, a.reviewers, a.is_gold) for a in alone] == [
        (1, (), False),
        (2, (), False),
        (9, (), True),
    ]
