"""Concurrent reviewers claiming and submitting, for the team tests and the benchmark."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import func, select

from reviewer.domain.review import Review, ReviewStatus
from reviewer.resources import default_rubric
from reviewer.services.claims import claim_next, submit
from reviewer.store.tables import AssignmentRow, BatchItemRow, ReviewRow
from reviewer.store.workspace import Workspace, open_workspace
from tests.packs.helpers import GOOD


@dataclass
class Outcome:
    claimed: list[tuple[str, int]] = field(default_factory=list)
    """(reviewer, batch item) for every claim handed out, over all workers."""
    claim_calls: int = 0


def run_workers(
    target: str,
    reviewers: Sequence[str],
    *,
    batch: str = "b1",
    per_claim: int = 5,
    pool_copies: int | None = None,
) -> Outcome:
    """One thread per entry of ``reviewers`` (a name twice: two app instances of one
    person), each with its own engine, claiming and submitting until nothing is left."""
    rubric = default_rubric()
    outcome = Outcome()
    lock = threading.Lock()
    start = threading.Barrier(len(reviewers))

    def work(reviewer: str) -> None:
        ws = open_workspace(target)
        try:
            start.wait()
            while True:
                claims = claim_next(ws, batch, reviewer, per_claim, pool_copies=pool_copies)
                with lock:
                    outcome.claim_calls += 1
                    outcome.claimed += [(reviewer, c.item_id) for c in claims]
                if not claims:
                    return
                for c in claims:
                    review = Review(
                        session_key=c.session_key,
                        session_revision=c.session_revision,
                        batch=batch,
                        reviewer=reviewer,
                        rubric_name=rubric.name,
                        rubric_version=rubric.version,
                        values=dict(GOOD),
                        status=ReviewStatus.SUBMITTED,
                    )
                    submit(ws, c, review, rubric)
        finally:
            ws.close()

    with ThreadPoolExecutor(max_workers=len(reviewers)) as pool:
        for f in [pool.submit(work, r) for r in reviewers]:
            f.result()
    return outcome


def reviews_per_item(ws: Workspace) -> tuple[Counter[int], Counter[int], int]:
    """Submitted reviews per batch item, assignments per item, and the largest number of
    reviews any one reviewer made of one item."""
    with ws.read() as s:
        reviews = Counter(
            dict(
                s.execute(
                    select(BatchItemRow.id, func.count(ReviewRow.id))
                    .join(ReviewRow, ReviewRow.session_id == BatchItemRow.session_id)
                    .where(ReviewRow.status == "submitted")
                    .group_by(BatchItemRow.id)
                ).all()
            )
        )
        assigned = Counter(
            dict(
                s.execute(
                    select(AssignmentRow.item_id, func.count(AssignmentRow.id)).group_by(
                        AssignmentRow.item_id
                    )
                ).all()
            )
        )
        per_pair = s.execute(
            select(func.count(ReviewRow.id)).group_by(ReviewRow.session_id, ReviewRow.reviewer)
        ).scalars()
        most = max(per_pair, default=0)
    return reviews, assigned, most
