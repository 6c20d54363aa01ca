"""Drafts kept on this computer while the workspace cannot be reached, and saved to it once
it is back: a dropped connection never costs a reviewer what they typed.

A small SQLite file in the user data folder, keyed by workspace id and review uid (the
latest draft of a review wins). It holds reviews and rubrics, and preferences on pairs,
never workspace URLs. Its format version is SQLite's ``user_version`` (:data:`FORMAT`).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from reviewer.domain.preference import Preference
from reviewer.domain.review import Review
from reviewer.domain.rubric import Rubric
from reviewer.services.packs import user_data_dir
from reviewer.services.preferences import PairQueue, open_pair, save_preference
from reviewer.services.reviewing import store
from reviewer.store.reviews import ConflictError
from reviewer.store.workspace import Workspace, WorkspaceUnavailable

log = logging.getLogger(__name__)

DRAFTS_FILE = "drafts.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS drafts (
    workspace_id TEXT NOT NULL,
    review_uid TEXT NOT NULL,
    kept_at TEXT NOT NULL,
    review TEXT NOT NULL,
    rubric TEXT NOT NULL,
    expected_version INTEGER,
    PRIMARY KEY (workspace_id, review_uid)
)
"""
_PAIR_SCHEMA = """
CREATE TABLE IF NOT EXISTS preference_drafts (
    workspace_id TEXT NOT NULL,
    uid TEXT NOT NULL,
    kept_at TEXT NOT NULL,
    preference TEXT NOT NULL,
    submit INTEGER NOT NULL,
    read_at TEXT,
    PRIMARY KEY (workspace_id, uid)
)
"""
FORMAT = 2
"""1 (or 0, files written before the version): reviews only; 2: preferences on pairs too."""


@dataclass(frozen=True)
class Draft:
    workspace_id: str
    review: Review
    rubric: Rubric
    expected_version: int | None
    kept_at: datetime


@dataclass(frozen=True)
class PairDraft:
    workspace_id: str
    preference: Preference
    submit: bool
    read_at: datetime | None
    """When the stored preference was last read or written here (None: there was none)."""
    kept_at: datetime


class PreferenceConflict(Exception):
    """A preference kept on this computer was changed elsewhere meanwhile: nothing was
    overwritten, both are kept; the caller shows both."""

    def __init__(self, attempted: Preference, stored: Preference, submit: bool) -> None:
        self.attempted = attempted
        self.stored = stored
        self.submit = submit
        """Whether the kept one was to be submitted."""
        super().__init__(
            f"preference on pair {attempted.position + 1} of batch {attempted.batch!r} by "
            f"{attempted.reviewer} was changed elsewhere since it was opened; nothing was "
            "overwritten, both versions are kept"
        )


@dataclass
class FlushReport:
    """What saving the kept drafts did."""

    saved: list[str] = field(default_factory=list)
    """Review uids now in the workspace (their drafts are gone from this computer)."""
    conflicts: list[ConflictError] = field(default_factory=list)
    """Changed in the workspace meanwhile: both versions attached, the draft still kept."""
    remaining: int = 0
    """Drafts still kept (the workspace went away again, or conflicts)."""
    versions: dict[str, int] = field(default_factory=dict)
    """The stored version of each review saved."""


@dataclass
class PairFlushReport:
    """What saving the kept preferences did."""

    saved: list[Preference] = field(default_factory=list)
    """As stored (their drafts are gone from this computer)."""
    conflicts: list[PreferenceConflict] = field(default_factory=list)
    """Changed in the workspace meanwhile: the draft still kept."""
    remaining: int = 0
    """Drafts still kept (the workspace went away again, or conflicts)."""


