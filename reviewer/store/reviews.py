"""Review repository: idempotent saves keyed by review uid, with an append-only audit log."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol, cast

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Insert,
    Select,
    Table,
    Update,
    all_,
    bindparam,
    delete,
    func,
    insert,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import Executable

from reviewer.domain.option_codes import encode as encode_options
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


def live_review(*, scan: bool = False) -> ColumnElement[bool]:
    """A review that counts: the one in use, not a version a merge (or the upgrade to 0003)
    kept aside beside it (``conflict_of`` set). The one spelling of that rule.

    ``scan=True`` words it so the planner does not walk the ``conflict_of`` index: nearly
    every review is live, and over a whole table (exports, analytics) SQLite reads 200,000
    rows through that index several times slower than it scans the table. Keep the default
    where other conditions narrow the rows first.
    """
    if scan:
        return func.coalesce(ReviewRow.conflict_of, "") == ""
    return ReviewRow.conflict_of.is_(None)


class ReviewStoreError(Exception):
    """A review cannot be saved as given; the message says why."""


class ConflictError(ReviewStoreError):
    """The review changed since it was read (optimistic locking): nothing was overwritten.

    ``stored`` is the version in the workspace (None when it could not be read back),
    ``attempted`` the one that was not saved; the caller shows both.
    """

    def __init__(
        self, attempted: Review, stored: Review | None, stored_version: int | None
    ) -> None:
        self.attempted = attempted
        self.stored = stored
        self.stored_version = stored_version
        when = (
            f" at {stored.updated_at:%Y-%m-%d %H:%M:%S} UTC" if stored and stored.updated_at else ""
        )
        super().__init__(
            f"review of session {attempted.session_key!r} by {attempted.reviewer} was changed "
            f"elsewhere{when} since it was opened; nothing was overwritten, both versions are kept"
        )


SNAPSHOT_KEYS = ("status", "values", "details", "failure_step", "status_reason", "active_seconds")
"""What a review's audit entries record before and after a change, and what merging compares."""


def step_labels_json(review: Review) -> dict[str, Any]:
    """The step labels as stored: by step index (as text), fields left out when unset."""
    return {str(i): s.model_dump(mode="json", exclude_none=True) for i, s in review.steps.items()}


def _snapshot(row: ReviewRow | _Stored) -> dict[str, Any]:
    snap = {k: getattr(row, k) for k in SNAPSHOT_KEYS}
    if row.steps:  # step labels are audited too (left out when there are none, as before)
        snap["steps"] = row.steps
    return snap


def review_snapshot(review: Review) -> dict[str, Any]:
    """The audited content of ``review``, as :func:`_snapshot` records it for a stored row."""
    return {
        "status": review.status.value,
        "values": review.values,
        "details": review.details,
        "failure_step": review.failure_step,
        "status_reason": review.status_reason,
        "active_seconds": review.active_seconds,
        **({"steps": step_labels_json(review)} if review.steps else {}),
    }


def snapshot_sha256(snapshot: dict[str, Any] | None) -> str | None:
    """A stable hash of an audited snapshot (None for none): equal content, equal hash."""
    if snapshot is None:
        return None
    body = {k: snapshot.get(k) for k in SNAPSHOT_KEYS}
    if snapshot.get("steps"):  # reviews without step labels hash as they always did
        body["steps"] = snapshot["steps"]
    body["active_seconds"] = float(body["active_seconds"] or 0.0)
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def row_sha256(row: ReviewRow) -> str:
    digest = snapshot_sha256(_snapshot(row))
    assert digest is not None
    return digest


