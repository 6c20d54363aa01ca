"""The whole app against a model: import, review, undo, export, pack round trips and
merges, backups and restores, driven in random orders by a Hypothesis state machine. After every
step the workspace holds exactly what the model says, and SQLite's checks pass."""

from __future__ import annotations

import copy
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from reviewer.domain.review import Review, ReviewStatus
from reviewer.export.options import ExportOptions
from reviewer.resources import default_rubric
from reviewer.services.backups import backup_now, restore
from reviewer.services.exporting import export
from reviewer.services.importing import store_sessions
from reviewer.services.merging import merge_results
from reviewer.services.packs import create_pack, open_pack, write_results
from reviewer.services.reviewing import store
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.reviews import get_review
from reviewer.store.tables import ReviewRow, SessionRow
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session
from tests.packs.helpers import key, make_batch

ITEMS = 6
REVIEWERS = ("ana", "bob")
RUBRIC = default_rubric()
QUALITY = st.sampled_from(["1", "2", "3", "4", "5"])
STATUS = st.sampled_from([ReviewStatus.DRAFT, ReviewStatus.SUBMITTED, ReviewStatus.SKIPPED])


@dataclass
class Label:
    uid: str
    quality: str
    status: ReviewStatus
    reason: str
    """Unique per change, so every change is told apart."""
    version: int = 1
    history: list[tuple[str, ReviewStatus, str]] = field(default_factory=list)


@dataclass
class Model:
    sessions: dict[str, int] = field(default_factory=dict)
    """Session key → number of revisions."""
    labels: dict[tuple[str, int], Label] = field(default_factory=dict)
    conflicts: int = 0


