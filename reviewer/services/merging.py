"""Merging results of offline review packs into the lead's workspace.

Idempotent (a file merged before changes nothing; recorded by its SHA-256), independent of
the order files arrive in, nothing overwritten silently and nothing deleted: a review edited
both here and in the pack since the pack was made, or a second review of the same item by
the same reviewer, is kept beside the one in use (``conflict_of`` set) for a lead to resolve.
"""

from __future__ import annotations

import getpass
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select, text
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.pack import (
    AUDIT_ENTRY,
    RESULTS_FORMAT,
    REVIEWS_ENTRY,
    AuditRecord,
    ResultReview,
    ResultsManifest,
)
from reviewer.domain.review import Review
from reviewer.domain.rubric import Rubric
from reviewer.services.backups import backup_now
from reviewer.services.packfile import PackFileError, SealedFile, file_sha256, validation_line
from reviewer.store.packs import history_hashes, import_audit
from reviewer.store.reviews import (
    ConflictError,
    ReviewStoreError,
    review_snapshot,
    row_sha256,
    save_review,
    snapshot_sha256,
)
from reviewer.store.rubrics import find_rubric
from reviewer.store.tables import BatchRow, MergeRow, PackRow, ReviewRow, SessionRow
from reviewer.store.workspace import Workspace

MERGE_LOCK_KEY = 0x52455649_4D524745  # "REVI" "MRGE": one merge at a time on PostgreSQL
MERGE_ATTEMPTS = 3
"""A review saved by someone else while a file merges spoils that file's transaction: retry."""


class MergeError(Exception):
    """A results file cannot be merged (damaged, changed, from elsewhere); one line. When
    raised, nothing was merged."""


class MergeConflict(BaseModel):
    """Two versions of one reviewer's review of one item, both kept."""

    session_key: str
    session_revision: int
    reviewer: str
    review_uid: str
    """The version in use."""
    kept_uid: str
    """The version kept beside it (its ``conflict_of`` is ``review_uid``)."""
    reason: str


class FileMerge(BaseModel):
    """What merging one results file did."""

    path: str
    sha256: str
    pack_id: str
    reviewer: str
    batch: str
    already_merged: bool = False
    added: int = 0
    updated: int = 0
    skipped: int = 0
    flagged: int = 0
    conflicts: list[MergeConflict] = Field(default_factory=list)


class MergeReport(BaseModel):
    """`reviewer merge --json`: totals over every file, then each file."""

    added: int = 0
    updated: int = 0
    skipped: int = 0
    flagged: int = 0
    backup: str | None = None
    """Copy of the workspace taken before merging (SQLite workspaces)."""
    files: list[FileMerge] = Field(default_factory=list)


@dataclass
class _Results:
    path: Path
    sha256: str
    manifest: ResultsManifest
    reviews: list[ResultReview]
    audit: list[AuditRecord]


def merge_results(ws: Workspace, paths: Sequence[Path], *, actor: str | None = None) -> MergeReport:
    """Merge results files into ``ws``. Every file is checked before anything changes; a
    file that does not belong here raises :class:`MergeError` and nothing is merged."""
    actor = actor or getpass.getuser()
    loaded: dict[str, _Results] = {}
    for path in paths:
        results = _load(path)
        loaded.setdefault(results.sha256, results)
    workspace_id = ws.workspace_id
    rubrics: dict[tuple[str, int], Rubric] = {}
    for results in loaded.values():
        _check_fits(ws, results, workspace_id, rubrics)
    report = MergeReport()
    with ws.read() as s:
        seen = set(s.scalars(select(MergeRow.results_sha256)))
    if set(loaded) - seen and ws.is_sqlite and ws.path is not None:
        report.backup = str(backup_now(ws.path, "pre-merge"))
    # A fixed order inside one call; the rules below make the outcome independent of it.
    for sha in sorted(loaded):
        done = _merge_file(ws, loaded[sha], actor, rubrics)
        report.files.append(done)
        report.added += done.added
        report.updated += done.updated
        report.skipped += done.skipped
        report.flagged += done.flagged
    report.files.sort(key=lambda f: [str(p) for p in paths].index(f.path))
    return report