def _action_for(before: _Stored | None, status: ReviewStatus, role: ReviewRole) -> str:
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
    expected_version: int | None = None,
    action: str | None = None,
    conflict_of: str | None = None,
    audit_note: dict[str, Any] | None = None,
) -> Written:
    """Insert or update ``review`` (keyed by its uid) in the current transaction; return the
    stored row's id and ``version_id`` (what the next save of it expects).

    Repeating the same save changes nothing and logs nothing, so a save whose commit landed
    without being acknowledged can simply be retried.

    Optimistic locking: with ``expected_version`` (the ``version_id`` the caller read), a
    stored review at another version raises :class:`ConflictError` instead of being
    overwritten; so does a concurrent commit between our read and our write (PostgreSQL).
    ``action`` overrides the audited action (merges) and ``audit_note`` adds keys to the
    entry's ``after``; ``conflict_of`` and ``origin`` are recorded when the review is first
    stored.
    """
    problems = rubric.problems(review.values)
    if problems:
        raise ReviewStoreError("; ".join(problems))
    tags = list(dict.fromkeys(review.failure_tags(rubric)))
    found = _save_lookup(s, review, tags)
    session_id, rubric_id, batch_id, row = (
        found.session_id,
        found.rubric_id,
        found.batch_id,
        found.row,
    )
    if session_id is None:
        raise ReviewStoreError(
            f"no session {review.session_key!r} revision {review.session_revision}"
        )
    if rubric_id is None:
        raise ReviewStoreError(f"no rubric {review.rubric_name} v{review.rubric_version}")
    if review.batch is not None and batch_id is None:
        raise ReviewStoreError(f"no batch {review.batch!r}")
    now = datetime.now(UTC)
    before = _snapshot(row) if row is not None else None
    action = action or _action_for(row, review.status, review.role)
    fields = _fields(review, rubric, (session_id, rubric_id, batch_id), now, tags)
    # most saves leave the tags as they are: no writes to them then
    retag = None if found.same_tags(tags) else tags
    after = _after(fields)
    audit = _audit(review, session_id, now, actor, action, before, {**after, **(audit_note or {})})
    updated_at = review.updated_at or now
    if row is None:
        if conflict_of is None and found.twin_uid is not None:
            twin = s.scalar(select(ReviewRow).where(ReviewRow.uid == found.twin_uid))
            assert twin is not None
            raise _twin_conflict(s, review, twin)
        try:
            written = _write_audited(
                s, _inserted(review, fields, updated_at, origin, conflict_of), audit, retag
            )
        except IntegrityError:
            # another process stored this reviewer's review of the item since we looked
            # (PostgreSQL; the unique index of migration 0003 refused the second one)
            conflict = _conflict_after_concurrent_insert(s, review, session_id, batch_id)
            if conflict is None:
                raise
            raise conflict from None
        if written is None:  # pragma: no cover - an INSERT without an error wrote its row
            raise ReviewStoreError(f"review {review.uid} was not stored")
    else:
        if row.reviewer != review.reviewer or row.session_id != session_id:
            raise ReviewStoreError("a review's reviewer and session cannot change")
        if after == before:
            return Written(row.id, row.version_id)  # the same save again: nothing changes
        if expected_version is not None and row.version_id != expected_version:
            stored = s.get(ReviewRow, row.id)
            assert stored is not None
            raise ConflictError(review, review_from_row(s, stored), row.version_id)
        # Only from the version this unit of work read: a commit in between is a conflict.
        changed = _updated(fields, updated_at, row.version_id + 1)
        written = _write_audited(s, changed, audit, retag, (row.id, row.version_id))
        if written is None:
            raise _conflict_after_concurrent_commit(s, review)
        kept = s.identity_map.get(OrmSession.identity_key(ReviewRow, row.id))
        for k, v in changed.items() if kept is not None else ():
            set_committed_value(kept, k, v)  # the unit of work's copy stays what is stored
    return written


def warm_save(s: OrmSession, review: Review, rubric: Rubric) -> None:
    """Run the statements :func:`save_review` runs for ``review`` — its look-up, the insert
    of a first save and the update of a later one — writing nothing (the insert selects no
    row, the update matches none). Afterwards they are built and compiled, and on a database
    server its connection has planned them: a reviewer's first save and first submit then
    cost what the later ones do (each was 5–15 ms of CPU more on its own, and ten times that
    when 20 reviewers start at once on 2 cores: ``python -m tests.perf pg_scale``)."""
    tags = list(dict.fromkeys(review.failure_tags(rubric)))
    found = _save_lookup(s, review, tags)
    now = datetime.now(UTC)
    fields = _fields(review, rubric, (found.session_id, found.rubric_id, found.batch_id), now, tags)
    audit = _audit(review, found.session_id, now, None, "edit", None, _after(fields))
    for retag in (None, tags):  # tags as they were, and changed
        _write_audited(s, _inserted(review, fields, now, "local", None), audit, retag, write=False)
        _write_audited(s, _updated(fields, now, 1), audit, retag, (-1, 0))  # ids start at 1


