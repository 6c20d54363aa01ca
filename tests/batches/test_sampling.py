"""Sampling, allocation, planning and assignment: the numbers leads report come from here."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.domain.sampling import Unit, allocate, assign, draw, sample_size

POP = [
    Unit(i, ("a", "b", "c")[i % 3] if i % 5 else "c", {"negative_feedback": float(i % 7 == 0)})
    for i in range(1, 301)
]


@settings(max_examples=40, deadline=None)
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
    import random

    shuffled = list(POP)
    random.Random(shuffle_seed).shuffle(shuffled)  # the input order never matters
    kw = {
        "seed": seed,
        "stratified": stratified,
        "allocation": allocation,
        "priority": {"negative_feedback": 3.0} if priority else None,
    }
    first = draw(POP, n, **kw)  # type: ignore[arg-type]
    again = draw(shuffled, n, **kw)  # type: ignore[arg-type]
    assert first == again
    assert len(first) == n and len({d.id for d in first}) == n


def test_proportional_and_equal_allocation_counts() -> None:
    sizes = {"a": 500, "b": 300, "c": 200}
    assert allocate(sizes, 100, "proportional") == {"a": 50, "b": 30, "c": 20}
    assert allocate(sizes, 10, "proportional") == {"a": 5, "b": 3, "c": 2}
    assert allocate({"a": 2, "b": 1}, 2, "proportional") == {"a": 1, "b": 1}  # remainders
    assert allocate(sizes, 90, "equal") == {"a": 30, "b": 30, "c": 30}
    assert allocate({"a": 100, "b": 5, "c": 100}, 60, "equal") == {"a": 28, "b": 5, "c": 27}


def test_stratified_inclusion_probabilities_weight_back_to_each_stratum() -> None:
    drawn = draw(POP, 60, seed=1, stratified=True)
    pop = Counter(u.stratum for u in POP)
    for stratum, size in pop.items():
        mine = [d for d in drawn if d.stratum == stratum]
        assert sum(1 / d.probability for d in mine) == pytest.approx(size)


def test_priority_sampling_over_samples_and_keeps_probabilities_honest() -> None:
    flagged = {u.id for u in POP if u.signals["negative_feedback"]}
    share = len(flagged) / len(POP)
    hits = 0
    for seed in range(40):
        drawn = draw(POP, 50, seed=seed, priority={"negative_feedback": 4.0})
        hits += sum(d.id in flagged for d in drawn)
        # π sums to n over the population, so Σ 1/π over the sample estimates N on average.
        assert all(0 < d.probability <= 1 for d in drawn)
    assert hits / (40 * 50) > 2 * share
    sample = draw(POP, 50, seed=0, priority={"negative_feedback": 4.0})
    probs_flagged = {d.probability for d in sample if d.id in flagged}
    assert probs_flagged and all(
        p == pytest.approx(5 * 50 / (len(POP) + 4 * len(flagged))) for p in probs_flagged
    )


def test_planner_matches_hand_computed_sizes() -> None:
    # n0 = 1.959964² · 0.25 / 0.05² = 384.15 → 385 without correction (huge N)
    assert sample_size(10**9, margin=0.05, confidence=0.95) == 385
    # with N = 1000: 384.15 / (1 + 383.15/1000) = 277.7 → 278
    assert sample_size(1000, margin=0.05, confidence=0.95) == 278
    # 99%, ±3%: 2.5758² · 0.25 / 0.0009 = 1843.0 → 1844 (N huge)
    assert sample_size(10**9, margin=0.03, confidence=0.99) == 1844
    assert sample_size(50, margin=0.05, confidence=0.95) <= 50


@pytest.mark.parametrize("overlap", [0.0, 0.1, 0.25, 0.5, 1.0])
def test_exact_overlap_balanced_load_and_never_twice_to_one_reviewer(overlap: float) -> None:
    ids = list(range(200))
    placed = assign(ids, ["ann", "ben", "cy"], overlap=overlap, seed=5, gold=[900, 901])
    regular = [a for a in placed if not a.is_gold]
    assert sum(len(a.reviewers) == 2 for a in regular) == round(overlap * 200)
    assert all(len(set(a.reviewers)) == len(a.reviewers) for a in placed)
    load = Counter(r for a in regular for r in a.reviewers)
    assert max(load.values()) - min(load.values()) <= 1
    gold = [a for a in placed if a.is_gold]
    assert [a.id for a in sorted(gold, key=lambda a: a.id)] == [900, 901]
    assert all(a.reviewers == ("ann", "ben", "cy") for a in gold)
    assert [a.position for a in placed] == list(range(202))
