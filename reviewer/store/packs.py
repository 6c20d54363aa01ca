"""Rows behind review packs: copying a batch into a pack workspace with its exact rubric
version and session revisions, and the review history merges compare."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Select, select, text, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import aliased

from reviewer.domain.pack import AuditRecord, PackBatch, PackedPreference, PackedReview, PackItem
from reviewer.domain.preference import Preference
from reviewer.domain.review import Review, ReviewRole
from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Session
from reviewer.store.batches import batch_row
from reviewer.store.content import content_json
from reviewer.store.preferences import preference_from_row
from reviewer.store.preferences import row_sha256 as preference_row_sha256
from reviewer.store.reviews import live_review, review_from_row, row_sha256, snapshot_sha256
from reviewer.store.sessions import upsert_sessions
from reviewer.store.tables import (
    AssignmentRow,
    AuditEntry,
    BatchItemRow,
    BatchRow,
    MergeRow,
    PackItemRow,
    PackRow,
    PreferenceReviewRow,
    ReviewRow,
    RubricRow,
    SessionContent,
    SessionRow,
    WorkspaceMeta,
)

Tx = OrmSession
"""A unit of work as ``Workspace.read()`` and ``write()`` hand it out, for the services that
pass one to these functions (they import no SQLAlchemy themselves)."""


class PackStoreError(Exception):
    """A pack's content does not fit the workspace it is copied into; one line."""


def put_rubric(s: OrmSession, rubric: Rubric, created_at: datetime) -> int:
    """Store ``rubric`` under its own name and version (reviews refer to both)."""
    row = s.scalar(
        select(RubricRow).where(RubricRow.name == rubric.name, RubricRow.version == rubric.version)
    )
    if row is not None:
        if Rubric.model_validate(row.definition).content_key() != rubric.content_key():
            raise PackStoreError(
                f"rubric {rubric.name} v{rubric.version} differs from the one already here"
            )
        return row.id
    row = RubricRow(
        name=rubric.name,
        version=rubric.version,
        definition=rubric.model_dump(mode="json"),
        created_at=created_at,
    )
    s.add(row)
    s.flush()
    return row.id


def put_sessions(
    s: OrmSession, sessions: Sequence[tuple[Session, int]]
) -> dict[tuple[str, int], int]:
    """Store sessions at the revision numbers they have elsewhere; return their row ids.

    For a workspace that has none of these session keys yet (a fresh pack workspace).
    """
    ordered = sorted(sessions, key=lambda p: (p[0].id, p[1]))
    upsert_sessions(s, [sess for sess, _ in ordered])
    wanted: dict[str, list[int]] = defaultdict(list)
    for sess, revision in ordered:
        wanted[sess.id].append(revision)
    ids: dict[tuple[str, int], int] = {}
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        rows = s.execute(
            select(SessionRow.session_key, SessionRow.revision, SessionRow.id)
            .where(SessionRow.session_key.in_(keys[start : start + 500]))
            .order_by(SessionRow.session_key, SessionRow.revision.desc())
        )
        stored: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for key, rev, pk in rows:
            stored[key].append((rev, pk))
        for key, revs in stored.items():
            targets = sorted(wanted[key], reverse=True)
            if len(revs) != len(targets):
                raise PackStoreError(f"session {key!r} is in the pack twice with equal content")
            # Highest first: each target revision is at least the stored one, so no two
            # rows ever share a (key, revision) on the way.
            for (rev, pk), target in zip(revs, targets, strict=True):
                if rev != target:
                    s.execute(update(SessionRow).where(SessionRow.id == pk).values(revision=target))
                ids[(key, target)] = pk
    return ids


