"""Adjudication: a lead sees every reviewer's values side by side and records the final label.

The final label is a review of its own (role ``adjudicator``, status submitted) stored with
the ordinary ``save_review``, so it is validated against the rubric and audited (action
``adjudicate``). Analytics use it in place of the reviewers' labels for that item.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import JsonValue

from reviewer.domain.review import Review, ReviewRole, ReviewStatus
from reviewer.domain.rubric import DimensionKind, Rubric
from reviewer.store.batches import batch_id as find_batch_id
from reviewer.store.reviews import ConflictError, ReviewStoreError, save_review, submitted_reviews
from reviewer.store.rubrics import get_rubric
from reviewer.store.sessions import session_ref
from reviewer.store.workspace import Workspace


class AdjudicationError(Exception):
    """The item cannot be adjudicated as asked; the message says why."""


@dataclass(frozen=True)
class ReviewerLabel:
    """One reviewer's submitted values for the item."""

    reviewer: str
    values: dict[str, JsonValue]
    failure_step: int | None
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class AdjudicationCase:
    """Everything the adjudication view shows for one item."""

    batch: str | None
    session_id: int
    session_key: str
    session_revision: int
    rubric: Rubric
    labels: list[ReviewerLabel]
    existing: Review | None = None
    """The final label recorded already (the latest one), if any."""

    def proposal(self) -> dict[str, JsonValue]:
        """A starting point for the final label: the recorded one, else per dimension the
        value most reviewers gave (ties: the first reviewer's), and the failure tags at least
        half of them chose."""
        if self.existing is not None:
            return dict(self.existing.values)
        out: dict[str, JsonValue] = {}
        for d in self.rubric.dimensions:
            given = [lab.values.get(d.name) for lab in self.labels]
            given = [g for g in given if g is not None and g != "" and g != []]
            if not given:
                continue
            if d.kind is DimensionKind.MULTI_SELECT:
                counts = Counter(t for g in given if isinstance(g, list) for t in g)
                out[d.name] = [
                    o.value for o in d.options if 2 * counts[o.value] >= len(self.labels)
                ]
            elif d.kind in (DimensionKind.TEXT, DimensionKind.CORRECTED_RESPONSE):
                continue  # the lead writes their own, if any
            else:
                counts_v = Counter(str(g) for g in given)
                best = max(counts_v.values())
                out[d.name] = next(g for g in given if counts_v[str(g)] == best)
        return out


def load_case(ws: Workspace, batch: str | None, session_id: int) -> AdjudicationCase:
    """The submitted reviewer labels of one item (a session in ``batch``, or outside any
    batch when ``batch`` is None) and the final label recorded so far."""
    with ws.read() as s:
        batch_id: int | None = None
        if batch is not None:
            batch_id = find_batch_id(s, batch)
            if batch_id is None:
                raise AdjudicationError(f"no batch named {batch!r} in this workspace")
        session = session_ref(s, session_id)
        if session is None:
            raise AdjudicationError(f"no session with id {session_id}")
        session_key, revision = session
        rows = submitted_reviews(
            s, session_id, batch_id, [ReviewRole.REVIEWER, ReviewRole.ADJUDICATOR]
        )
        labels = [
            ReviewerLabel(
                r.review.reviewer,
                dict(r.review.values),
                r.review.failure_step,
                dict(r.review.details or {}),
            )
            for r in rows
            if r.review.role is ReviewRole.REVIEWER
        ]
        if not labels:
            raise AdjudicationError(f"session {session_key} has no submitted reviews to adjudicate")
        final = [r for r in rows if r.review.role is ReviewRole.ADJUDICATOR]
        latest = max(final, key=lambda r: (r.review.updated_at, r.id)) if final else None
        rubric_row = latest or max(rows, key=lambda r: r.rubric_id)
        return AdjudicationCase(
            batch=batch,
            session_id=session_id,
            session_key=session_key,
            session_revision=revision,
            rubric=get_rubric(s, rubric_row.rubric_id),
            labels=labels,
            existing=latest.review if latest is not None else None,
        )


def adjudicate(
    ws: Workspace,
    case: AdjudicationCase,
    lead: str,
    values: dict[str, JsonValue],
    *,
    failure_step: int | None = None,
) -> Review:
    """Record ``values`` as the final label of the item, by ``lead``: a submitted review
    with role adjudicator (the lead's earlier final label for the item is updated)."""
    lead = lead.strip()
    if not lead:
        raise AdjudicationError("the adjudicating lead needs a name")
    problems = case.rubric.problems(values)
    if problems:
        raise AdjudicationError("; ".join(problems))
    now = datetime.now(UTC)
    mine = case.existing if case.existing and case.existing.reviewer == lead else None
    review = Review(
        session_key=case.session_key,
        session_revision=case.session_revision,
        batch=case.batch,
        reviewer=lead,
        role=ReviewRole.ADJUDICATOR,
        rubric_name=case.rubric.name,
        rubric_version=case.rubric.version,
        values=values,
        failure_step=failure_step,
        status=ReviewStatus.SUBMITTED,
        started_at=mine.started_at if mine else now,
        updated_at=now,
        submitted_at=now,
    )
    if mine is not None:
        review = review.model_copy(update={"uid": mine.uid})
    try:
        try:
            with ws.write() as s:
                save_review(s, review, case.rubric, actor=lead)
        except ConflictError as exc:
            # the lead's own earlier final label (another lead's is the one shown): a lead
            # has one live final label per item, so adjudicating again updates it
            review = exc.attempted
            with ws.write() as s:
                save_review(s, review, case.rubric, actor=lead)
    except ReviewStoreError as exc:
        raise AdjudicationError(str(exc)) from None
    case.existing = review
    return review