class DraftStore:
    """The local draft file. Cheap to create; every call opens and closes the file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or user_data_dir() / DRAFTS_FILE

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as con, con:
            con.execute(_SCHEMA)
            con.execute(_PAIR_SCHEMA)
            if con.execute("PRAGMA user_version").fetchone()[0] < FORMAT:
                con.execute(f"PRAGMA user_version = {FORMAT}")
            yield con

    def keep(
        self,
        workspace_id: str,
        review: Review,
        rubric: Rubric,
        expected_version: int | None = None,
    ) -> None:
        """Keep (or replace) the draft of ``review`` for the workspace."""
        with self._db() as con:
            con.execute(
                "INSERT OR REPLACE INTO drafts VALUES (?, ?, ?, ?, ?, ?)",
                (
                    workspace_id,
                    review.uid,
                    datetime.now(UTC).isoformat(),
                    review.model_dump_json(),
                    rubric.model_dump_json(),
                    expected_version,
                ),
            )

    def pending(self, workspace_id: str) -> list[Draft]:
        with self._db() as con:
            rows = con.execute(
                "SELECT review, rubric, expected_version, kept_at FROM drafts "
                "WHERE workspace_id = ? ORDER BY kept_at",
                (workspace_id,),
            ).fetchall()
        return [
            Draft(
                workspace_id,
                Review.model_validate_json(review),
                Rubric.model_validate_json(rubric),
                version,
                datetime.fromisoformat(kept_at),
            )
            for review, rubric, version, kept_at in rows
        ]

    def discard(self, workspace_id: str, review_uid: str) -> None:
        """Forget the draft of this review or preference (uids are unique across both)."""
        with self._db() as con:
            con.execute(
                "DELETE FROM drafts WHERE workspace_id = ? AND review_uid = ?",
                (workspace_id, review_uid),
            )
            con.execute(
                "DELETE FROM preference_drafts WHERE workspace_id = ? AND uid = ?",
                (workspace_id, review_uid),
            )

    def keep_preference(
        self, workspace_id: str, pref: Preference, *, submit: bool, read_at: datetime | None
    ) -> None:
        """Keep (or replace) the draft of a preference on a pair."""
        with self._db() as con:
            con.execute(
                "INSERT OR REPLACE INTO preference_drafts VALUES (?, ?, ?, ?, ?, ?)",
                (
                    workspace_id,
                    pref.uid,
                    datetime.now(UTC).isoformat(),
                    pref.model_dump_json(),
                    int(submit),
                    None if read_at is None else read_at.isoformat(),
                ),
            )

    def pending_preferences(self, workspace_id: str) -> list[PairDraft]:
        with self._db() as con:
            rows = con.execute(
                "SELECT preference, submit, read_at, kept_at FROM preference_drafts "
                "WHERE workspace_id = ? ORDER BY kept_at",
                (workspace_id,),
            ).fetchall()
        return [
            PairDraft(
                workspace_id,
                Preference.model_validate_json(pref),
                bool(submit),
                None if read_at is None else datetime.fromisoformat(read_at),
                datetime.fromisoformat(kept_at),
            )
            for pref, submit, read_at, kept_at in rows
        ]


@dataclass(frozen=True)
class SaveOutcome:
    review: Review
    kept_locally: bool
    """True: the workspace was unreachable; the review waits in the draft store."""
    message: str = ""
    version: int | None = None
    """The stored version (None when kept locally): what the next save expects."""


def save_or_keep(
    ws: Workspace,
    workspace_id: str,
    review: Review,
    rubric: Rubric,
    drafts: DraftStore,
    *,
    expected_version: int | None = None,
) -> SaveOutcome:
    """Save the review; when the workspace cannot be reached, keep it locally instead.

    ``workspace_id`` is the one read when the workspace was opened (it cannot be read while
    the server is away). Conflicts (``ConflictError``) are raised, as from a plain save.
    """
    try:
        stored = store(ws, review, rubric, expected_version=expected_version)
        return SaveOutcome(stored.review, False, version=stored.version)
    except WorkspaceUnavailable as exc:
        drafts.keep(workspace_id, review, rubric, expected_version)
        log.warning("workspace unreachable, review %s kept locally: %s", review.uid, exc)
        return SaveOutcome(
            review, True, f"{exc}. Your review is kept on this computer and saved when it is back."
        )


@dataclass(frozen=True)
class PairSaveOutcome:
    preference: Preference
    """As stored (as sent when kept locally)."""
    kept_locally: bool
    message: str = ""


def save_preference_or_keep(
    ws: Workspace,
    workspace_id: str,
    pref: Preference,
    drafts: DraftStore,
    *,
    submit: bool,
    read_at: datetime | None,
) -> PairSaveOutcome:
    """Save the preference; when the workspace cannot be reached, keep it locally
    (``read_at``: when the stored one was last read or written, for conflicts later)."""
    try:
        return PairSaveOutcome(save_preference(ws, pref, submit=submit), False)
    except WorkspaceUnavailable as exc:
        drafts.keep_preference(workspace_id, pref, submit=submit, read_at=read_at)
        log.warning("workspace unreachable, preference %s kept locally: %s", pref.uid, exc)
        return PairSaveOutcome(
            pref, True, f"{exc}. Your choice is kept on this computer and saved when it is back."
        )


def _same_choice(a: Preference, b: Preference) -> bool:
    return (a.winner, a.dimensions, (a.rationale or "").strip() or None) == (
        b.winner,
        b.dimensions,
        (b.rationale or "").strip() or None,
    )


def flush_preference_drafts(
    ws: Workspace, drafts: DraftStore, workspace_id: str | None = None
) -> PairFlushReport:
    """Save every kept preference of ``ws`` (oldest first), unless the stored one was
    changed elsewhere since it was read (then both are kept and reported)."""
    workspace_id = workspace_id or ws.workspace_id
    report = PairFlushReport()
    pending = drafts.pending_preferences(workspace_id)
    for draft in pending:
        pref = draft.preference
        try:
            queue = PairQueue(pref.batch, pref.reviewer, False, [])
            stored = open_pair(ws, queue, pref.position).preference
            if (
                stored is not None
                and stored.updated_at != draft.read_at
                and not _same_choice(stored, pref)
            ):
                report.conflicts.append(PreferenceConflict(pref, stored, draft.submit))
                continue
            saved = save_preference(ws, pref, submit=draft.submit)
        except WorkspaceUnavailable:
            break
        drafts.discard(workspace_id, pref.uid)
        report.saved.append(saved)
    report.remaining = len(pending) - len(report.saved)
    return report


def flush_drafts(ws: Workspace, drafts: DraftStore, workspace_id: str | None = None) -> FlushReport:
    """Save every kept draft of ``ws`` (oldest first); stop quietly if it goes away again."""
    workspace_id = workspace_id or ws.workspace_id
    report = FlushReport()
    pending = drafts.pending(workspace_id)
    for draft in pending:
        try:
            stored = store(ws, draft.review, draft.rubric, expected_version=draft.expected_version)
        except ConflictError as exc:
            report.conflicts.append(exc)
            continue
        except WorkspaceUnavailable:
            break
        drafts.discard(workspace_id, draft.review.uid)
        report.saved.append(draft.review.uid)
        report.versions[draft.review.uid] = stored.version
    report.remaining = len(pending) - len(report.saved)
    return report