def _fields(
    review: Review,
    rubric: Rubric,
    ids: tuple[int | None, int | None, int | None],
    now: datetime,
    tags: list[str],
) -> dict[str, Any]:
    """The columns a save of ``review`` writes, inserting or updating (``ids``: its
    session's, rubric's and batch's)."""
    session_id, rubric_id, batch_id = ids
    return {
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
        "steps": step_labels_json(review),
        "suggestions": {k: v.model_dump(mode="json") for k, v in review.suggestions.items()},
        # what the analytics read instead of the values and tags (reviewer.store.analytics)
        "option_codes": encode_options(rubric, review.values),
        "failed": bool(tags),
    }


def _after(fields: dict[str, Any]) -> dict[str, Any]:
    """The audited snapshot of a review saved with ``fields`` (as :func:`_snapshot`)."""
    after = {k: fields[k] for k in SNAPSHOT_KEYS}
    if fields["steps"]:
        after["steps"] = fields["steps"]
    return after


def _audit(
    review: Review,
    session_id: int | None,
    now: datetime,
    actor: str | None,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> dict[str, Any]:
    """The audit entry of a save."""
    return {
        "at": now,
        "actor": actor or review.reviewer,
        "action": action,
        "review_uid": review.uid,
        "session_id": session_id,
        "before": before,
        "after": after,
    }


def _inserted(
    review: Review,
    fields: dict[str, Any],
    updated_at: datetime,
    origin: str,
    conflict_of: str | None,
) -> dict[str, Any]:
    """The row a review's first save inserts."""
    return {
        "uid": review.uid,
        "updated_at": updated_at,
        "origin": origin,
        "conflict_of": conflict_of,
        "version_id": 1,
        **fields,
    }


def _updated(fields: dict[str, Any], updated_at: datetime, version: int) -> dict[str, Any]:
    """What a later save of a review changes in its row (``version``: the new one)."""
    return {**fields, "updated_at": updated_at, "version_id": version}


@dataclass(frozen=True)
class Written:
    """A stored review's row id and ``version_id`` (what the next save of it expects)."""

    id: int
    version_id: int


_REVIEWS = cast(Table, ReviewRow.__table__)
_AUDIT = cast(Table, AuditEntry.__table__)


def _write_audited(
    s: OrmSession,
    values: dict[str, Any],
    audit: dict[str, Any],
    tags: list[str] | None,
    stored: tuple[int, int] | None = None,
    *,
    write: bool = True,
) -> Written | None:
    """Insert a review row with ``values`` (or, with ``stored`` (id, version_id), update that
    row from that version) and, when it wrote its row, add ``audit`` to the audit log and
    make ``tags`` its tags (None: they stay as they are); the row's id and version (None
    when it wrote nothing: the row is at another version now). ``write=False`` runs the
    insert writing nothing (:func:`warm_save`).

    On PostgreSQL all of it is one statement (data-modifying WITHs): a round trip less per
    save, and a save that commits on its own (:meth:`Workspace.write`'s ``one_statement``).
    """
    pg = s.get_bind().dialect.name == "postgresql"
    statement, log = _write_statements(
        tuple(values), tuple(audit), stored is not None, pg, pg and tags is not None
    )
    params = {f"v_{k}": v for k, v in values.items()}
    logged = {f"a_{k}": v for k, v in audit.items()}
    if stored is not None:
        params["stored_id"], params["stored_version"] = stored
    else:
        params["write"] = write
    if log is None:
        if tags is not None:
            params["tags"] = tags
        got = s.execute(statement, {**params, **logged}).first()
        return None if got is None else Written(got[0], got[1])
    got = s.execute(statement, params).first()
    if got is None:
        return None
    s.execute(log, logged)
    if tags is not None:
        s.execute(delete(ReviewTag).where(ReviewTag.review_id == got[0]))
        if tags:
            s.execute(insert(ReviewTag), [{"review_id": got[0], "tag": t} for t in tags])
    return Written(got[0], got[1])


_TAGS = cast(Table, ReviewTag.__table__)


@cache
def _write_statements(
    columns: tuple[str, ...], audited: tuple[str, ...], is_update: bool, pg: bool, retag: bool
) -> tuple[Executable, Executable | None]:
    """The statements of :func:`_write_audited`, built once: the write (on PostgreSQL with
    the audit entry and, with ``retag``, the tags) and, elsewhere, the audit entry's."""
    values = {k: bindparam(f"v_{k}", type_=_REVIEWS.c[k].type) for k in columns}
    write: Insert | Update
    if is_update:
        write = (
            update(_REVIEWS)
            .where(
                _REVIEWS.c.id == bindparam("stored_id"),
                _REVIEWS.c.version_id == bindparam("stored_version"),
            )
            .values(values)
        )
    else:  # INSERT … SELECT … WHERE :write, so that warm_save can run it writing nothing
        write = insert(_REVIEWS).from_select(
            list(columns), select(*values.values()).where(bindparam("write", type_=Boolean))
        )
    returning = write.returning(_REVIEWS.c.id, _REVIEWS.c.version_id)
    entry = [bindparam(f"a_{k}", type_=_AUDIT.c[k].type) for k in audited]
    if not pg:
        return returning, insert(_AUDIT).values(dict(zip(audited, entry, strict=True)))
    saved = returning.cte("saved")
    logged = insert(_AUDIT).from_select(list(audited), select(*entry).select_from(saved))
    out = select(saved.c.id, saved.c.version_id).add_cte(logged.cte("logged"))
    if retag:
        # The tags no longer given go, the new ones come; those kept are not touched (two
        # disjoint sets: the parts of one statement run in no set order).
        tags = bindparam("tags", type_=postgresql.ARRAY(_TAGS.c.tag.type))
        untag = delete(_TAGS).where(
            _TAGS.c.review_id.in_(select(saved.c.id)), _TAGS.c.tag != all_(tags)
        )
        tag = (
            postgresql.insert(_TAGS)
            .from_select(["review_id", "tag"], select(saved.c.id, func.unnest(tags)))
            .on_conflict_do_nothing()
        )
        out = out.add_cte(untag.cte("untagged"), tag.cte("tagged"))
    return out, None


class _Stored(Protocol):
    """The stored review as :func:`_save_lookup` reads it: what a save compares."""

    id: int
    reviewer: str
    session_id: int
    version_id: int
    status: str
    values: dict[str, Any]
    details: dict[str, Any] | None
    failure_step: int | None
    status_reason: str | None
    active_seconds: float
    steps: dict[str, Any] | None


@dataclass(frozen=True)
class _Found:
    """What a save needs to know, read in one statement (:func:`_save_lookup`)."""

    session_id: int | None
    rubric_id: int | None
    batch_id: int | None
    row: _Stored | None
    """The stored review of the same uid, as this unit of work first read it."""
    twin_uid: str | None
    """The uid of the live review of the same item, reviewer and role, if any."""
    stored_tags: int
    """How many tags the stored review has…"""
    kept_tags: int
    """…and how many of them are among the tags being saved."""

    def same_tags(self, tags: list[str]) -> bool:
        return self.stored_tags == self.kept_tags == len(tags)


def _save_lookup(s: OrmSession, review: Review, tags: list[str]) -> _Found:
    """The ids of the review's session, rubric and batch, its stored row, its live twin and
    how its stored tags compare with ``tags``: one round trip instead of six (a save on a
    database server pays each one, see `python -m tests.perf pg_scale`).

    A Core statement of the columns a save compares, not ORM rows: the ORM's handling of
    the statement and its rows was half a save's client CPU. As with an ORM query, pending
    changes of the unit of work are flushed first, and a review it read already is taken
    as it read it."""
    params: dict[str, Any] = {
        "key": review.session_key,
        "revision": review.session_revision,
        "rubric": review.rubric_name,
        "rubric_version": review.rubric_version,
        "reviewer": review.reviewer,
        "role": review.role.value,
        "uid": review.uid,
        "tags": tags,
    }
    if review.batch is not None:
        params["batch"] = review.batch
    s.flush()
    got = s.connection().execute(_save_lookup_statement(review.batch is not None), params).one()
    row: _Stored | None = None
    if got.id is not None:
        # as this unit of work first read it, if it did: a commit since is a conflict
        kept = s.identity_map.get(OrmSession.identity_key(ReviewRow, got.id))
        row = cast("_Stored", got if kept is None else kept)
    return _Found(
        got.sid, got.rid, got.bid, row, got.twin_uid, got.stored_tags or 0, got.kept_tags or 0
    )


_SESSIONS = cast(Table, SessionRow.__table__)
_RUBRICS = cast(Table, RubricRow.__table__)
_BATCHES = cast(Table, BatchRow.__table__)


@cache
def _save_lookup_statement(in_a_batch: bool) -> Select[Any]:
    """The statement of :func:`_save_lookup`, built once (building it per save cost more
    client CPU than the round trips it saves)."""
    sid = select(_SESSIONS.c.id).where(
        _SESSIONS.c.session_key == bindparam("key"),
        _SESSIONS.c.revision == bindparam("revision"),
    )
    rid = select(_RUBRICS.c.id).where(
        _RUBRICS.c.name == bindparam("rubric"),
        _RUBRICS.c.version == bindparam("rubric_version"),
    )
    bid: Any = (
        select(_BATCHES.c.id).where(_BATCHES.c.name == bindparam("batch")).scalar_subquery()
        if in_a_batch
        else null()
    )
    keys = select(
        sid.scalar_subquery().label("sid"), rid.scalar_subquery().label("rid"), bid.label("bid")
    ).subquery("keys")
    twin = _REVIEWS.alias("twin")
    twin_uid = (
        select(twin.c.uid)
        .where(
            twin.c.session_id == keys.c.sid,
            twin.c.reviewer == bindparam("reviewer"),
            twin.c.role == bindparam("role"),
            twin.c.batch_id == keys.c.bid if in_a_batch else twin.c.batch_id.is_(None),
            twin.c.conflict_of.is_(None),
        )
        .limit(1)
        .scalar_subquery()
    )
    r = _REVIEWS.c
    stored_tags = select(func.count()).where(_TAGS.c.review_id == r.id).scalar_subquery()
    kept_tags = (
        select(func.count())
        .where(_TAGS.c.review_id == r.id, _TAGS.c.tag.in_(bindparam("tags", expanding=True)))
        .scalar_subquery()
    )
    return select(
        keys.c.sid,
        keys.c.rid,
        keys.c.bid,
        *(r[k] for k in _Stored.__annotations__),
        twin_uid.label("twin_uid"),
        stored_tags.label("stored_tags"),
        kept_tags.label("kept_tags"),
    ).select_from(keys.outerjoin(_REVIEWS, r.uid == bindparam("uid")))


def _live_twin(review: Review, session_id: int, batch_id: int | None) -> Select[ReviewRow]:
    """The live review of the same item by the same reviewer in the same role (at most one:
    the database enforces it)."""
    return select(ReviewRow).where(
        ReviewRow.session_id == session_id,
        ReviewRow.reviewer == review.reviewer,
        ReviewRow.role == review.role.value,
        in_batch(batch_id),
        live_review(),
    )


def in_batch(batch_id: int | None) -> ColumnElement[bool]:
    """Reviews made in batch ``batch_id``; outside any batch when it is None."""
    return ReviewRow.batch_id.is_(None) if batch_id is None else ReviewRow.batch_id == batch_id


def _twin_conflict(s: OrmSession, review: Review, twin: ReviewRow) -> ConflictError:
    """A new review of an item the reviewer has a review of already: a conflict with that
    one. The attempted review takes the stored one's uid, so saving it again on purpose
    (*Keep mine*, with the stored version expected) updates the one live review."""
    mine = review.model_copy(update={"uid": twin.uid})
    return ConflictError(mine, review_from_row(s, twin), twin.version_id)


def _conflict_after_concurrent_insert(
    s: OrmSession, review: Review, session_id: int, batch_id: int | None
) -> ConflictError | None:
    """Read the review that won the race on a fresh connection (this transaction is
    spoiled) and report both; None when there is none (the database refused something else)."""
    with OrmSession(s.get_bind()) as fresh:
        twin = fresh.scalar(_live_twin(review, session_id, batch_id))
        return None if twin is None else _twin_conflict(fresh, review, twin)


def _conflict_after_concurrent_commit(s: OrmSession, review: Review) -> ConflictError:
    """Another transaction committed the review between our read and our write: read the
    committed version on a fresh connection (this transaction is spoiled) and report both."""
    bind = s.get_bind()
    stored: Review | None = None
    version: int | None = None
    if bind.dialect.name != "sqlite":  # SQLite writers are serialised: this cannot happen
        with OrmSession(bind) as fresh:
            row = fresh.scalar(select(ReviewRow).where(ReviewRow.uid == review.uid))
            if row is not None:
                stored, version = review_from_row(fresh, row), row.version_id
    return ConflictError(review, stored, version)


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
        steps=row.steps or {},
        suggestions=row.suggestions or {},
    )


