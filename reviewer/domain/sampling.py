"""Drawing review samples: reproducible, explainable, with known inclusion probabilities.

- Simple random: every unit has probability n/N.
- Stratified: the sample is split over strata (proportional: n_h ∝ N_h by largest remainder;
  equal: n/H each, capped at N_h, the rest handed on), simple random within each stratum:
  probability n_h/N_h.
- Priority: within the population (or each stratum), systematic PPS on a seeded shuffle with
  size measure w_i = 1 + Σ weight_k · signal_k(i); probability π_i = n·w_i/Σw, capped at 1 and
  recomputed for the rest (certainty units). Weighting results by 1/π_i estimates population
  figures without bias (Horvitz–Thompson).

Everything depends only on the inputs and the seed: same inputs and seed, same sample, same order.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

Z_CACHE: dict[float, float] = {}


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
    ordered = sorted(units, key=lambda u: u.id)  # the input order never matters
    rng = random.Random(seed)
    groups: dict[str, list[Unit]] = defaultdict(list)
    for u in ordered:
        groups[u.stratum if stratified else ""].append(u)
    sizes = {h: len(g) for h, g in groups.items()}
    plan = allocate(sizes, n, allocation) if stratified else {"": min(n, len(ordered))}
    drawn: list[Drawn] = []
    for h in sorted(groups):
        k = plan.get(h, 0)
        if k <= 0:
            continue
        group = groups[h]
        if priority:
            drawn.extend(_draw_pps(group, k, priority, rng))
        else:
            p = k / len(group)
            drawn.extend(Drawn(u.id, u.stratum, p) for u in rng.sample(group, k))
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


def assign(
    ids: Sequence[int],
    reviewers: Sequence[str],
    *,
    overlap: float,
    seed: int,
    gold: Sequence[int] = (),
) -> list[Assigned]:
    """Spread items over reviewers with balanced load.

    Exactly ``round(overlap · len(ids))`` items go to two different reviewers; every gold
    item goes to every reviewer, at seeded random positions, looking like any other item.
    """
    if not reviewers:
        return [Assigned(i, sid, ()) for i, sid in enumerate([*ids, *gold])]
    names = list(dict.fromkeys(reviewers))
    if overlap > 0 and len(names) < 2:
        raise SamplingError("overlap needs at least two reviewers")
    rng = random.Random(seed + 1)
    doubled = set(rng.sample(range(len(ids)), round(overlap * len(ids))))
    load = dict.fromkeys(names, 0)
    out: list[tuple[int, tuple[str, ...], bool]] = []
    for i, sid in enumerate(ids):
        want = 2 if i in doubled else 1
        chosen = sorted(names, key=lambda r: (load[r], names.index(r)))[:want]
        for r in chosen:
            load[r] += 1
        # Rotate the tie order so equal loads don't always favour the first names.
        names = names[1:] + names[:1]
        out.append((sid, tuple(sorted(chosen)), False))
    for sid in gold:
        at = rng.randint(0, len(out))
        out.insert(at, (sid, tuple(sorted(load)), True))
    return [Assigned(pos, sid, who, g) for pos, (sid, who, g) in enumerate(out)]
