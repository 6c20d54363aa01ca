"""The reviewer's queue and the reviews in it: what the workbench shows and saves."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property

from reviewer.domain.review import Review, ReviewRole, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Session
from reviewer.store.batches import BatchRef, find_batch
from reviewer.store.browse import SessionFilter, assigned_session_ids, session_ids
from reviewer.store.reviews import live_review_by, review_statuses, save_review, warm_save
from reviewer.store.rubrics import find_rubric, get_rubric
from reviewer.store.sessions import load_session, session_ref
from reviewer.store.workspace import UnitOfWork, Workspace


class QueueError(Exception):
    """The queue asked for cannot be shown; the message says why."""


class ItemStatus(StrEnum):
    """Where an item of the queue stands for its reviewer."""

    TODO = "to do"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SKIPPED = "skipped"
    FLAGGED = "flagged"


@dataclass(frozen=True)
class QueueSpec:
    reviewer: str
    batch: str | None = None
    status: ItemStatus | None = None
    """Only items with this status (None: all)."""
    filter: SessionFilter = field(default_factory=SessionFilter)


@dataclass
class Queue:
    """The ids of a reviewer's items in order, with the status of each one started."""

    spec: QueueSpec
    ids: list[int]
    statuses: dict[int, ItemStatus]
    blind: bool = False
    rubric_id: int = 0
    totals: dict[ItemStatus, int] = field(default_factory=dict)
    """Items per status in the whole queue, before the status filter of the spec."""

    def status(self, session_id: int) -> ItemStatus:
        return self.statuses.get(session_id, ItemStatus.TODO)

    def counts(self) -> dict[ItemStatus, int]:
        """Items per status among the ids shown."""
        return _count(self.ids, self.statuses)

    def next_todo(self, after: int | None) -> int | None:
        """The first item still to do (or in draft) after ``after``, wrapping around."""
        if not self.ids:
            return None
        start = 0
        if after is not None and after in self._positions:
            start = self._positions[after] + 1
        n = len(self.ids)
        for k in range(n):
            sid = self.ids[(start + k) % n]
            if self.status(sid) in (ItemStatus.TODO, ItemStatus.DRAFT) and sid != after:
                return sid
        return None

    @cached_property
    def _positions(self) -> dict[int, int]:
        return {sid: i for i, sid in enumerate(self.ids)}


def _count(ids: list[int], statuses: dict[int, ItemStatus]) -> dict[ItemStatus, int]:
    out = dict.fromkeys(ItemStatus, 0)
    for sid in ids:
        out[statuses.get(sid, ItemStatus.TODO)] += 1
    return out


def _batch_row(s: UnitOfWork, name: str) -> BatchRef:
    row = find_batch(s, name)
    if row is None:
        raise QueueError(f"no batch named {name!r} in this workspace")
    return row


def load_queue(ws: Workspace, spec: QueueSpec) -> Queue:
    """The reviewer's items: a batch's assignment in batch order, or all latest sessions."""
    with ws.read() as s:
        if spec.batch is not None:
            batch = _batch_row(s, spec.batch)
            ids = assigned_session_ids(
                s, batch.id, spec.reviewer, replace(spec.filter, latest_only=False)
            )
            batch_id: int | None = batch.id
            blind = batch.blind
            rubric_id = batch.rubric_id
        else:
            ids = session_ids(s, spec.filter)
            batch_id = None
            blind = False
            found = find_rubric(s, "default")
            rubric_id = found[0] if found else 0
        found_statuses = review_statuses(s, spec.reviewer, ReviewRole.REVIEWER, batch_id)
        statuses = {sid: ItemStatus(st) for sid, st in found_statuses.items()}
    totals = _count(ids, statuses)
    if spec.status is not None:
        ids = [i for i in ids if statuses.get(i, ItemStatus.TODO) is spec.status]
    return Queue(spec, ids, statuses, blind=blind, rubric_id=rubric_id, totals=totals)


@dataclass
class ReviewItem:
    """Everything the workbench needs to show one item: loaded in one trip."""

    session_id: int
    session: Session
    rubric: Rubric
    review: Review
    is_new: bool
    blind: bool
    version: int | None = None
    """The stored version of ``review`` (None for a new one): saves expect it, so an edit
    made elsewhere meanwhile is detected instead of overwritten."""


def open_item(ws: Workspace, queue: Queue, session_id: int) -> ReviewItem:
    """The session with the reviewer's review of it (a fresh draft when there is none)."""
    spec = queue.spec
    with ws.read() as s:
        session = load_session(s, session_id)
        ref = session_ref(s, session_id)
        assert ref is not None
        batch_id = _batch_row(s, spec.batch).id if spec.batch is not None else None
        existing = live_review_by(s, session_id, spec.reviewer, ReviewRole.REVIEWER, batch_id)
        if existing is not None:
            rubric = get_rubric(s, existing.rubric_id)
            review = existing.review
        else:
            if not queue.rubric_id:
                raise QueueError("this workspace has no rubric to review with")
            rubric = get_rubric(s, queue.rubric_id)
            review = Review(
                session_key=ref[0],
                session_revision=ref[1],
                batch=spec.batch,
                reviewer=spec.reviewer,
                rubric_name=rubric.name,
                rubric_version=rubric.version,
            )
    version = existing.version if existing is not None else None
    return ReviewItem(session_id, session, rubric, review, existing is None, queue.blind, version)


@dataclass(frozen=True)
class Stored:
    review: Review
    """The review as stored."""
    version: int
    """Its stored version: what the next save of it expects."""


def store(
    ws: Workspace, review: Review, rubric: Rubric, *, expected_version: int | None = None
) -> Stored:
    """Save ``review`` (idempotent: repeating it changes nothing); return it and its version.

    With ``expected_version``, a review changed elsewhere since that version raises
    ``ConflictError`` (reviewer.store.reviews) instead of being overwritten.
    """
    stamped = review.model_copy(update={"updated_at": datetime.now(UTC)})
    if stamped.status is ReviewStatus.SUBMITTED and stamped.submitted_at is None:
        stamped.submitted_at = stamped.updated_at
    with ws.write(one_statement=True) as s:  # a save writes with one statement on a server
        version = save_review(s, stamped, rubric, expected_version=expected_version).version_id
    return Stored(stamped, version)


def prepare_saving(ws: Workspace, review: Review, rubric: Rubric) -> None:
    """Get the workspace ready to save ``review`` and the others of its queue, writing
    nothing: the statements a save runs are built, compiled and run once
    (:func:`reviewer.store.reviews.warm_save`), so that the reviewer's first save and first
    submit are as quick as the ones after. The workbench calls it (on its write lane) with
    the review of the first item of a queue, once that item is shown."""
    with ws.write(one_statement=True) as s:  # as store() saves
        warm_save(s, review, rubric)


def save(
    ws: Workspace, review: Review, rubric: Rubric, *, expected_version: int | None = None
) -> Review:
    """:func:`store`, returning just the review."""
    return store(ws, review, rubric, expected_version=expected_version).review


def missing_for_submit(review: Review, rubric: Rubric) -> list[str]:
    """Labels of the required dimensions still empty, in form order."""
    return [d.label for d in rubric.missing_required(review.values)]