def get_review(s: OrmSession, uid: str) -> Review | None:
    row = s.scalar(select(ReviewRow).where(ReviewRow.uid == uid))
    return review_from_row(s, row) if row is not None else None


def review_version(s: OrmSession, uid: str) -> int | None:
    """The stored ``version_id`` of a review (what optimistic locking compares), or None."""
    return s.scalar(select(ReviewRow.version_id).where(ReviewRow.uid == uid))


def mark_resolved(
    s: OrmSession, uid: str, *, actor: str, note: dict[str, Any], at: datetime | None = None
) -> None:
    """Settle the conflict of a kept-aside version (audited; the version itself is kept)."""
    row = s.scalar(select(ReviewRow).where(ReviewRow.uid == uid))
    if row is None or row.conflict_of is None:
        raise ReviewStoreError(f"review {uid} is not a version kept aside by a conflict")
    if row.resolved_at is not None:
        return  # settled already: settling again changes nothing
    now = at or datetime.now(UTC)
    row.resolved_at = now
    snapshot = _snapshot(row)
    s.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="resolve",
            review_uid=uid,
            session_id=row.session_id,
            before=snapshot,
            after={**snapshot, **note},
        )
    )


@dataclass(frozen=True)
class StoredReview:
    """A stored review with what the store keeps beside it."""

    review: Review
    version: int
    """Its ``version_id``: what the next save of it expects."""
    rubric_id: int
    id: int
    origin: str
    conflict_of: str | None
    """The uid of the review in use, for a version a merge kept aside beside it."""
    resolved_at: datetime | None