def _load(path: Path) -> _Results:
    name = path.name
    if not path.is_file():
        raise MergeError(f"{path}: no such file")
    try:
        with SealedFile(path, RESULTS_FORMAT, "results file") as f:
            manifest = ResultsManifest.model_validate(f.manifest)
            reviews = [ResultReview.model_validate_json(x) for x in f.lines(REVIEWS_ENTRY)]
            audit = [AuditRecord.model_validate_json(x) for x in f.lines(AUDIT_ENTRY)]
    except PackFileError as exc:
        raise MergeError(str(exc)) from None
    except ValidationError as exc:
        raise MergeError(f"{name} is malformed ({validation_line(exc)})") from None
    for rr in reviews:
        if snapshot_sha256(review_snapshot(rr.review)) != rr.sha256:
            raise MergeError(f"{name} fails its checksum: review {rr.review.uid} was changed")
    return _Results(path, file_sha256(path), manifest, reviews, audit)


def _check_fits(
    ws: Workspace,
    results: _Results,
    workspace_id: str,
    rubrics: dict[tuple[str, int], Rubric],
) -> None:
    """Refuse, with one clear line, a file that does not belong in this workspace."""
    m = results.manifest
    name = results.path.name
    if m.workspace_id != workspace_id:
        raise MergeError(
            f"{name} comes from another workspace ({m.workspace_id[:8]}…, this one is "
            f"{workspace_id[:8]}…); nothing was merged"
        )
    with ws.read() as s:
        pack = s.scalar(select(PackRow).where(PackRow.pack_id == m.pack_id))
        if pack is None:
            raise MergeError(
                f"{name} answers pack {m.pack_id[:8]}…, which this workspace never made"
            )
        if pack.checksum != m.pack_checksum:
            raise MergeError(
                f"{name} answers a pack whose checksum differs from pack {m.pack_id[:8]}… "
                "as it was made here; nothing was merged"
            )
        batch = s.get(BatchRow, pack.batch_id)
        assert batch is not None
        if pack.reviewer != m.reviewer or batch.name != m.batch:
            raise MergeError(f"{name} does not match pack {m.pack_id[:8]}… (reviewer or batch)")
        for rr in results.reviews:
            r = rr.review
            if r.reviewer != pack.reviewer:
                raise MergeError(
                    f"{name} holds a review by {r.reviewer} in {pack.reviewer}'s pack; "
                    "nothing was merged"
                )
            if r.batch != batch.name:
                raise MergeError(f"{name} holds a review outside batch {batch.name!r}")
            key = (r.rubric_name, r.rubric_version)
            if key not in rubrics:
                found = find_rubric(s, *key)
                if found is None:
                    raise MergeError(f"{name} uses rubric {key[0]} v{key[1]}, unknown here")
                rubrics[key] = found[1]
            problems = rubrics[key].problems(r.values)
            if problems:
                raise MergeError(f"{name}: review {r.uid}: {'; '.join(problems)}")
            session_id = _session_id(s, r.session_key, r.session_revision)
            if session_id is None:
                raise MergeError(
                    f"{name} reviews session {r.session_key!r} revision {r.session_revision}, "
                    "which this workspace does not have"
                )
            here = s.execute(
                select(ReviewRow.reviewer, ReviewRow.session_id).where(ReviewRow.uid == r.uid)
            ).first()
            if here is not None and tuple(here) != (r.reviewer, session_id):
                raise MergeError(
                    f"{name}: review {r.uid} is another reviewer's or session's here; "
                    "nothing was merged"
                )


def _session_id(s: OrmSession, key: str, revision: int) -> int | None:
    return s.scalar(
        select(SessionRow.id).where(SessionRow.session_key == key, SessionRow.revision == revision)
    )


def kept_copy_uid(uid: str, pack_id: str) -> str:
    """The uid under which a pack's conflicting version of review ``uid`` is kept: one per
    review and pack, so later results of the same pack update it instead of piling up."""
    return hashlib.sha256(f"{uid}\x00{pack_id}".encode()).hexdigest()[:32]


def _merge_file(
    ws: Workspace, results: _Results, actor: str, rubrics: dict[tuple[str, int], Rubric]
) -> FileMerge:
    for attempt in range(MERGE_ATTEMPTS):
        try:
            with ws.write() as s:
                return _merge_in(s, ws, results, actor, rubrics)
        except ReviewStoreError as exc:
            if not isinstance(exc, ConflictError):
                raise MergeError(f"{results.path.name}: {exc}; it was not merged") from None
            if attempt == MERGE_ATTEMPTS - 1:
                raise MergeError(
                    f"{results.path.name}: reviews kept changing while merging; try again"
                ) from None
    raise AssertionError("unreachable")


