"""Offline review packs: a reviewer's assignment cut into one file, reviewed as a private
workspace with no access to the lead's, and results written to send back for merging.

A pack is untrusted input where it is opened: every name it carries is checked before it
touches a path, the private workspace is named by a hash of the pack id inside the data
folder, and a file already there is never replaced without a backup. Each pack has its own
secret, kept by the lead's workspace and carried in the pack: results are signed with it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import uuid
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
from platformdirs import user_data_path
from pydantic import ValidationError

from reviewer import __version__
from reviewer.domain.pack import (
    AUDIT_ENTRY,
    PACK_FORMAT,
    PREFERENCES_ENTRY,
    REVIEWS_ENTRY,
    PackedPreference,
    PackedReview,
    PackItem,
    PackManifest,
    PackPair,
    ResultPreference,
    ResultReview,
    ResultsManifest,
    blind_key,
    blind_session,
    blind_spec,
    is_pack_id,
    is_safe_name,
    pair_entry,
    session_entry,
)
from reviewer.domain.session import Session
from reviewer.packfile import (
    PackFileError,
    SealedFile,
    SealedWriter,
    mac_matches,
    validation_line,
)
from reviewer.services.backups import BackupError, backup_now
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.store.audit import audit_records_except
from reviewer.store.content import canonical_json
from reviewer.store.packs import (
    ItemForPack,
    PackStoreError,
    all_preferences,
    all_reviews,
    batch_for_pack,
    items_for_pack,
    meta_with_prefix,
    preferences_for_pack,
    put_batch,
    put_meta,
    put_rubric,
    put_sessions,
    record_pack,
    reviews_for_pack,
    session_json,
)
from reviewer.store.preferences import pair_item_id, preference_sha256, write_preference
from reviewer.store.reviews import ReviewStoreError, save_review, snapshot_sha256
from reviewer.store.rubrics import get_rubric
from reviewer.store.sessions import load_session
from reviewer.store.workspace import Workspace, WorkspaceError, create_workspace, open_workspace

DATA_DIR_ENV = "AGENTOPS_REVIEWER_DATA_DIR"
UNPACK_ACTION = "unpack"
"""Audit action of the reviews a pack carried in (not an offline change: never sent back)."""


class PackError(Exception):
    """A pack cannot be made, opened or answered; one line for the user."""


def user_data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else user_data_path("agentops-reviewer", appauthor=False)


def pack_workspace_path(pack_id: str, data_dir: Path | None = None) -> Path:
    """Where the private workspace of an opened pack lives: ``packs/<hash>.sqlite`` in the
    data folder, named by a hash of the (checked) pack id, resolved and checked to stay
    there (a link planted in its place is refused)."""
    if not is_pack_id(pack_id):
        raise PackError(f"{pack_id[:40]!r} is not a pack id (32 hex digits); the pack is refused")
    root = (data_dir or user_data_dir()) / "packs"
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    name = hashlib.sha256(pack_id.encode()).hexdigest()[:32]
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = (root / f"{name}.sqlite{suffix}").resolve()
        if path.parent != root or path.name != f"{name}.sqlite{suffix}":
            raise PackError(
                f"the workspace of pack {pack_id[:8]}… would be outside the data folder "
                f"{root} (a link is in its place); remove {root / path.name} and try again"
            )
    return root / f"{name}.sqlite"


@dataclass(frozen=True)
class PackSummary:
    pack_id: str
    path: Path
    reviewer: str
    batch: str
    items: int
    reviews: int
    checksum: str
    preferences: int = 0


@dataclass(frozen=True)
class PackInfo:
    """What a pack workspace knows about the pack it was opened from."""

    pack_id: str
    reviewer: str
    batch: str
    workspace_id: str
    """The lead's workspace, where results go back."""
    checksum: str


@dataclass(frozen=True)
class ResultsSummary:
    path: Path
    pack_id: str
    reviewer: str
    reviews: int
    submitted: int
    audit_entries: int
    checksum: str
    preferences: int = 0


