"""Simulated reviews for the demo: realistic, reproducible, and marked as simulated.

Reviewers see the generator's planted failures with their own accuracy and leniency, so
agreement is high but not perfect, failure rates differ by agent version as planted, and
corrected responses exist where the answer was wrong.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from reviewer.domain.review import Review, ReviewRole, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Session
from reviewer.store.reviews import save_review
from reviewer.store.sessions import load_session
from reviewer.store.tables import AssignmentRow, BatchItemRow, BatchRow, SessionRow
from reviewer.store.workspace import Workspace

REVIEWERS: dict[str, tuple[float, float]] = {
    "alice": (0.92, 0.0),
    "bob": (0.82, -0.4),
    "carol": (0.75, 0.3),
}
"""Name → (chance of noticing a planted failure, leniency added to quality)."""

_WRONG_ANSWER = ("answered_incorrectly", "hallucination", "incomplete", "misunderstood_query")


def _values(
    session: Session, rng: random.Random, accuracy: float, leniency: float, rubric: Rubric
) -> tuple[dict[str, Any], int | None, str | None]:
    planted = session.metadata.get("planted_failure")
    step = session.metadata.get("planted_failure_step")
    seen = planted if planted and rng.random() < accuracy else None
    if seen is None and rng.random() < 0.04:
        seen = rng.choice(("incomplete", "looped", "other"))  # a false alarm now and then
    if seen is None:
        quality = 5 if rng.random() < 0.55 + 0.3 * leniency else 4
        values: dict[str, Any] = {
            "quality": str(quality),
            "correctness": "correct",
            "policy": "compliant",
            "failure_categories": [],
        }
        return values, None, None
    quality = rng.choices((1, 2, 3), weights=(2, 4, 3 + 4 * max(0.0, leniency)))[0]
    tags = [seen]
    if rng.random() < 0.12:
        tags.append(rng.choice(("tool_failure", "incomplete", "other")))
    taxonomy = rubric.taxonomy
    bent = seen in ("should_have_escalated", "wrong_language")
    values = {
        "quality": str(quality),
        "correctness": "incorrect" if seen in _WRONG_ANSWER else "partially_correct",
        "policy": "minor_violation" if bent else "compliant",
        "failure_categories": [t for t in dict.fromkeys(tags) if taxonomy and taxonomy.option(t)],
        "rationale": f"Looks like {seen.replace('_', ' ')} around step {step}.",
    }
    corrected = None
    if seen in _WRONG_ANSWER and session.final_answer:
        corrected = (
            "I checked this against the order system: "
            + session.final_answer.split(".")[0].strip()
            + " — but let me correct that: the details above were not confirmed by the tool,"
            " so I have opened a ticket and will follow up by e-mail within 24 hours."
        )
        values["corrected_response"] = corrected
    fail_step = step if isinstance(step, int) and rng.random() < 0.8 else None
    if fail_step is not None and rng.random() < 0.15:
        fail_step = max(0, fail_step + rng.choice((-1, 1)))
    return values, fail_step, corrected


def simulate_batch(
    ws: Workspace, batch: str, rubric: Rubric, *, seed: int, leave_to_do: float = 0.15
) -> int:
    """Fill most of ``batch`` with simulated submitted reviews; return how many were made."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    made = 0
    with ws.write() as s:
        batch_id = s.scalar(select(BatchRow.id).where(BatchRow.name == batch))
        rows = s.execute(
            select(AssignmentRow.reviewer, BatchItemRow.session_id, BatchItemRow.position)
            .join(BatchItemRow, BatchItemRow.id == AssignmentRow.item_id)
            .where(BatchItemRow.batch_id == batch_id)
            .order_by(BatchItemRow.position, AssignmentRow.reviewer)
        ).all()
        count = len(rows)
        for n, (reviewer, session_id, _pos) in enumerate(rows):
            if rng.random() < leave_to_do:
                continue
            accuracy, leniency = REVIEWERS.get(reviewer, (0.85, 0.0))
            session = load_session(s, session_id)
            row = s.get(SessionRow, session_id)
            assert row is not None
            values, fail_step, _ = _values(session, rng, accuracy, leniency, rubric)
            submitted = now - timedelta(minutes=(count - n) * rng.uniform(2.0, 6.0))
            active = round(min(900.0, rng.lognormvariate(4.3, 0.5)), 1)
            review = Review(
                session_key=row.session_key,
                session_revision=row.revision,
                batch=batch,
                reviewer=reviewer,
                rubric_name=rubric.name,
                rubric_version=rubric.version,
                values=values,
                failure_step=fail_step,
                status=ReviewStatus.SUBMITTED,
                started_at=submitted - timedelta(seconds=active),
                updated_at=submitted,
                submitted_at=submitted,
                active_seconds=active,
                simulated=True,
            )
            save_review(s, review, rubric)
            made += 1
    return made


def gold_labels(
    ws: Workspace, session_ids: list[int], rubric: Rubric, *, lead: str = "lead"
) -> None:
    """Reference labels by a lead (role gold), following the planted truth exactly."""
    rng = random.Random(0)
    with ws.write() as s:
        for sid in session_ids:
            session = load_session(s, sid)
            row = s.get(SessionRow, sid)
            assert row is not None
            values, fail_step, _ = _values(session, rng, 1.0, 0.0, rubric)
            save_review(
                s,
                Review(
                    session_key=row.session_key,
                    session_revision=row.revision,
                    reviewer=lead,
                    role=ReviewRole.GOLD,
                    rubric_name=rubric.name,
                    rubric_version=rubric.version,
                    values=values,
                    failure_step=fail_step,
                    status=ReviewStatus.SUBMITTED,
                    simulated=True,
                ),
                rubric,
            )
