"""Conflicts kept by merges, and how a lead settles them.

A merge never overwrites a review that was also changed here: the incoming version is kept
beside the one in use (``conflict_of``). The lead looks at both and keeps one; the other
stays in the workspace and in the audit trail, marked resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from reviewer.domain.review import Review
from reviewer.domain.rubric import Rubric
from reviewer.store import reviews as store
from reviewer.store.reviews import ReviewStoreError, mark_resolved, save_review
from reviewer.store.rubrics import get_rubric
from reviewer.store.workspace import UnitOfWork, Workspace

Choice = Literal["current", "kept"]


class ConflictResolutionError(Exception):
    """The conflict cannot be settled as asked; one line for the user."""


@dataclass(frozen=True)
class OpenConflict:
    """Two versions of one reviewer's review of one item."""

    current: Review
    """The version in use (counted by analytics and exports)."""
    current_origin: str
    kept: Review
    """The version a merge kept beside it."""
    kept_origin: str
    rubric: Rubric
    """The rubric of the version in use (labels for showing both)."""

    @property
    def kept_uid(self) -> str:
        return self.kept.uid

    def differences(self) -> list[str]:
        """What differs, as the reviewer reads it: status, each differing dimension (by its
        label), failure step, reason."""
        a, b = self.current, self.kept
        out = []
        if a.status != b.status:
            out.append("status")
        keys = sorted(set(a.values) | set(b.values))
        for k in keys:
            if a.values.get(k) != b.values.get(k):
                dim = self.rubric.dimension(k)
                out.append(dim.label if dim is not None else k)
        if a.failure_step != b.failure_step:
            out.append("failure step")
        if a.status_reason != b.status_reason:
            out.append("reason")
        return out


def open_conflicts(ws: Workspace, *, batch: str | None = None) -> list[OpenConflict]:
    """Conflicts not settled yet, oldest first (optionally those of one batch)."""
    with ws.read() as s:
        out = []
        for kept, current in store.open_conflicts(s):
            conflict = OpenConflict(
                current.review,
                current.origin,
                kept.review,
                kept.origin,
                get_rubric(s, current.rubric_id),
            )
            if batch is None or conflict.current.batch == batch:
                out.append(conflict)
        return out


def resolve_conflict(ws: Workspace, kept_uid: str, use: Choice, *, actor: str) -> Review:
    """Settle one conflict: keep the version in use, or put the kept one in its place.

    Either way nothing is deleted: the version not chosen stays, marked resolved, and the
    audit trail records who chose what. Returns the review now in use.
    """
    now = datetime.now(UTC)
    with ws.write() as s:
        kept = store.stored_review(s, kept_uid)
        if kept is None or kept.conflict_of is None:
            raise ConflictResolutionError(f"no conflict kept as {kept_uid}")
        current_uid = kept.conflict_of
        current = store.get_review(s, current_uid)
        if current is None:
            raise ConflictResolutionError(f"the review {current_uid} is missing")
        if kept.resolved_at is not None:
            return current
        note = {"resolved": use, "in_use": current_uid}
        if use == "kept":
            rubric = get_rubric(s, kept.rubric_id)
            chosen = kept.review.model_copy(update={"uid": current_uid, "updated_at": now})
            try:
                save_review(
                    s,
                    chosen,
                    rubric,
                    actor=actor,
                    action="resolve",
                    audit_note={"resolved_from": kept_uid},
                )
            except ReviewStoreError as exc:
                raise ConflictResolutionError(str(exc)) from None
        mark_resolved(s, kept_uid, actor=actor, note=note, at=now)
        s.flush()
        return _review(s, current_uid)


def _review(s: UnitOfWork, uid: str) -> Review:
    found = store.get_review(s, uid)
    assert found is not None
    return found
