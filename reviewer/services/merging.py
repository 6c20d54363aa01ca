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

from reviewer.domain.pack import (
    AUDIT_ENTRY,
    PREFERENCES_ENTRY,
    RESULTS_FORMAT,
    REVIEWS_ENTRY,
    AuditRecord,
    ResultPreference,
    ResultReview,
    ResultsManifest,
)
from reviewer.domain.preference import Preference
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
from reviewer.services.preferences import PREFERABLE
from reviewer.store.packs import (
    PackRecord,
    Tx,
    audited_session_ids,
    find_pack,
    history_hashes,
    import_audit,
    live_twin,
    merged_hashes,
    own_preference_uids,
    own_review_uids,
    pack_pair_items,
    pack_session_ids,
    record_merge,
    review_identity,
    review_versions,
    revision_id,
    start_merge,
)
from reviewer.store.preferences import (
    find_preference,
    note_kept_aside,
    preference_by_uid,
    preference_sha256,
    preference_snapshot,
    write_preference,
)
from reviewer.store.preferences import row_sha256 as preference_row_sha256
from reviewer.store.reviews import (
    ConflictError,
    ReviewStoreError,
    review_snapshot,
    save_review,
    snapshot_sha256,
)
from reviewer.store.rubrics import find_rubric
from reviewer.store.workspace import Workspace

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
    preferences: list[ResultPreference]
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
        seen = merged_hashes(s)
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
            prefs = (
                [ResultPreference.model_validate_json(x) for x in f.lines(PREFERENCES_ENTRY)]
                if PREFERENCES_ENTRY in raw["entries"]
                else []
            )
            audit = [AuditRecord.model_validate_json(x) for x in f.lines(AUDIT_ENTRY)]
    except PackFileError as exc:
        raise MergeError(str(exc)) from None
    except ValidationError as exc:
        raise MergeError(f"{name} is malformed ({validation_line(exc)})") from None
    for rr in reviews:
        if snapshot_sha256(review_snapshot(rr.review)) != rr.sha256:
            raise MergeError(f"{name} fails its checksum: review {rr.review.uid} was changed")
    for rp in prefs:
        if preference_sha256(preference_snapshot(rp.preference)) != rp.sha256:
            raise MergeError(
                f"{name} fails its checksum: preference {rp.preference.uid} was changed"
            )
    return _Results(path, file_sha256(path), manifest, raw, reviews, prefs, audit)


def _check_fits(
    ws: Workspace,
    results: _Results,
    workspace_id: str,
    rubrics: dict[tuple[str, int], Rubric],
) -> list[Refusal]:
    """Refuse, with one clear line, a file that does not belong in this workspace or is not
    signed with its pack's secret; then list every review, preference and audit entry in it
    that the pack does not allow (see the module docstring)."""
    m = results.manifest
    name = results.path.name
    if m.workspace_id != workspace_id:
        raise MergeError(
            f"{name} comes from another workspace ({m.workspace_id[:8]}…, this one is "
            f"{workspace_id[:8]}…); nothing was merged"
        )
    with ws.read() as s:
        pack = find_pack(s, m.pack_id)
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
        if pack.reviewer != m.reviewer or pack.batch != m.batch:
            raise MergeError(f"{name} does not match pack {m.pack_id[:8]}… (reviewer or batch)")
        items = pack_session_ids(s, pack.id)
        if len(results.reviews) > len(items) or len(results.preferences) > len(items):
            raise MergeError(
                f"{name} holds {max(len(results.reviews), len(results.preferences))} reviews "
                f"for a pack of {len(items)} items; nothing was merged"
            )
        refused: list[Refusal] = []
        allowed_uids = _check_reviews(s, results, pack, items, rubrics, refused)
        pairs = pack_pair_items(s, pack)
        allowed_uids |= _check_preferences(s, results, pack, pairs, refused)
        # Audit entries may describe the reviewer's own reviews of the pack's items: those in
        # the file, and those here (a review edited offline and back is not in the file).
        mentioned = {a.review_uid for a in results.audit if a.review_uid} - allowed_uids
        allowed_uids |= own_review_uids(s, mentioned, pack.reviewer, pack.batch_id, items)
        allowed_uids |= own_preference_uids(s, mentioned, pack.reviewer, pairs.values())
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


