"""Simulated preferences for a pairwise batch (the demo's), marked ``simulated``.

A simulated reviewer prefers the session without a planted failure (the generator records
it in ``metadata.planted_failure``); when both have one, both are bad; when neither has,
it is a tie three times in ten, else the B side wins six times in ten — a modest, known
advantage the win-rate figures should find.
"""

from __future__ import annotations

import random

from reviewer.domain.preference import Preference, Winner
from reviewer.services.preferences import save_preference
from reviewer.store.batches import assignments, batch_id
from reviewer.store.sessions import load_session
from reviewer.store.workspace import Workspace

LEFT_UNDONE = 2
"""Pairs each simulated reviewer leaves to do (the last of their queue)."""


def simulate_pairs(ws: Workspace, batch: str, *, seed: int) -> int:
    """Submit simulated preferences for most of ``batch``; return how many were made."""
    rng = random.Random(seed)
    with ws.read() as s:
        rows = [
            (a.reviewer, a.position, a.pair_left, a.session_id, a.pair_session_id)
            for a in assignments(s, batch_id(s, batch))
        ]
        failed = {}
        for *_, left, right in rows:
            for sid in (left, right):
                if sid is not None and sid not in failed:
                    failed[sid] = bool(load_session(s, sid).metadata.get("planted_failure"))
    queues: dict[str, list[tuple[int, str, bool, bool]]] = {}
    for reviewer, position, left_is, left, right in rows:
        assert right is not None
        queues.setdefault(reviewer, []).append(
            (position, left_is or "A", failed[left], failed[right])
        )
    made = 0
    for reviewer, queue in sorted(queues.items()):
        for position, left_is, left_bad, right_bad in queue[: max(0, len(queue) - LEFT_UNDONE)]:
            if left_bad and right_bad:
                winner = Winner.BOTH_BAD
            elif left_bad or right_bad:
                winner = Winner.RIGHT if left_bad else Winner.LEFT
            elif rng.random() < 0.3:
                winner = Winner.TIE
            else:
                b_wins = rng.random() < 0.6
                winner = Winner.LEFT if (left_is == "B") == b_wins else Winner.RIGHT
            pref = Preference(
                batch=batch,
                position=position,
                reviewer=reviewer,
                winner=winner,
                active_seconds=round(rng.uniform(25, 140), 1),
                simulated=True,
            )
            save_preference(ws, pref, submit=True)
            made += 1
    return made
