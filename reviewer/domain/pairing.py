"""Pairwise batches: draw pairs of sessions that share a task key, one per compared value.

A *candidate* is a session with its task key (``metadata.task_id``, the opening request…)
and its side: ``A`` or ``B``, the two values of the compared field (``version=1.0,2.0``).
Every key with at least one candidate on each side can give a pair. :func:`draw_pairs`
takes up to n of those K keys at seeded random (each with probability π = n/K, stored for
weighting back), then, per key, one candidate of each side at random, and puts A on the
left or on the right at random (a fair coin per item, recorded): reviewers cannot learn
that the left one is the old version. Everything comes from one ``random.Random(seed)``,
so the same candidates and seed always give the same pairs, sides and order.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from reviewer.domain.sampling import SamplingError

Side = Literal["A", "B"]


@dataclass(frozen=True)
class PairCandidate:
    id: int
    key: str
    side: Side


@dataclass(frozen=True)
class DrawnPair:
    key: str
    a: int
    """The session with the first compared value."""
    b: int
    left: Side
    """Which of the two is shown on the left."""
    probability: float

    @property
    def left_id(self) -> int:
        return self.a if self.left == "A" else self.b

    @property
    def right_id(self) -> int:
        return self.b if self.left == "A" else self.a


def pairable(candidates: Sequence[PairCandidate]) -> dict[str, tuple[list[int], list[int]]]:
    """Per key with candidates on both sides: the A ids and the B ids, each sorted."""
    sides: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for c in candidates:
        sides[c.key][0 if c.side == "A" else 1].append(c.id)
    return {k: (sorted(a), sorted(b)) for k, (a, b) in sorted(sides.items()) if a and b}


def draw_pairs(candidates: Sequence[PairCandidate], n: int, *, seed: int) -> list[DrawnPair]:
    """Up to ``n`` pairs, in a seeded random order (the review order)."""
    if n < 1:
        raise SamplingError("the number of pairs must be at least 1")
    keys = pairable(candidates)
    if not keys:
        return []
    rng = random.Random(seed)
    chosen = rng.sample(sorted(keys), min(n, len(keys)))
    p = len(chosen) / len(keys)
    out = []
    for key in chosen:
        a_ids, b_ids = keys[key]
        a, b = rng.choice(a_ids), rng.choice(b_ids)
        left: Side = "A" if rng.random() < 0.5 else "B"
        out.append(DrawnPair(key, a, b, left, p))
    return out