def _merge_in(
    s: OrmSession,
    ws: Workspace,
    results: _Results,
    actor: str,
    rubrics: dict[tuple[str, int], Rubric],
) -> FileMerge:
    m = results.manifest
    done = FileMerge(
        path=str(results.path),
        sha256=results.sha256,
        pack_id=m.pack_id,
        reviewer=m.reviewer,
        batch=m.batch,
    )
    if not ws.is_sqlite:
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MERGE_LOCK_KEY})
    if s.scalar(select(MergeRow.id).where(MergeRow.results_sha256 == results.sha256)):
        done.already_merged = True
        done.skipped = len(results.reviews)
        return done
    homes: dict[str, str] = {}
    for rr in results.reviews:
        _merge_review(s, rr, done, homes, actor, rubrics)
    kept = [
        (rec, homes.get(rec.review_uid, rec.review_uid))
        for rec in results.audit
        if rec.review_uid is not None
    ]
    uids = {uid for _, uid in kept}
    session_ids = {
        uid: sid
        for uid, sid in s.execute(
            select(ReviewRow.uid, ReviewRow.session_id).where(ReviewRow.uid.in_(uids))
        )
    }
    import_audit(s, [(rec, uid) for rec, uid in kept if uid in session_ids], session_ids)
    s.add(
        MergeRow(
            results_sha256=results.sha256,
            pack_id=m.pack_id,
            merged_at=datetime.now(UTC),
            added=done.added,
            updated=done.updated,
            skipped=done.skipped,
            flagged=done.flagged,
        )
    )
    return done


def _merge_review(
    s: OrmSession,
    rr: ResultReview,
    done: FileMerge,
    homes: dict[str, str],
    actor: str,
    rubrics: dict[tuple[str, int], Rubric],
) -> None:
    review = rr.review
    uid = review.uid
    rubric = rubrics[(review.rubric_name, review.rubric_version)]
    origin = f"pack:{done.pack_id}"
    note = {"pack_id": done.pack_id}
    incoming = rr.sha256
    homes[uid] = uid
    if rr.base_sha256 == incoming:
        done.skipped += 1  # not changed offline
        return
    row = s.scalar(select(ReviewRow).where(ReviewRow.uid == uid))
    if row is None:
        session_id = _session_id(s, review.session_key, review.session_revision)
        main = s.scalar(
            select(ReviewRow)
            .where(
                ReviewRow.session_id == session_id,
                ReviewRow.reviewer == review.reviewer,
                ReviewRow.role == review.role.value,
                ReviewRow.batch_id
                == select(BatchRow.id).where(BatchRow.name == review.batch).scalar_subquery(),
                ReviewRow.conflict_of.is_(None),
            )
            .order_by(ReviewRow.id)
            .limit(1)
        )
        if main is None:
            save_review(
                s, review, rubric, actor=actor, origin=origin, action="merge", audit_note=note
            )
            done.added += 1
            return
        save_review(
            s,
            review,
            rubric,
            actor=actor,
            origin=origin,
            action="conflict",
            conflict_of=main.uid,
            audit_note=note,
        )
        done.flagged += 1
        done.conflicts.append(
            _conflict(review, main.uid, uid, "a second review of the same item by this reviewer")
        )
        return
    copies = list(s.scalars(select(ReviewRow).where(ReviewRow.conflict_of == uid)))
    versions = [row, *copies]
    history = history_hashes(s, [v.uid for v in versions])
    for v in versions:
        if incoming == row_sha256(v) or incoming in history.get(v.uid, set()):
            homes[uid] = v.uid
            done.skipped += 1  # this version is here already (or was, and moved on)
            return
    offline = {rr.base_sha256, *rr.history, incoming} - {None}
    if row_sha256(row) in offline:
        save_review(s, review, rubric, actor=actor, origin=origin, action="merge", audit_note=note)
        done.updated += 1
        return
    main_uid = row.conflict_of or uid
    copy_uid = kept_copy_uid(uid, done.pack_id)
    save_review(
        s,
        review.model_copy(update={"uid": copy_uid}),
        rubric,
        actor=actor,
        origin=origin,
        action="conflict",
        conflict_of=main_uid,
        audit_note=note,
    )
    homes[uid] = copy_uid
    done.flagged += 1
    done.conflicts.append(
        _conflict(review, main_uid, copy_uid, "edited here and in the pack since it was made")
    )


def _conflict(review: Review, main_uid: str, kept_uid: str, reason: str) -> MergeConflict:
    return MergeConflict(
        session_key=review.session_key,
        session_revision=review.session_revision,
        reviewer=review.reviewer,
        review_uid=main_uid,
        kept_uid=kept_uid,
        reason=reason,
    )
