"""Drawing review samples: reproducible, explainable, with known inclusion probabilities.

Designs (N units in the population, n drawn; per stratum h: N_h and n_h):

- **Simple random**: n of N without replacement; every unit has π = n/N.
- **Stratified**: the sample is split over strata, then simple random within each, so
  π = n_h/N_h. *Proportional* allocation gives n_h = n·N_h/N rounded by largest remainder
  (ties to the stratum name); *equal* allocation gives n/H to each of the H strata, capped at
  N_h, what a small stratum cannot take handed on to the others.
- **Priority**: each unit gets a size w_i = 1 + Σ_k weight_k · signal_k(i) (signals are 0…1:
  negative feedback, escalation, a low judge score…), and is drawn with π_i = n·w_i/Σw by
  systematic PPS over a seeded random order; units whose π would exceed 1 are taken with
  certainty (π = 1) and the rest rescaled. Within strata the same happens per stratum.

In every design Σ π_i over the population equals n, so weighting each reviewed item by 1/π
(Horvitz–Thompson) estimates population totals and rates without bias; for the stratified
and simple designs Σ 1/π over the sample equals N exactly.

The planner (:func:`sample_size`) gives the n needed to estimate a proportion (a failure
rate) within ±e at a confidence level: n0 = z²·p(1−p)/e², z the normal quantile of
(1 + confidence)/2, p = 0.5 unless known (the worst case), then the finite population
correction n = n0 / (1 + (n0 − 1)/N), rounded up. ±5 % at 95 %: n0 = 384.1 → 385.

Assignment (:func:`assign`) is described there. Everything is a pure function of its inputs
and the seed (``random.Random``): same inputs and seed, same sample, same order.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist


@dataclass(frozen=True)
class Unit:
    """One session of the population."""

    id: int
    stratum: str = ""
    signals: dict[str, float] = field(default_factory=dict)
    """Priority signals, each 0…1 (negative feedback, escalated, low judge score…)."""


@dataclass(frozen=True)
class Drawn:
    id: int
    stratum: str
    probability: float


class SamplingError(ValueError):
    """The sample cannot be drawn as asked; the message says why."""


def allocate(sizes: dict[str, int], n: int, allocation: str) -> dict[str, int]:
    """How many units each stratum gets (never more than it holds)."""
    total = sum(sizes.values())
    n = min(n, total)
    strata = sorted(sizes)
    if allocation == "proportional":
        exact = {h: n * sizes[h] / total for h in strata}
        out = {h: math.floor(exact[h]) for h in strata}
        left = n - sum(out.values())
        # Largest remainder; ties broken by stratum name for determinism.
        for h in sorted(strata, key=lambda h: (-(exact[h] - out[h]), h))[:left]:
            out[h] += 1
        return out
    if allocation == "equal":
        out = dict.fromkeys(strata, 0)
        left = n
        open_strata = [h for h in strata if sizes[h] > 0]
        while left > 0 and open_strata:
            share, extra = divmod(left, len(open_strata))
            for i, h in enumerate(open_strata):
                give = min(share + (1 if i < extra else 0), sizes[h] - out[h])
                out[h] += give
                left -= give
            open_strata = [h for h in open_strata if out[h] < sizes[h]]
        return out
    raise SamplingError(f"unknown allocation {allocation!r} (proportional or equal)")


def _pps_probabilities(weights: list[float], n: int) -> list[float]:
    """π_i = n·w_i/Σw with units over 1 taken with certainty and the rest rescaled."""
    probs = [0.0] * len(weights)
    certain: set[int] = set()
    while True:
        rest = [i for i in range(len(weights)) if i not in certain]
        k = n - len(certain)
        total = sum(weights[i] for i in rest)
        if k <= 0 or total <= 0:
            break
        over = [i for i in rest if k * weights[i] / total >= 1]
        if not over:
            for i in rest:
                probs[i] = k * weights[i] / total
            break
        certain.update(over)
    for i in certain:
        probs[i] = 1.0
    return probs


def _draw_pps(
    units: list[Unit], n: int, weights: dict[str, float], rng: random.Random
) -> list[Drawn]:
    order = list(units)
    rng.shuffle(order)
    w = [1.0 + sum(weights.get(k, 0.0) * u.signals.get(k, 0.0) for k in weights) for u in order]
    probs = _pps_probabilities(w, n)
    out = [Drawn(u.id, u.stratum, 1.0) for u, p in zip(order, probs, strict=True) if p >= 1.0]
    start = rng.random()
    cum = 0.0
    point = start
    for u, p in zip(order, probs, strict=True):
        if p >= 1.0:
            continue
        cum += p
        while point < cum - 1e-12:
            out.append(Drawn(u.id, u.stratum, p))
            point += 1.0
    return out


def draw(
    units: Sequence[Unit],
    n: int,
    *,
    seed: int,
    stratified: bool = False,
    allocation: str = "proportional",
    priority: dict[str, float] | None = None,
) -> list[Drawn]:
    """The sample, in a seeded random order (the review order)."""
    if n < 1:
        raise SamplingError("the sample size must be at least 1")
    if priority and any(not w >= 0 for w in priority.values()):
        raise SamplingError("priority weights must be zero or more")
    ordered = sorted(units, key=lambda u: u.id)  # the input order never matters
    groups: dict[str, list[Unit]] = defaultdict(list)
    for u in ordered:
        groups[u.stratum if stratified else ""].append(u)
    sizes = {h: len(g) for h, g in groups.items()}
    if not priority:  # the units at the positions drawn from the sizes alone
        picks = draw_positions(sizes, n, seed=seed, stratified=stratified, allocation=allocation)
        return [Drawn(groups[h][i].id, groups[h][i].stratum, p) for h, i, p in picks]
    rng = random.Random(seed)
    plan = allocate(sizes, n, allocation) if stratified else {"": min(n, len(ordered))}
    drawn: list[Drawn] = []
    for h in sorted(groups):
        k = plan.get(h, 0)
        if k > 0:
            drawn.extend(_draw_pps(groups[h], k, priority, rng))
    rng.shuffle(drawn)
    return drawn


def draw_positions(
    sizes: dict[str, int],
    n: int,
    *,
    seed: int,
    stratified: bool = False,
    allocation: str = "proportional",
) -> list[tuple[str, int, float]]:
    """:func:`draw` without priority, from the stratum sizes alone: (stratum, position in
    the stratum's id order, π) of each drawn unit, in the same seeded review order.

    ``random.sample`` only uses the length of what it draws from, so drawing positions of
    ``range(N_h)`` consumes the generator as drawing the units themselves does: for the
    same sizes and seed, the unit at each position is the unit :func:`draw` would give,
    and the database can look up just those. Unstratified, ``sizes`` holds one stratum.
    """
    if n < 1:
        raise SamplingError("the sample size must be at least 1")
    sizes = {h: size for h, size in sizes.items() if size > 0}
    if not stratified and len(sizes) > 1:
        raise SamplingError("an unstratified draw has one stratum")
    rng = random.Random(seed)
    if stratified:
        plan = allocate(sizes, n, allocation)
    else:
        plan = {h: min(n, size) for h, size in sizes.items()}
    drawn: list[tuple[str, int, float]] = []
    for h in sorted(sizes):
        k = plan.get(h, 0)
        if k <= 0:
            continue
        p = k / sizes[h]
        drawn.extend((h, i, p) for i in rng.sample(range(sizes[h]), k))
    rng.shuffle(drawn)
    return drawn


def z_value(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise SamplingError("confidence must be between 0 and 1, e.g. 0.95")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def sample_size(
    population: int, *, margin: float, confidence: float, proportion: float = 0.5
) -> int:
    """Sessions needed to estimate a proportion within ±``margin`` at ``confidence``.

    n0 = z²·p(1−p)/e², then the finite-population correction n = n0 / (1 + (n0 − 1)/N),
    rounded up (and never more than N). p = 0.5 is the worst case.
    """
    if not 0 < margin < 1:
        raise SamplingError("margin must be between 0 and 1, e.g. 0.05")
    if not 0 < proportion < 1:
        raise SamplingError("the expected proportion must be between 0 and 1, e.g. 0.5")
    z = z_value(confidence)
    n0 = z * z * proportion * (1 - proportion) / (margin * margin)
    if population <= 0:
        return 0
    n = n0 / (1 + (n0 - 1) / population)
    return min(population, math.ceil(n - 1e-9))


@dataclass(frozen=True)
class Assigned:
    position: int
    id: int
    reviewers: tuple[str, ...]
    is_gold: bool = False


def overlap_count(n: int, overlap: float) -> int:
    """How many of ``n`` items go to two reviewers: overlap · n rounded half up."""
    if not 0 <= overlap <= 1:
        raise SamplingError("overlap must be between 0 and 1, e.g. 0.2")
    return min(n, math.floor(overlap * n + 0.5))


def _rounds(names: list[str]) -> list[list[tuple[str, str]]]:
    """Round-robin rounds (circle method): every pair once, nobody twice in a round."""
    seats: list[str | None] = [*names, None] if len(names) % 2 else list(names)
    m = len(seats)
    out = []
    for _ in range(m - 1):
        pairs = [(seats[i], seats[m - 1 - i]) for i in range(m // 2)]
        out.append([(a, b) for a, b in pairs if a is not None and b is not None])
        seats = [seats[0], seats[-1], *seats[1:-1]]
    return out


def assign(
    ids: Sequence[int],
    reviewers: Sequence[str],
    *,
    overlap: float,
    seed: int,
    gold: Sequence[int] = (),
) -> list[Assigned]:
    """Spread items over reviewers, in the order given, with balanced load.

    Exactly :func:`overlap_count` items, chosen at seeded random, go to two different
    reviewers; every other item to one. The shared items go to the pairs of a round-robin
    schedule (in a seeded order), round after round, so every pair of reviewers shares
    items (each pair as many as any other, ±1) for the agreement figures; within a round
    the least-loaded pair goes first. Then each other item goes to the reviewer with the
    least load so far. Loads end up differing by at most one. Every gold item goes to
    every reviewer, at a seeded random position, looking like any other item.
    """
    names = list(dict.fromkeys(r for r in reviewers if r))
    if not names:
        return [Assigned(i, sid, (), i >= len(ids)) for i, sid in enumerate([*ids, *gold])]
    k = overlap_count(len(ids), overlap)
    if k and len(names) < 2:
        raise SamplingError("overlap needs at least two reviewers")
    rng = random.Random(seed + 1)
    doubled = sorted(rng.sample(range(len(ids)), k))
    order = rng.sample(names, len(names))
    rank = {r: i for i, r in enumerate(order)}
    schedule = _rounds(order) if k else []
    load = dict.fromkeys(names, 0)
    who: dict[int, tuple[str, ...]] = {}
    current: list[tuple[str, str]] = []
    played = 0
    for i in doubled:
        if not current:
            current = list(schedule[played % len(schedule)])
            played += 1
        pair = min(current, key=lambda p: (load[p[0]] + load[p[1]], current.index(p)))
        current.remove(pair)
        who[i] = pair
        for r in pair:
            load[r] += 1
    turns = len(names)
    for i in range(len(ids)):
        if i not in who:
            chosen = min(names, key=lambda r: (load[r], (rank[r] - i) % turns))
            who[i] = (chosen,)
            load[chosen] += 1
    out = [(sid, tuple(sorted(who[i])), False) for i, sid in enumerate(ids)]
    everyone = tuple(sorted(names))
    for sid in gold:
        out.insert(rng.randint(0, len(out)), (sid, everyone, True))
    return [Assigned(pos, sid, people, g) for pos, (sid, people, g) in enumerate(out)]