def create_pack(
    ws: Workspace, batch: str, reviewer: str, out: Path, *, progress: Progress = NO_PROGRESS
) -> PackSummary:
    """Write ``reviewer``'s items of ``batch`` to the pack file ``out``: sessions in full (both
    of a pair item's), the rubric version, the assignment, the reviewer's reviews and
    preferences so far, a checksum and an HMAC under a new secret; the lead's workspace
    records the secret, rubric and items."""
    for what, name in (("batch", batch), ("reviewer", reviewer)):
        if not is_safe_name(name):
            raise PackError(
                f"the {what} name {name!r} cannot travel in a pack (letters, digits, spaces "
                "and . _ - @ + , ( ) ' # only, at most 200, no trailing space or dot)"
            )
    pack_id = uuid.uuid4().hex
    secret = secrets.token_hex(32)
    now = datetime.now(UTC)
    writer: SealedWriter | None = None
    try:
        with ws.read() as s:
            found = batch_for_pack(s, batch)
            if found is None:
                raise PackError(f"no batch named {batch!r} in this workspace")
            blind = found.batch.blind
            pairs = found.batch.spec.get("pairs")
            compared = str(pairs.get("field", "")) if isinstance(pairs, dict) else ""
            rows = items_for_pack(s, found.id, reviewer)
            if not rows:
                raise PackError(f"{reviewer} has no items assigned in batch {batch!r}")
            rubric = get_rubric(s, found.rubric_id)
            session_ids = [r.session_id for r in rows]
            reviews = reviews_for_pack(s, found.id, reviewer, session_ids)
            preferences = preferences_for_pack(s, found.id, batch, reviewer)
            others = {rubric_id for _r, rubric_id in reviews} - {found.rubric_id}
            writer = SealedWriter(out)
            items: list[PackItem] = []

            # A blind pairwise batch's pack does not tell which side is which version.
            hide = blind and bool(pairs)

            def carried(session_id: int, key: str) -> bytes:
                if hide:
                    return canonical_json(blind_session(load_session(s, session_id), compared, key))
                return session_json(s, session_id)

            for n, row in enumerate(rows, 1):
                entry = session_entry(row.position)
                key = blind_key(row.position, "left") if hide else row.session_key
                writer.add(entry, carried(row.session_id, key))
                pair = None
                if row.pair_session_id is not None:
                    pair = _pack_pair(row, hide)
                    writer.add(pair.entry, carried(row.pair_session_id, pair.session_key))
                items.append(
                    PackItem(
                        position=row.position,
                        session_key=key,
                        session_revision=row.session_revision,
                        entry=entry,
                        # Gold items go out unmarked (a reviewer must not tell them apart),
                        # and a blind batch's strata (agent, version...) stay at home.
                        stratum=None if blind else row.stratum,
                        inclusion_probability=row.inclusion_probability,
                        is_gold=False,
                        claimed_at=row.claimed_at,
                        pair=pair,
                    )
                )
                progress.update(n, len(rows), "packing sessions")
            writer.add(REVIEWS_ENTRY, _jsonl(r.model_dump_json() for r, _id in reviews))
            if preferences:
                writer.add(PREFERENCES_ENTRY, _jsonl(p.model_dump_json() for p in preferences))
            spec = blind_spec(found.batch.spec) if blind else found.batch.spec
            manifest = PackManifest(
                created_at=now,
                app_version=__version__,
                pack_id=pack_id,
                secret=secret,
                workspace_id=ws.workspace_id,
                reviewer=reviewer,
                batch=found.batch.model_copy(update={"spec": spec}),
                rubric=rubric,
                other_rubrics=[get_rubric(s, rid) for rid in sorted(others)],
                items=items,
                reviews=len(reviews),
                preferences=len(preferences),
            )
        checksum = writer.seal(
            manifest.model_dump(mode="json", exclude={"entries", "checksum", "mac"}),
            bytes.fromhex(secret),
        )
        with ws.write() as s:
            record_pack(
                s,
                pack_id=pack_id,
                batch_id=found.id,
                reviewer=reviewer,
                created_at=now,
                checksum=checksum,
                secret=secret,
                rubric_id=found.rubric_id,
                session_ids=session_ids,
            )
        writer.commit()
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    return PackSummary(
        pack_id, out, reviewer, batch, len(items), len(reviews), checksum, len(preferences)
    )