def put_batch(
    s: OrmSession,
    batch: PackBatch,
    rubric_id: int,
    items: Iterable[PackItem],
    session_ids: dict[tuple[str, int], int],
    reviewer: str,
) -> int:
    """The batch with the reviewer's items, each assigned to the reviewer."""
    row = BatchRow(
        name=batch.name,
        spec=batch.spec,
        rubric_id=rubric_id,
        blind=batch.blind,
        created_at=batch.created_at,
        population=batch.population,
        strata=batch.strata,
    )
    s.add(row)
    s.flush()
    for item in items:
        pair = item.pair
        entry = BatchItemRow(
            batch_id=row.id,
            session_id=session_ids[(item.session_key, item.session_revision)],
            position=item.position,
            stratum=item.stratum,
            inclusion_probability=item.inclusion_probability,
            is_gold=item.is_gold,
            pair_session_id=(
                None if pair is None else session_ids[(pair.session_key, pair.session_revision)]
            ),
            pair_left=None if pair is None else pair.left,
            pair_key=None if pair is None else pair.task_key,
        )
        s.add(entry)
        s.flush()
        s.add(
            AssignmentRow(
                item_id=entry.id, reviewer=reviewer, claimed_at=item.claimed_at, lease_until=None
            )
        )
    s.flush()
    return row.id


def pack_session_ids(s: OrmSession, pack_row_id: int) -> set[int]:
    """The session revisions (row ids) a pack carried, as recorded when it was made."""
    return set(
        s.scalars(select(PackItemRow.session_id).where(PackItemRow.pack_row_id == pack_row_id))
    )


def history_hashes(
    s: OrmSession,
    uids: Iterable[str],
    digest_of: Callable[[dict[str, Any] | None], str | None] = snapshot_sha256,
) -> dict[str, set[str]]:
    """For each review uid (or preference uid, with ``digest_of`` its hash): hashes of every
    state its audit entries recorded."""
    out: dict[str, set[str]] = defaultdict(set)
    wanted = list(dict.fromkeys(uids))
    for start in range(0, len(wanted), 500):
        rows = s.execute(
            select(AuditEntry.review_uid, AuditEntry.before, AuditEntry.after).where(
                AuditEntry.review_uid.in_(wanted[start : start + 500])
            )
        )
        for uid, before, after in rows:
            for snap in (before, after):
                digest = digest_of(snap)
                if digest is not None and uid is not None:
                    out[uid].add(digest)
    return out


def _entry_key(e: AuditEntry | dict[str, Any]) -> tuple[Any, ...]:
    get = e.get if isinstance(e, dict) else lambda k: getattr(e, k)
    at = get("at")
    assert isinstance(at, datetime)
    return (
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        get("actor"),
        get("action"),
        get("review_uid"),
        _canon(get("before")),
        _canon(get("after")),
    )