def _stored(s: OrmSession, row: ReviewRow) -> StoredReview:
    return StoredReview(
        review_from_row(s, row),
        row.version_id,
        row.rubric_id,
        row.id,
        row.origin,
        row.conflict_of,
        row.resolved_at,
    )


def stored_review(s: OrmSession, uid: str) -> StoredReview | None:
    row = s.scalar(select(ReviewRow).where(ReviewRow.uid == uid))
    return _stored(s, row) if row is not None else None


def review_statuses(
    s: OrmSession, reviewer: str, role: ReviewRole, batch_id: int | None
) -> dict[int, str]:
    """The status of each live review by ``reviewer`` in ``role``, by session id, in batch
    ``batch_id`` (outside any batch when None)."""
    q = select(ReviewRow.session_id, ReviewRow.status).where(
        ReviewRow.reviewer == reviewer,
        ReviewRow.role == role.value,
        live_review(),
        in_batch(batch_id),
    )
    return {sid: status for sid, status in s.execute(q)}


def live_review_by(
    s: OrmSession, session_id: int, reviewer: str, role: ReviewRole, batch_id: int | None
) -> StoredReview | None:
    """The live review of a session by ``reviewer`` in ``role``, in batch ``batch_id``
    (outside any batch when None); the newest, should there be several."""
    row = s.scalar(
        select(ReviewRow)
        .where(
            ReviewRow.session_id == session_id,
            ReviewRow.reviewer == reviewer,
            ReviewRow.role == role.value,
            live_review(),
            in_batch(batch_id),
        )
        .order_by(ReviewRow.id.desc())
        .limit(1)
    )
    return _stored(s, row) if row is not None else None


