"""Merging results of offline review packs into the lead's workspace.

Idempotent (a file merged before changes nothing; recorded by its SHA-256), independent of
the order files arrive in, nothing overwritten silently and nothing deleted: a review edited
both here and in the pack since the pack was made, or a second review of the same item by
the same reviewer, is kept beside the one in use (``conflict_of`` set) for a lead to resolve.

A results file is untrusted: it must be signed with the secret this workspace keeps for its
pack (HMAC, compared in constant time), and it may only hold reviews by the pack's reviewer,
with role ``reviewer``, in the pack's batch, on the session revisions recorded for the pack
when it was made, under the pack's rubric version (or the one the review already has here);
and audit entries by that reviewer about those reviews. Anything else is refused and listed,
and nothing is merged.
"""

from __future__ import annotations

import getpass
import hashlib
import re
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
from reviewer.domain.review import Review, ReviewRole
from reviewer.domain.rubric import Rubric
from reviewer.packfile import (
    PackFileError,
    SealedFile,
    file_sha256,
    mac_matches,
    validation_line,
)
from reviewer.services.backups import backup_now
from reviewer.store.packs import history_hashes, import_audit, pack_session_ids
from reviewer.store.reviews import (
    ConflictError,
    ReviewStoreError,
    live_review,
    review_snapshot,
    row_sha256,
    save_review,
    snapshot_sha256,
)
from reviewer.store.rubrics import find_rubric
from reviewer.store.tables import BatchRow, MergeRow, PackRow, ReviewRow, RubricRow, SessionRow
from reviewer.store.workspace import Workspace

MERGE_LOCK_KEY = 0x52455649_4D524745  # "REVI" "MRGE": one merge at a time on PostgreSQL
MERGE_ATTEMPTS = 3
"""A review saved by someone else while a file merges spoils that file's transaction: retry."""


REVIEW_UID = re.compile(r"[0-9A-Za-z_-]{1,64}")
SHOWN_REFUSALS = 3
"""How many refusals the one-line message names (all are in ``MergeError.refused``)."""


class Refusal(BaseModel):
    """One review or audit entry of a results file that merging refused, and why."""

    file: str
    review_uid: str | None = None
    session_key: str | None = None
    reason: str

    def line(self) -> str:
        what = f"review {self.review_uid[:8]}" if self.review_uid else "an entry"
        where = f" of {self.session_key}" if self.session_key else ""
        return f"{self.file}: {what}{where}: {self.reason}"


class MergeError(Exception):
    """A results file cannot be merged (damaged, forged, from elsewhere); one line. When
    raised, nothing was merged. ``refused`` lists every review or entry refused."""

    def __init__(self, message: str, refused: Sequence[Refusal] = ()) -> None:
        super().__init__(message)
        self.refused = list(refused)

    @classmethod
    def of(cls, refused: Sequence[Refusal]) -> MergeError:
        shown = "; ".join(r.line() for r in refused[:SHOWN_REFUSALS])
        more = len(refused) - SHOWN_REFUSALS
        files = sorted({r.file for r in refused})
        return cls(
            f"refused {len(refused)} review(s) or entries of {', '.join(files)}, so nothing "
            f"was merged: {shown}" + (f"; and {more} more" if more > 0 else ""),
            refused,
        )


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
    raw: dict[str, object]
    """The manifest as read (its HMAC is checked against the secret kept here)."""
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
    refused: list[Refusal] = []
    for results in loaded.values():
        refused += _check_fits(ws, results, workspace_id, rubrics)
    if refused:
        raise MergeError.of(refused)
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
            raw = f.manifest
            manifest = ResultsManifest.model_validate(raw)
            reviews = [ResultReview.model_validate_json(x) for x in f.lines(REVIEWS_ENTRY)]
            audit = [AuditRecord.model_validate_json(x) for x in f.lines(AUDIT_ENTRY)]
    except PackFileError as exc:
        raise MergeError(str(exc)) from None
    except ValidationError as exc:
        raise MergeError(f"{name} is malformed ({validation_line(exc)})") from None
    for rr in reviews:
        if snapshot_sha256(review_snapshot(rr.review)) != rr.sha256:
            raise MergeError(f"{name} fails its checksum: review {rr.review.uid} was changed")
    return _Results(path, file_sha256(path), manifest, raw, reviews, audit)