def _pack_pair(row: ItemForPack, hide: bool) -> PackPair:
    assert row.pair_session_key is not None and row.pair_session_revision is not None
    return PackPair(
        session_key=blind_key(row.position, "right") if hide else row.pair_session_key,
        session_revision=row.pair_session_revision,
        entry=pair_entry(row.position),
        left=None if hide or row.pair_left not in ("A", "B") else row.pair_left,
        task_key=row.pair_key,
    )


def read_pack_manifest(path: Path) -> PackManifest:
    """The verified manifest of a pack file (PackError when it is damaged or changed)."""
    try:
        with SealedFile(path, PACK_FORMAT, "review pack") as f:
            return _pack_manifest(f)
    except PackFileError as exc:
        raise PackError(str(exc)) from None


def _pack_manifest(f: SealedFile) -> PackManifest:
    try:
        manifest = PackManifest.model_validate(f.manifest)
    except ValidationError as exc:
        raise PackError(f"{f.path.name} has a malformed manifest: {validation_line(exc)}") from None
    if not mac_matches(f.manifest, bytes.fromhex(manifest.secret)):
        raise PackError(
            f"{f.path.name} fails its authentication: the file was changed after it was made"
        )
    return manifest


def open_pack(path: Path, *, data_dir: Path | None = None) -> Workspace:
    """Open a pack as a private local workspace for reviewing offline.

    The workspace lives in the user data folder, named by the pack id: opening the same pack
    again continues the work done in it. It never refers to the lead's workspace.
    """
    try:
        with SealedFile(path, PACK_FORMAT, "review pack") as f:
            manifest = _pack_manifest(f)
            target = pack_workspace_path(manifest.pack_id, data_dir)
            if target.exists():
                state = _pack_workspace_state(target, manifest.pack_id)
                if state == "complete":
                    return _open(target)
                # An interrupted opening: start again, keeping a backup of it first.
                try:
                    backup_now(target, "pre-replace")
                except BackupError as exc:
                    raise PackError(
                        f"{target} is left from an interrupted opening of this pack and "
                        f"cannot be backed up ({exc}); nothing was replaced"
                    ) from None
                for suffix in ("", "-wal", "-shm"):
                    Path(str(target) + suffix).unlink(missing_ok=True)
            ws = create_workspace(target)
            try:
                _materialise(ws, f, manifest, path)
            except BaseException:
                ws.close()
                raise
            return ws
    except PackFileError as exc:
        raise PackError(str(exc)) from None


def _pack_workspace_state(target: Path, pack_id: str) -> str:
    """What is at a pack workspace's place, read without changing it: "complete" (this
    pack's workspace), "interrupted" (an opening of this pack that did not finish). Anything
    else (another pack's, another application's file) is refused and left untouched."""
    refuse = PackError(
        f"{target} is in the way: it is not the workspace of pack {pack_id[:8]}…; "
        "it was left untouched (move it away and open the pack again)"
    )
    if target.is_symlink() or not target.is_file():
        raise refuse
    try:
        with closing(sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)) as con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            if not tables:
                return "interrupted"  # killed before its schema was written
            if "workspace_meta" not in tables:
                raise refuse
            meta = dict(
                con.execute(
                    "SELECT key, value FROM workspace_meta "
                    "WHERE key IN ('pack_id', 'pack_complete')"
                ).fetchall()
            )
    except sqlite3.Error:
        raise refuse from None
    if meta.get("pack_id", pack_id) != pack_id:
        raise refuse
    return "complete" if meta.get("pack_complete") == "yes" else "interrupted"


def _open(target: Path) -> Workspace:
    try:
        return open_workspace(target)
    except WorkspaceError as exc:
        raise PackError(str(exc)) from None