def _canon(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def import_audit(
    s: OrmSession, records: Sequence[tuple[AuditRecord, str]], session_ids: Mapping[str, int | None]
) -> int:
    """Append audit records made elsewhere, each under the given review uid; records already
    in the log (same time, actor, action, uid, before and after) are not added again."""
    uids = list({uid for _, uid in records})
    present: set[tuple[Any, ...]] = set()
    for start in range(0, len(uids), 500):
        for entry in s.scalars(
            select(AuditEntry).where(AuditEntry.review_uid.in_(uids[start : start + 500]))
        ):
            present.add(_entry_key(entry))
    added = 0
    for rec, uid in records:
        row = {
            "at": rec.at,
            "actor": rec.actor,
            "action": rec.action,
            "review_uid": uid,
            "session_id": session_ids.get(uid),
            "before": rec.before,
            "after": rec.after,
        }
        key = _entry_key(row)
        if key in present:
            continue
        present.add(key)
        s.add(AuditEntry(**row))
        added += 1
    s.flush()
    return added


MERGE_LOCK_KEY = 0x52455649_4D524745  # "REVI" "MRGE": one merge at a time on PostgreSQL


# Making a pack (the lead's workspace)


@dataclass(frozen=True)
class BatchForPack:
    id: int
    rubric_id: int
    batch: PackBatch


@dataclass(frozen=True)
class ItemForPack:
    """One assigned item of a batch, with its session(s) as the batch holds them."""

    position: int
    stratum: str | None
    inclusion_probability: float
    claimed_at: datetime | None
    session_id: int
    session_key: str
    session_revision: int
    pair_session_id: int | None = None
    pair_session_key: str | None = None
    pair_session_revision: int | None = None
    pair_left: str | None = None
    pair_key: str | None = None


def batch_for_pack(s: OrmSession, name: str) -> BatchForPack | None:
    row = batch_row(s, name)
    if row is None:
        return None
    batch = PackBatch(
        name=row.name,
        spec=row.spec,
        blind=row.blind,
        created_at=row.created_at,
        population=row.population,
        strata=row.strata,
    )
    return BatchForPack(row.id, row.rubric_id, batch)


def items_for_pack(s: OrmSession, batch_id: int, reviewer: str) -> list[ItemForPack]:
    """``reviewer``'s items of the batch in batch order (both sessions of a pair item)."""
    right = aliased(SessionRow)
    rows = s.execute(
        select(
            BatchItemRow,
            AssignmentRow.claimed_at,
            SessionRow.session_key,
            SessionRow.revision,
            right.session_key,
            right.revision,
        )
        .join(AssignmentRow, AssignmentRow.item_id == BatchItemRow.id)
        .join(SessionRow, SessionRow.id == BatchItemRow.session_id)
        .outerjoin(right, right.id == BatchItemRow.pair_session_id)
        .where(BatchItemRow.batch_id == batch_id, AssignmentRow.reviewer == reviewer)
        .order_by(BatchItemRow.position)
    ).all()
    return [
        ItemForPack(
            position=item.position,
            stratum=item.stratum,
            inclusion_probability=item.inclusion_probability,
            claimed_at=claimed,
            session_id=item.session_id,
            session_key=key,
            session_revision=rev,
            pair_session_id=item.pair_session_id,
            pair_session_key=rkey,
            pair_session_revision=rrev,
            pair_left=item.pair_left,
            pair_key=item.pair_key,
        )
        for item, claimed, key, rev, rkey, rrev in rows
    ]


def session_json(s: OrmSession, session_id: int) -> bytes:
    """The canonical JSON of a stored session revision."""
    data = s.scalar(select(SessionContent.data).where(SessionContent.session_id == session_id))
    assert data is not None, f"session {session_id} has no content"
    return content_json(data)


def reviews_for_pack(
    s: OrmSession, batch_id: int, reviewer: str, session_ids: Sequence[int]
) -> list[tuple[PackedReview, int]]:
    """The reviewer's live ``reviewer`` reviews of these sessions in the batch, each with its
    rubric id: only what a pack may change (a lead's adjudicator or gold reviews, and reviews
    of items not in it, stay at home)."""
    rows = s.scalars(
        select(ReviewRow)
        .where(
            ReviewRow.batch_id == batch_id,
            ReviewRow.reviewer == reviewer,
            ReviewRow.role == ReviewRole.REVIEWER.value,
            ReviewRow.session_id.in_(session_ids),
            live_review(),
        )
        .order_by(ReviewRow.id)
    )
    return [
        (
            PackedReview(review=review_from_row(s, r), version=r.version_id, sha256=row_sha256(r)),
            r.rubric_id,
        )
        for r in rows
    ]


def preferences_for_pack(
    s: OrmSession, batch_id: int, batch: str, reviewer: str
) -> list[PackedPreference]:
    """The reviewer's preferences of the batch's pair items assigned to them."""
    rows = s.execute(
        select(PreferenceReviewRow, BatchItemRow.position)
        .join(BatchItemRow, BatchItemRow.id == PreferenceReviewRow.item_id)
        .join(
            AssignmentRow,
            (AssignmentRow.item_id == BatchItemRow.id) & (AssignmentRow.reviewer == reviewer),
        )
        .where(BatchItemRow.batch_id == batch_id, PreferenceReviewRow.reviewer == reviewer)
        .order_by(BatchItemRow.position)
    ).all()
    return [
        PackedPreference(
            preference=preference_from_row(row, batch, pos), sha256=preference_row_sha256(row)
        )
        for row, pos in rows
    ]


def record_pack(
    s: OrmSession,
    *,
    pack_id: str,
    batch_id: int,
    reviewer: str,
    created_at: datetime,
    checksum: str,
    secret: str,
    rubric_id: int,
    session_ids: Iterable[int],
) -> None:
    """What the results may touch, recorded when the pack is made: the secret they must be
    signed with, the rubric version and the session revisions (items) the pack carries."""
    row = PackRow(
        pack_id=pack_id,
        batch_id=batch_id,
        reviewer=reviewer,
        created_at=created_at,
        checksum=checksum,
        secret=secret,
        rubric_id=rubric_id,
    )
    s.add(row)
    s.flush()
    s.add_all(PackItemRow(pack_row_id=row.id, session_id=sid) for sid in session_ids)


# The pack's own workspace (the reviewer's side)


def meta_with_prefix(s: OrmSession, prefix: str) -> dict[str, str]:
    rows = s.scalars(select(WorkspaceMeta).where(WorkspaceMeta.key.like(f"{prefix}%")))
    return {r.key: r.value for r in rows}


def put_meta(s: OrmSession, values: Mapping[str, str]) -> None:
    for key, value in values.items():
        s.merge(WorkspaceMeta(key=key, value=value))


def all_reviews(s: OrmSession) -> list[tuple[Review, str]]:
    """Every review with the hash of its audited content, in the order they were stored."""
    rows = s.scalars(select(ReviewRow).order_by(ReviewRow.id))
    return [(review_from_row(s, r), row_sha256(r)) for r in rows]


def all_preferences(s: OrmSession) -> list[tuple[Preference, str]]:
    """Every preference with the hash of its audited content, in the order they were stored."""
    rows = s.execute(
        select(PreferenceReviewRow, BatchItemRow.position, BatchRow.name)
        .join(BatchItemRow, BatchItemRow.id == PreferenceReviewRow.item_id)
        .join(BatchRow, BatchRow.id == BatchItemRow.batch_id)
        .order_by(PreferenceReviewRow.id)
    ).all()
    return [(preference_from_row(r, name, pos), preference_row_sha256(r)) for r, pos, name in rows]


# Merging results (the lead's workspace)


@dataclass(frozen=True)
class PackRecord:
    """What this workspace recorded of a pack when it made it."""

    id: int
    reviewer: str
    secret: str | None
    checksum: str
    batch_id: int
    batch: str
    rubric: tuple[str, int] | None


def find_pack(s: OrmSession, pack_id: str) -> PackRecord | None:
    found = s.execute(
        select(PackRow, BatchRow.name)
        .join(BatchRow, BatchRow.id == PackRow.batch_id)
        .where(PackRow.pack_id == pack_id)
    ).first()
    if found is None:
        return None
    pack, batch = found
    rubric = s.get(RubricRow, pack.rubric_id) if pack.rubric_id is not None else None
    return PackRecord(
        id=pack.id,
        reviewer=pack.reviewer,
        secret=pack.secret,
        checksum=pack.checksum,
        batch_id=pack.batch_id,
        batch=batch,
        rubric=(rubric.name, rubric.version) if rubric is not None else None,
    )


def pack_pair_items(s: OrmSession, pack: PackRecord) -> dict[int, int]:
    """Batch position → item id of the pair items a pack carried."""
    rows = s.execute(
        select(BatchItemRow.position, BatchItemRow.id).where(
            BatchItemRow.batch_id == pack.batch_id,
            BatchItemRow.pair_session_id.is_not(None),
            BatchItemRow.session_id.in_(
                select(PackItemRow.session_id).where(PackItemRow.pack_row_id == pack.id)
            ),
        )
    )
    return {pos: item_id for pos, item_id in rows}


def revision_id(s: OrmSession, key: str, revision: int) -> int | None:
    """The row id of revision ``revision`` of session ``key``."""
    return s.scalar(
        select(SessionRow.id).where(SessionRow.session_key == key, SessionRow.revision == revision)
    )


def review_identity(s: OrmSession, uid: str) -> tuple[Any, ...] | None:
    """(reviewer, session id, role, batch id, rubric name, rubric version) of review ``uid``."""
    found = s.execute(
        select(
            ReviewRow.reviewer,
            ReviewRow.session_id,
            ReviewRow.role,
            ReviewRow.batch_id,
            RubricRow.name,
            RubricRow.version,
        )
        .join(RubricRow, RubricRow.id == ReviewRow.rubric_id)
        .where(ReviewRow.uid == uid)
    ).first()
    return None if found is None else tuple(found)


def own_review_uids(
    s: OrmSession, uids: Iterable[str], reviewer: str, batch_id: int, session_ids: Iterable[int]
) -> set[str]:
    """Which of ``uids`` are ``reviewer``'s ``reviewer`` reviews of these sessions in the batch."""
    mine = select(ReviewRow.uid).where(
        ReviewRow.reviewer == reviewer,
        ReviewRow.role == ReviewRole.REVIEWER.value,
        ReviewRow.batch_id == batch_id,
        ReviewRow.session_id.in_(sorted(set(session_ids))),
    )
    return _among(s, mine, ReviewRow.uid, uids)


def own_preference_uids(
    s: OrmSession, uids: Iterable[str], reviewer: str, item_ids: Iterable[int]
) -> set[str]:
    """Which of ``uids`` are ``reviewer``'s preferences of these pair items."""
    mine = select(PreferenceReviewRow.uid).where(
        PreferenceReviewRow.reviewer == reviewer,
        PreferenceReviewRow.item_id.in_(sorted(set(item_ids))),
    )
    return _among(s, mine, PreferenceReviewRow.uid, uids)


def _among(s: OrmSession, query: Select[Any], uid: Any, uids: Iterable[str]) -> set[str]:
    """The uids ``query`` selects among ``uids`` (asked 500 at a time)."""
    wanted = sorted(set(uids))
    out: set[str] = set()
    for start in range(0, len(wanted), 500):
        out.update(s.scalars(query.where(uid.in_(wanted[start : start + 500]))))
    return out


def merged_hashes(s: OrmSession) -> set[str]:
    """SHA-256 of every results file merged here."""
    return set(s.scalars(select(MergeRow.results_sha256)))


def start_merge(s: OrmSession, results_sha256: str, postgres: bool) -> bool:
    """Take the merge lock (PostgreSQL; SQLite's writer serialises) and say whether this
    results file was merged already."""
    if postgres:
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MERGE_LOCK_KEY})
    found = s.scalar(select(MergeRow.id).where(MergeRow.results_sha256 == results_sha256))
    return found is not None