def submitted_reviews(
    s: OrmSession, session_id: int, batch_id: int | None, roles: Sequence[ReviewRole]
) -> list[StoredReview]:
    """The live submitted reviews of a session in batch ``batch_id`` (outside any batch when
    None) by people in ``roles``, by reviewer."""
    rows = s.scalars(
        select(ReviewRow)
        .where(
            ReviewRow.session_id == session_id,
            in_batch(batch_id),
            ReviewRow.status == ReviewStatus.SUBMITTED.value,
            live_review(),
            ReviewRow.role.in_([r.value for r in roles]),
        )
        .order_by(ReviewRow.reviewer, ReviewRow.id)
    ).all()
    return [_stored(s, r) for r in rows]


def open_conflicts(s: OrmSession) -> list[tuple[StoredReview, StoredReview]]:
    """(kept, in use) of every version a merge kept aside that is not settled yet, oldest
    first."""
    main = aliased(ReviewRow)
    q = (
        select(ReviewRow, main)
        .join(main, main.uid == ReviewRow.conflict_of)
        .where(ReviewRow.conflict_of.is_not(None), ReviewRow.resolved_at.is_(None))
        .order_by(ReviewRow.id)
    )
    return [(_stored(s, kept), _stored(s, current)) for kept, current in s.execute(q)]