def _materialise(ws: Workspace, f: SealedFile, manifest: PackManifest, source: Path) -> None:
    try:
        with ws.write() as s:
            rubric_id = put_rubric(s, manifest.rubric, manifest.created_at)
            for other in manifest.other_rubrics:
                put_rubric(s, other, manifest.created_at)
            positions = [item.position for item in manifest.items]
            if len(set(positions)) != len(positions):
                raise PackError(f"{source.name} lists a batch position twice; it is refused")
            sessions: list[tuple[Session, int]] = []
            for item in manifest.items:
                sides = [(item.entry, item.session_key, item.session_revision)]
                if item.pair is not None:
                    p = item.pair
                    sides.append((p.entry, p.session_key, p.session_revision))
                for entry, key, revision in sides:
                    try:
                        session = Session.model_validate_json(f.read(entry))
                    except ValidationError as exc:
                        raise PackError(f"{source.name}: {entry}: {validation_line(exc)}") from None
                    if session.id != key:
                        raise PackError(f"{source.name}: {entry} is not {key!r}")
                    sessions.append((session, revision))
            ids = put_sessions(s, sessions)
            put_batch(s, manifest.batch, rubric_id, manifest.items, ids, manifest.reviewer)
            base: dict[str, str] = {}
            rubrics = {(r.name, r.version): r for r in [manifest.rubric, *manifest.other_rubrics]}
            for line in f.lines(REVIEWS_ENTRY):
                try:
                    packed = PackedReview.model_validate_json(line)
                except ValidationError as exc:
                    raise PackError(f"{source.name}: a review: {validation_line(exc)}") from None
                review = packed.review
                rubric = rubrics.get((review.rubric_name, review.rubric_version))
                if rubric is None:
                    raise PackError(
                        f"{source.name}: a review uses rubric {review.rubric_name} "
                        f"v{review.rubric_version}, which the pack does not carry"
                    )
                save_review(
                    s,
                    review,
                    rubric,
                    actor=manifest.reviewer,
                    action=UNPACK_ACTION,
                    origin=f"pack:{manifest.pack_id}",
                )
                base[review.uid] = packed.sha256
            carried = PREFERENCES_ENTRY in f.manifest["entries"]
            for line in f.lines(PREFERENCES_ENTRY) if carried else []:
                try:
                    kept = PackedPreference.model_validate_json(line)
                except ValidationError as exc:
                    raise PackError(
                        f"{source.name}: a preference: {validation_line(exc)}"
                    ) from None
                pref = kept.preference
                item_id = pair_item_id(s, manifest.batch.name, pref.position)
                if pref.reviewer != manifest.reviewer or item_id is None:
                    raise PackError(
                        f"{source.name}: a preference is not {manifest.reviewer}'s of a pair "
                        "the pack carries"
                    )
                write_preference(
                    s,
                    item_id,
                    pref,
                    pref.updated_at or manifest.created_at,
                    status=pref.status,
                    submitted_at=pref.submitted_at,
                    action=UNPACK_ACTION,
                )
                base[pref.uid] = kept.sha256
            meta = {
                "pack_id": manifest.pack_id,
                "pack_secret": manifest.secret,
                "pack_checksum": manifest.checksum,
                "pack_workspace_id": manifest.workspace_id,
                "pack_reviewer": manifest.reviewer,
                "pack_batch": manifest.batch.name,
                "pack_base": orjson.dumps(base, option=orjson.OPT_SORT_KEYS).decode(),
                "pack_source": str(source.resolve()),
                "pack_complete": "yes",
            }
            put_meta(s, meta)
    except (PackStoreError, ReviewStoreError) as exc:
        raise PackError(f"{source.name} cannot be opened: {exc}") from None


def pack_info(ws: Workspace) -> PackInfo | None:
    """The pack a workspace was opened from (None for an ordinary workspace)."""
    with ws.read() as s:
        meta = meta_with_prefix(s, "pack_")
    if meta.get("pack_complete") != "yes":
        return None
    return PackInfo(
        pack_id=meta["pack_id"],
        reviewer=meta["pack_reviewer"],
        batch=meta["pack_batch"],
        workspace_id=meta["pack_workspace_id"],
        checksum=meta["pack_checksum"],
    )