def _check_fits(
    ws: Workspace,
    results: _Results,
    workspace_id: str,
    rubrics: dict[tuple[str, int], Rubric],
) -> list[Refusal]:
    """Refuse, with one clear line, a file that does not belong in this workspace or is not
    signed with its pack's secret; then list every review and audit entry in it that the
    pack does not allow (see the module docstring)."""
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
        if pack.secret is None:
            raise MergeError(
                f"{name} answers pack {m.pack_id[:8]}…, made by an older version of AgentOps "
                "Reviewer before packs were authenticated; its results are refused: make "
                f"{pack.reviewer} a new pack (`reviewer pack create`); nothing was merged"
            )
        if not mac_matches(results.raw, bytes.fromhex(pack.secret)):
            raise MergeError(
                f"{name} fails its authentication: it is not signed with the secret of pack "
                f"{m.pack_id[:8]}… (changed after it was written, or forged); nothing was merged"
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
        items = pack_session_ids(s, pack.id)
        if len(results.reviews) > len(items):
            raise MergeError(
                f"{name} holds {len(results.reviews)} reviews for a pack of {len(items)} "
                "items; nothing was merged"
            )
        rubric_row = s.get(RubricRow, pack.rubric_id) if pack.rubric_id is not None else None
        pack_rubric = (rubric_row.name, rubric_row.version) if rubric_row else None
        refused: list[Refusal] = []
        allowed_uids: set[str] = set()
        seen: set[str] = set()
        for rr in results.reviews:
            r = rr.review

            def refuse(reason: str, r: Review = r) -> None:
                refused.append(
                    Refusal(file=name, review_uid=r.uid, session_key=r.session_key, reason=reason)
                )

            if REVIEW_UID.fullmatch(r.uid) is None:
                refuse("its id is not a review id")
                continue
            if r.uid in seen:
                refuse("it appears twice in the file")
                continue
            seen.add(r.uid)
            if r.reviewer != pack.reviewer:
                refuse(f"it is by {r.reviewer}, in {pack.reviewer}'s pack")
                continue
            if r.role is not ReviewRole.REVIEWER:
                refuse(f"its role is {r.role.value}; a pack's results hold reviewer reviews only")
                continue
            if r.batch != batch.name:
                refuse(f"it is outside batch {batch.name!r}")
                continue
            session_id = _session_id(s, r.session_key, r.session_revision)
            if session_id is None or session_id not in items:
                refuse(f"revision {r.session_revision} of it is not an item of this pack")
                continue
            here = s.execute(
                select(
                    ReviewRow.reviewer,
                    ReviewRow.session_id,
                    ReviewRow.role,
                    ReviewRow.batch_id,
                    RubricRow.name,
                    RubricRow.version,
                )
                .join(RubricRow, RubricRow.id == ReviewRow.rubric_id)
                .where(ReviewRow.uid == r.uid)
            ).first()
            if here is not None and tuple(here[:4]) != (
                r.reviewer,
                session_id,
                ReviewRole.REVIEWER.value,
                batch.id,
            ):
                refuse("that review id is another reviewer's, session's or role's here")
                continue
            key = (r.rubric_name, r.rubric_version)
            kept_rubric = here is not None and tuple(here[4:]) == key
            if key != pack_rubric and not kept_rubric:
                want = f"{pack_rubric[0]} v{pack_rubric[1]}" if pack_rubric else "unknown"
                refuse(f"it uses rubric {key[0]} v{key[1]}, not the pack's ({want})")
                continue
            if key not in rubrics:
                found = find_rubric(s, *key)
                if found is None:
                    refuse(f"it uses rubric {key[0]} v{key[1]}, unknown here")
                    continue
                rubrics[key] = found[1]
            problems = rubrics[key].problems(r.values)
            if problems:
                refuse("; ".join(problems))
                continue
            allowed_uids.add(r.uid)
        # Audit entries may describe the reviewer's own reviews of the pack's items: those in
        # the file, and those here (a review edited offline and back is not in the file).
        mentioned = {a.review_uid for a in results.audit if a.review_uid} - allowed_uids
        for start in range(0, len(mentioned), 500):
            chunk = sorted(mentioned)[start : start + 500]
            allowed_uids.update(
                s.scalars(
                    select(ReviewRow.uid).where(
                        ReviewRow.uid.in_(chunk),
                        ReviewRow.reviewer == pack.reviewer,
                        ReviewRow.role == ReviewRole.REVIEWER.value,
                        ReviewRow.batch_id == batch.id,
                        ReviewRow.session_id.in_(sorted(items)),
                    )
                )
            )
        for a in results.audit:
            if a.actor != pack.reviewer:
                reason = f"an audit entry by {a.actor}, in {pack.reviewer}'s pack"
            elif a.review_uid is None or a.review_uid not in allowed_uids:
                reason = "an audit entry about a review this pack may not change"
            else:
                continue
            refused.append(
                Refusal(
                    file=name, review_uid=a.review_uid, session_key=a.session_key, reason=reason
                )
            )
        return refused


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
                live_review(),
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