def _not_the_packs(
    uid: str, reviewer: str, batch: str | None, pack: PackRecord, seen: set[str], what: str
) -> str | None:
    """Why a review or preference of a results file is not the pack's to send (None: it
    may be); notes ``uid`` in ``seen``."""
    if REVIEW_UID.fullmatch(uid) is None:
        return f"its id is not a {what} id"
    if uid in seen:
        return "it appears twice in the file"
    seen.add(uid)
    if reviewer != pack.reviewer:
        return f"it is by {reviewer}, in {pack.reviewer}'s pack"
    if batch != pack.batch:
        return f"it is outside batch {pack.batch!r}"
    return None


def _check_reviews(
    s: Tx,
    results: _Results,
    pack: PackRecord,
    items: set[int],
    rubrics: dict[tuple[str, int], Rubric],
    refused: list[Refusal],
) -> set[str]:
    """The uids of the file's reviews the pack allows; the others are added to ``refused``."""
    name = results.path.name
    allowed: set[str] = set()
    seen: set[str] = set()
    for rr in results.reviews:
        r = rr.review

        def refuse(reason: str, r: Review = r) -> None:
            refused.append(
                Refusal(file=name, review_uid=r.uid, session_key=r.session_key, reason=reason)
            )

        problem = _not_the_packs(r.uid, r.reviewer, r.batch, pack, seen, "review")
        if problem is not None:
            refuse(problem)
            continue
        if r.role is not ReviewRole.REVIEWER:
            refuse(f"its role is {r.role.value}; a pack's results hold reviewer reviews only")
            continue
        session_id = revision_id(s, r.session_key, r.session_revision)
        if session_id is None or session_id not in items:
            refuse(f"revision {r.session_revision} of it is not an item of this pack")
            continue
        here = review_identity(s, r.uid)
        if here is not None and tuple(here[:4]) != (
            r.reviewer,
            session_id,
            ReviewRole.REVIEWER.value,
            pack.batch_id,
        ):
            refuse("that review id is another reviewer's, session's or role's here")
            continue
        key = (r.rubric_name, r.rubric_version)
        kept_rubric = here is not None and tuple(here[4:]) == key
        if key != pack.rubric and not kept_rubric:
            want = f"{pack.rubric[0]} v{pack.rubric[1]}" if pack.rubric else "unknown"
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
        allowed.add(r.uid)
    return allowed


def _check_preferences(
    s: Tx,
    results: _Results,
    pack: PackRecord,
    pairs: dict[int, int],
    refused: list[Refusal],
) -> set[str]:
    """The uids of the file's preferences the pack allows: the pack's reviewer's, of a pair
    item the pack carried, with the pack rubric's dimensions; the others are refused."""
    name = results.path.name
    allowed: set[str] = set()
    seen: set[str] = set()
    dimensions: set[str] | None = None
    for rp in results.preferences:
        p = rp.preference

        def refuse(reason: str, p: Preference = p) -> None:
            refused.append(
                Refusal(
                    file=name,
                    review_uid=p.uid,
                    session_key=f"pair {p.position + 1} of {p.batch}",
                    reason=reason,
                )
            )

        problem = _not_the_packs(p.uid, p.reviewer, p.batch, pack, seen, "preference")
        if problem is not None:
            refuse(problem)
            continue
        item_id = pairs.get(p.position)
        if item_id is None:
            refuse(f"pair {p.position + 1} is not an item of this pack")
            continue
        if p.status not in ("draft", "submitted") or (p.status == "submitted" and p.winner is None):
            refuse(f"its status {p.status!r} is not one a preference may have")
            continue
        here = preference_by_uid(s, p.uid)
        if here is not None and (here[0].reviewer, here[0].item_id) != (p.reviewer, item_id):
            refuse("that preference id is another reviewer's or pair's here")
            continue
        if dimensions is None:
            dimensions = _preferable(s, pack)
        unknown = sorted(set(p.dimensions) - dimensions)
        if unknown:
            refuse(f"dimension {unknown[0]!r} is not one of the pack's rubric")
            continue
        allowed.add(p.uid)
    return allowed