def record_merge(
    s: OrmSession, results_sha256: str, pack_id: str, counts: Mapping[str, int]
) -> None:
    s.add(
        MergeRow(
            results_sha256=results_sha256,
            pack_id=pack_id,
            merged_at=datetime.now(UTC),
            added=counts["added"],
            updated=counts["updated"],
            skipped=counts["skipped"],
            flagged=counts["flagged"],
        )
    )


@dataclass(frozen=True)
class StoredVersion:
    uid: str
    sha256: str
    conflict_of: str | None


def review_versions(s: OrmSession, uid: str) -> list[StoredVersion]:
    """Review ``uid`` (first) and every version a merge kept aside beside it; [] if none."""
    row = s.scalar(select(ReviewRow).where(ReviewRow.uid == uid))
    if row is None:
        return []
    copies = s.scalars(select(ReviewRow).where(ReviewRow.conflict_of == uid))
    return [StoredVersion(r.uid, row_sha256(r), r.conflict_of) for r in [row, *copies]]


def live_twin(
    s: OrmSession, session_id: int | None, reviewer: str, role: str, batch: str | None
) -> str | None:
    """The uid of the live review of this item by this reviewer in this role, if any."""
    return s.scalar(
        select(ReviewRow.uid)
        .where(
            ReviewRow.session_id == session_id,
            ReviewRow.reviewer == reviewer,
            ReviewRow.role == role,
            ReviewRow.batch_id
            == select(BatchRow.id).where(BatchRow.name == batch).scalar_subquery(),
            live_review(),
        )
        .order_by(ReviewRow.id)
        .limit(1)
    )


def audited_session_ids(s: OrmSession, uids: Iterable[str]) -> dict[str, int]:
    """Review or preference uid → the session its audit entries belong to (a pair item's
    left session), for the uids stored here."""
    wanted = sorted(set(uids))
    out: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        reviews = s.execute(
            select(ReviewRow.uid, ReviewRow.session_id).where(ReviewRow.uid.in_(chunk))
        )
        prefs = s.execute(
            select(PreferenceReviewRow.uid, BatchItemRow.session_id)
            .join(BatchItemRow, BatchItemRow.id == PreferenceReviewRow.item_id)
            .where(PreferenceReviewRow.uid.in_(chunk))
        )
        out.update({uid: sid for uid, sid in [*reviews, *prefs]})
    return out