def write_results(
    pack: Workspace | Path, out: Path, *, data_dir: Path | None = None
) -> ResultsSummary:
    """Write the results of an opened pack (its workspace, or the pack file) to ``out``:
    the reviews made or changed offline with their history, and the offline audit trail."""
    if isinstance(pack, Workspace):
        return _write_results(pack, out)
    ws = open_pack(pack, data_dir=data_dir)
    try:
        return _write_results(ws, out)
    finally:
        ws.close()


def _write_results(ws: Workspace, out: Path) -> ResultsSummary:
    info = pack_info(ws)
    if info is None:
        raise PackError(f"{ws.display_name} was not opened from a review pack")
    base: dict[str, str] = orjson.loads(ws.meta("pack_base") or "{}")
    secret = ws.meta("pack_secret")
    if secret is None:
        raise PackError(
            f"{ws.display_name} was opened from a pack made by an older version of AgentOps "
            "Reviewer, before results were signed; ask your lead for a new pack"
        )
    writer: SealedWriter | None = None
    try:
        with ws.read() as s:
            reviews = all_reviews(s)
            preferences = all_preferences(s)
            audit = audit_records_except(s, UNPACK_ACTION)
        who = {r.reviewer for r, _ in reviews} | {p.reviewer for p, _ in preferences}
        strangers = sorted(who - {info.reviewer})
        if strangers:
            raise PackError(
                f"this pack is {info.reviewer}'s, but it holds reviews made as "
                f"{', '.join(strangers)}; review it under the name {info.reviewer}"
            )
        pref_uids = {p.uid for p, _ in preferences}
        history: dict[str, list[str]] = {}
        for entry in audit:
            hashed = preference_sha256 if entry.review_uid in pref_uids else snapshot_sha256
            digest = hashed(entry.after)
            if entry.review_uid is not None and digest is not None:
                history.setdefault(entry.review_uid, []).append(digest)
        # What was carried in the pack and not changed offline does not go back.
        results = [
            ResultReview(
                review=review,
                sha256=digest,
                base_sha256=base.get(review.uid),
                history=history.get(review.uid, []),
            )
            for review, digest in reviews
            if base.get(review.uid) != digest
        ]
        prefs = [
            ResultPreference(
                preference=pref,
                sha256=digest,
                base_sha256=base.get(pref.uid),
                history=history.get(pref.uid, []),
            )
            for pref, digest in preferences
            if base.get(pref.uid) != digest
        ]
        writer = SealedWriter(out)
        writer.add(REVIEWS_ENTRY, _jsonl(r.model_dump_json() for r in results))
        if prefs:
            writer.add(PREFERENCES_ENTRY, _jsonl(p.model_dump_json() for p in prefs))
        writer.add(AUDIT_ENTRY, _jsonl(a.model_dump_json() for a in audit))
        manifest = ResultsManifest(
            created_at=datetime.now(UTC),
            app_version=__version__,
            pack_id=info.pack_id,
            pack_checksum=info.checksum,
            workspace_id=info.workspace_id,
            reviewer=info.reviewer,
            batch=info.batch,
            reviews=len(results),
            preferences=len(prefs),
            audit_entries=len(audit),
        )
        checksum = writer.seal(
            manifest.model_dump(mode="json", exclude={"entries", "checksum", "mac"}),
            bytes.fromhex(secret),
        )
        writer.commit()
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    submitted = sum(1 for r in results if r.review.status.value == "submitted")
    submitted += sum(1 for p in prefs if p.preference.status == "submitted")
    return ResultsSummary(
        out,
        info.pack_id,
        info.reviewer,
        len(results),
        submitted,
        len(audit),
        checksum,
        preferences=len(prefs),
    )


def _jsonl(lines: Iterable[str]) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode()