class WholeApp(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="model-"))
        self.db = self.tmp / "ws.sqlite"
        self.ws: Workspace = init_workspace(self.db)
        make_batch(self.ws, "b1", {r: range(ITEMS) for r in REVIEWERS}, items=ITEMS)
        self.model = Model(sessions={key(i): 1 for i in range(ITEMS)})
        self.backups: list[tuple[Path, Model]] = []
        self.counter = 0

    def _token(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def teardown(self) -> None:
        self.ws.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # Import
    @rule(new=st.integers(0, 3), changed=st.booleans())
    def import_sessions(self, new: int, changed: bool) -> None:
        sessions = [make_session(f"x-{len(self.model.sessions) + i}") for i in range(new)]
        if changed:
            sessions.append(make_session(key(0), text=self._token("revised ")))
        store_sessions(self.ws, sessions)
        for s in sessions:
            self.model.sessions[s.id] = self.model.sessions.get(s.id, 0) + 1

    # Reviewing (the workbench's save path)
    def _save(self, reviewer: str, pos: int, quality: str, status: ReviewStatus) -> None:
        label = self.model.labels.get((reviewer, pos))
        reason = self._token("h")
        if label is None:
            with self.ws.read() as s:
                revision = s.scalar(
                    select(SessionRow.revision).where(
                        SessionRow.session_key == key(pos),
                        SessionRow.id.in_(self._batch_session_ids(s)),
                    )
                )
            review = Review(
                session_key=key(pos),
                session_revision=revision or 1,
                batch="b1",
                reviewer=reviewer,
                rubric_name=RUBRIC.name,
                rubric_version=RUBRIC.version,
            )
        else:
            with self.ws.read() as s:
                current = get_review(s, label.uid)
            assert current is not None
            review = current
        review = review.model_copy(
            update={"values": {"quality": quality}, "status": status, "status_reason": reason}
        )
        store(self.ws, review, RUBRIC)
        if label is None:
            self.model.labels[(reviewer, pos)] = Label(review.uid, quality, status, reason)
        else:
            label.history.append((label.quality, label.status, label.reason))
            label.quality, label.status, label.reason = quality, status, reason
            label.version += 1

    @staticmethod
    def _batch_session_ids(s: object) -> object:
        from reviewer.store.tables import BatchItemRow

        return select(BatchItemRow.session_id)

    @rule(
        reviewer=st.sampled_from(REVIEWERS),
        pos=st.integers(0, ITEMS - 1),
        quality=QUALITY,
        status=STATUS,
    )
    def review(self, reviewer: str, pos: int, quality: str, status: ReviewStatus) -> None:
        self._save(reviewer, pos, quality, status)

    @precondition(lambda self: any(lab.history for lab in self.model.labels.values()))
    @rule(data=st.data())
    def undo(self, data: st.DataObject) -> None:
        """Put a review back as it was before its last change (a new change, audited)."""
        keys = sorted(k for k, lab in self.model.labels.items() if lab.history)
        reviewer, pos = data.draw(st.sampled_from(keys))
        quality, status, _ = self.model.labels[(reviewer, pos)].history[-1]
        self._save(reviewer, pos, quality, status)

    # Offline packs and merging
    @rule(
        reviewer=st.sampled_from(REVIEWERS),
        edits=st.dictionaries(st.integers(0, ITEMS - 1), QUALITY, min_size=1, max_size=3),
        home_edit=st.one_of(st.none(), st.integers(0, ITEMS - 1)),
    )
    def pack_round_trip(self, reviewer: str, edits: dict[int, str], home_edit: int | None) -> None:
        n = self._token("")
        pack = create_pack(self.ws, "b1", reviewer, self.tmp / f"{n}.reviewpack")
        at_pack = {
            pos: (lab.version if lab else None)
            for pos in range(ITEMS)
            for lab in [self.model.labels.get((reviewer, pos))]
        }
        offline = open_pack(pack.path, data_dir=self.tmp / "data")
        offline_labels: dict[int, tuple[str, str]] = {}
        for pos, quality in sorted(edits.items()):
            label = self.model.labels.get((reviewer, pos))
            reason = self._token("p")
            if label is None:
                review = Review(
                    session_key=key(pos),
                    session_revision=self._revision_in_batch(pos),
                    batch="b1",
                    reviewer=reviewer,
                    rubric_name=RUBRIC.name,
                    rubric_version=RUBRIC.version,
                )
            else:
                with offline.read() as s:
                    got = get_review(s, label.uid)
                assert got is not None
                review = got
            review = review.model_copy(
                update={
                    "values": {"quality": quality},
                    "status": ReviewStatus.SUBMITTED,
                    "status_reason": reason,
                }
            )
            store(offline, review, RUBRIC)
            offline_labels[pos] = (review.uid, reason)
        results = write_results(offline, self.tmp / f"{n}.reviewresults").path
        offline.close()
        if home_edit is not None:  # meanwhile, at home
            self._save(reviewer, home_edit, "3", ReviewStatus.DRAFT)
        merge_results(self.ws, [results], actor="lead")
        for pos, quality in edits.items():
            uid, reason = offline_labels[pos]
            label = self.model.labels.get((reviewer, pos))
            if label is None:
                self.model.labels[(reviewer, pos)] = Label(
                    uid, quality, ReviewStatus.SUBMITTED, reason
                )
            elif at_pack[pos] is None or label.version != at_pack[pos]:
                self.model.conflicts += 1  # changed in both places: kept beside, not applied
            else:
                label.history.append((label.quality, label.status, label.reason))
                label.quality, label.status, label.reason = (
                    quality,
                    ReviewStatus.SUBMITTED,
                    reason,
                )
                label.version += 1
        again = merge_results(self.ws, [results], actor="lead")  # idempotent
        assert (again.added, again.updated, again.flagged) == (0, 0, 0)

    def _revision_in_batch(self, pos: int) -> int:
        from reviewer.store.tables import BatchItemRow

        with self.ws.read() as s:
            rev = s.scalar(
                select(SessionRow.revision)
                .join(BatchItemRow, BatchItemRow.session_id == SessionRow.id)
                .where(SessionRow.session_key == key(pos))
            )
        assert rev is not None
        return rev

    # Export
    @rule()
    def export_labels(self) -> None:
        """The submitted reviews in use, and only those, go out: one row each."""
        out = self.tmp / f"{self._token('export')}.jsonl"
        export(self.ws, ExportOptions(format="jsonl"), out)
        rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
        expected = {
            label.uid: label.reason
            for label in self.model.labels.values()
            if label.status is ReviewStatus.SUBMITTED
        }
        assert {r["review_uid"]: r["status_reason"] for r in rows} == expected

    # Backups
    @rule()
    def backup(self) -> None:
        self.backups.append((backup_now(self.db, "manual"), copy.deepcopy(self.model)))

    @precondition(lambda self: bool(self.backups))
    @rule(data=st.data())
    def restore_backup(self, data: st.DataObject) -> None:
        path, model = data.draw(st.sampled_from(self.backups))
        self.ws.close()
        restore(self.db, path)
        self.ws = open_existing(self.db)
        self.model = copy.deepcopy(model)

    # What must hold
    @invariant()
    def workspace_matches_the_model(self) -> None:
        with self.ws.read() as s:
            revisions = dict(
                s.execute(
                    select(SessionRow.session_key, SessionRow.revision).where(
                        SessionRow.is_latest.is_(True)
                    )
                ).all()
            )
            rows = s.scalars(select(ReviewRow)).all()
            assert revisions == self.model.sessions
            in_use = {r.uid: r for r in rows if r.conflict_of is None}
            kept = [r for r in rows if r.conflict_of is not None]
            assert len(in_use) == len(self.model.labels)
            for label in self.model.labels.values():
                row = in_use[label.uid]
                assert (row.values["quality"], row.status, row.status_reason) == (
                    label.quality,
                    label.status.value,
                    label.reason,
                )
            assert len(kept) == self.model.conflicts
        con = sqlite3.connect(self.db)
        try:
            assert con.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            con.close()


WholeApp.TestCase.settings = settings(
    max_examples=int(os.environ.get("MODEL_EXAMPLES", "12")),
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_whole_app = WholeApp.TestCase
