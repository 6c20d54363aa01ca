"""Review repository: idempotent saves keyed by review uid, with an append-only audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.review import Review, ReviewRole, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.store.tables import (
    AuditEntry,
    BatchRow,
    ReviewRow,
    ReviewTag,
    RubricRow,
    SessionRow,
)


class ReviewStoreError(Exception):
    """A review cannot be saved as given; the message says why."""


def _snapshot(row: ReviewRow) -> dict[str, Any]:
    return {
        "status": row.status,
        "values": row.values,
        "details": row.details,
        "failure_step": row.failure_step,
        "status_reason": row.status_reason,
        "active_seconds": row.active_seconds,
    }


def _action_for(before: ReviewRow | None, status: ReviewStatus, role: ReviewRole) -> str:
    if role is ReviewRole.ADJUDICATOR and status is ReviewStatus.SUBMITTED:
        return "adjudicate"
    if status is ReviewStatus.SUBMITTED and (before is None or before.status != "submitted"):
        return "submit"
    if status is ReviewStatus.SKIPPED:
        return "skip"
    if status is ReviewStatus.FLAGGED:
        return "flag"
    return "create" if before is None else "edit"


def save_review(
    s: OrmSession,
    review: Review,
    rubric: Rubric,
    *,
    actor: str | None = None,
    origin: str = "local",
) -> int:
    """Insert or update ``review`` (keyed by its uid) in the current transaction.

    Repeating the same save changes nothing and logs nothing, so a save whose commit landed
    without being acknowledged can simply be retried.
    """
    problems = rubric.problems(review.values)
    if problems:
        raise ReviewStoreError("; ".join(problems))
    session_id = s.scalar(
        select(SessionRow.id).where(
            SessionRow.session_key == review.session_key,
            SessionRow.revision == review.session_revision,
        )
    )
    if session_id is None:
        raise ReviewStoreError(
            f"no session {review.session_key!r} revision {review.session_revision}"
        )
    rubric_id = s.scalar(
        select(RubricRow.id).where(
            RubricRow.name == review.rubric_name, RubricRow.version == review.rubric_version
        )
    )
    if rubric_id is None:
        raise ReviewStoreError(f"no rubric {review.rubric_name} v{review.rubric_version}")
    batch_id = None
    if review.batch is not None:
        batch_id = s.scalar(select(BatchRow.id).where(BatchRow.name == review.batch))
        if batch_id is None:
            raise ReviewStoreError(f"no batch {review.batch!r}")
    now = datetime.now(UTC)
    row = s.scalar(select(ReviewRow).where(ReviewRow.uid == review.uid))
    before = _snapshot(row) if row is not None else None
    action = _action_for(row, review.status, review.role)
    fields: dict[str, Any] = {
        "session_id": session_id,
        "batch_id": batch_id,
        "reviewer": review.reviewer,
        "role": review.role.value,
        "rubric_id": rubric_id,
        "values": review.values,
        "details": review.details,
        "failure_step": review.failure_step,
        "corrected_response": review.corrected_response(rubric),
        "status": review.status.value,
        "status_reason": review.status_reason,
        "started_at": review.started_at,
        "submitted_at": review.submitted_at
        or (now if review.status is ReviewStatus.SUBMITTED else None),
        "active_seconds": review.active_seconds,
        "simulated": review.simulated,
    }
    if row is None:
        row = ReviewRow(
            uid=review.uid, updated_at=review.updated_at or now, origin=origin, **fields
        )
        s.add(row)
        s.flush()
    else:
        if row.reviewer != review.reviewer or row.session_id != session_id:
            raise ReviewStoreError("a review's reviewer and session cannot change")
        for k, v in fields.items():
            setattr(row, k, v)
        if _snapshot(row) == before:
            return row.id
        row.updated_at = review.updated_at or now
        s.flush()
    s.execute(delete(ReviewTag).where(ReviewTag.review_id == row.id))
    tags = review.failure_tags(rubric)
    if tags:
        s.execute(insert(ReviewTag), [{"review_id": row.id, "tag": t} for t in dict.fromkeys(tags)])
    s.add(
        AuditEntry(
            at=now,
            actor=actor or review.reviewer,
            action=action,
            review_uid=review.uid,
            session_id=session_id,
            before=before,
            after=_snapshot(row),
        )
    )
    return row.id


def review_from_row(s: OrmSession, row: ReviewRow) -> Review:
    sess = s.get(SessionRow, row.session_id)
    rub = s.get(RubricRow, row.rubric_id)
    batch = s.get(BatchRow, row.batch_id) if row.batch_id is not None else None
    assert sess is not None and rub is not None
    return Review(
        uid=row.uid,
        session_key=sess.session_key,
        session_revision=sess.revision,
        batch=batch.name if batch else None,
        reviewer=row.reviewer,
        role=ReviewRole(row.role),
        rubric_name=rub.name,
        rubric_version=rub.version,
        values=row.values,
        details=row.details or {},
        failure_step=row.failure_step,
        status=ReviewStatus(row.status),
        status_reason=row.status_reason,
        started_at=row.started_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        active_seconds=row.active_seconds,
        simulated=row.simulated,
    )


def get_review(s: OrmSession, uid: str) -> Review | None:
    row = s.scalar(select(ReviewRow).where(ReviewRow.uid == uid))
    return review_from_row(s, row) if row is not None else None