def _preferable(s: Tx, pack: PackRecord) -> set[str]:
    """The rubric dimensions a preference may name (the pack's rubric version)."""
    found = find_rubric(s, *pack.rubric) if pack.rubric is not None else None
    if found is None:
        return set()
    return {d.name for d in found[1].dimensions if d.kind in PREFERABLE}


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
    s: Tx,
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
    if start_merge(s, results.sha256, postgres=not ws.is_sqlite):
        done.already_merged = True
        done.skipped = len(results.reviews) + len(results.preferences)
        return done
    homes: dict[str, str] = {}
    for rr in results.reviews:
        _merge_review(s, rr, done, homes, actor, rubrics)
    if results.preferences:
        pack = find_pack(s, m.pack_id)
        assert pack is not None
        pairs = pack_pair_items(s, pack)
        for rp in results.preferences:
            _merge_preference(s, rp, pairs[rp.preference.position], done, homes, actor)
    kept = [
        (rec, homes.get(rec.review_uid, rec.review_uid))
        for rec in results.audit
        if rec.review_uid is not None
    ]
    session_ids = audited_session_ids(s, {uid for _, uid in kept})
    import_audit(s, [(rec, uid) for rec, uid in kept if uid in session_ids], session_ids)
    record_merge(s, results.sha256, m.pack_id, done.model_dump())
    return done


def _merge_review(
    s: Tx,
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
    versions = review_versions(s, uid)
    if not versions:
        session_id = revision_id(s, review.session_key, review.session_revision)
        main = live_twin(s, session_id, review.reviewer, review.role.value, review.batch)
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
            conflict_of=main,
            audit_note=note,
        )
        done.flagged += 1
        done.conflicts.append(
            _conflict(review, main, uid, "a second review of the same item by this reviewer")
        )
        return
    history = history_hashes(s, [v.uid for v in versions])
    for v in versions:
        if incoming == v.sha256 or incoming in history.get(v.uid, set()):
            homes[uid] = v.uid
            done.skipped += 1  # this version is here already (or was, and moved on)
            return
    row = versions[0]
    offline = {rr.base_sha256, *rr.history, incoming} - {None}
    if row.sha256 in offline:
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


def _merge_preference(
    s: Tx,
    rp: ResultPreference,
    item_id: int,
    done: FileMerge,
    homes: dict[str, str],
    actor: str,
) -> None:
    """The same rules as a review's; a conflicting version is kept aside in the audit trail
    (action ``conflict`` under :func:`kept_copy_uid`) and the one in use stays."""
    pref = rp.preference
    uid = pref.uid
    incoming = rp.sha256
    note = {"pack_id": done.pack_id}
    homes[uid] = uid
    if rp.base_sha256 == incoming:
        done.skipped += 1  # not changed offline
        return
    now = datetime.now(UTC)

    def take() -> None:
        write_preference(
            s,
            item_id,
            pref,
            now,
            status=pref.status,
            submitted_at=pref.submitted_at,
            actor=actor,
            action="merge",
            audit_note=note,
        )

    row = find_preference(s, item_id, pref.reviewer)
    if row is not None and row.uid != uid:  # a second preference of the same pair
        reason = "a second preference of the same pair by this reviewer"
    elif row is None:
        take()
        done.added += 1
        return
    else:
        current = preference_row_sha256(row)
        seen = history_hashes(s, [uid], preference_sha256).get(uid, set())
        if incoming == current or incoming in seen:
            done.skipped += 1  # this version is here already (or was, and moved on)
            return
        if current in {rp.base_sha256, *rp.history, incoming} - {None}:
            take()
            done.updated += 1
            return
        reason = "edited here and in the pack since it was made"
    assert row is not None
    main_uid = row.uid
    copy_uid = kept_copy_uid(uid, done.pack_id)
    note_kept_aside(
        s, item_id, copy_uid, pref, now, actor=actor, note={**note, "conflict_of": main_uid}
    )
    homes[uid] = copy_uid
    done.flagged += 1
    done.conflicts.append(
        MergeConflict(
            session_key=f"pair {pref.position + 1} of {pref.batch}",
            session_revision=0,
            reviewer=pref.reviewer,
            review_uid=main_uid,
            kept_uid=copy_uid,
            reason=reason,
        )
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
