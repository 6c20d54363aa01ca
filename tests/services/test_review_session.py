"""The review session without Qt: what is saved, drafts kept offline, conflicts, undo,
and the events a team-mode claim follows — for single reviews and preferences on pairs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewer.domain.batch import SamplingSpec
from reviewer.domain.preference import Preference, Winner
from reviewer.domain.review import new_review_uid
from reviewer.domain.rubric import Rubric
from reviewer.services import drafts
from reviewer.services.drafts import DraftStore
from reviewer.services.pairwise import create_pair_batch, pair_spec
from reviewer.services.preferences import load_pair_queue, save_preference
from reviewer.services.review_session import (
    Closed,
    ConflictError,
    History,
    Left,
    Opened,
    PreferenceConflict,
    ReviewSession,
    WorkspaceUnavailable,
    pair_key,
)
from reviewer.services.reviewing import QueueSpec, ReviewItem, load_queue
from reviewer.store.workspace import Workspace
from tests.packs.helpers import BAD, GOOD, make_batch, review_item
from tests.pairwise.helpers import fill_trials


@pytest.fixture
def session(workspace: Workspace, tmp_path: Path) -> ReviewSession:
    make_batch(workspace, "b1", {"ana": [0, 1]}, items=2)
    return ReviewSession(workspace, DraftStore(tmp_path / "drafts.sqlite"))


def _open(session: ReviewSession, position: int = 0) -> ReviewItem:
    queue = load_queue(session.ws, QueueSpec("ana", "b1"))
    return session.open_item(queue, queue.ids[position])


class _Away:
    """The workspace server out of reach for saves while ``on`` (as a lost network)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.on = True
        for name, real in (("store", drafts.store), ("save_preference", save_preference)):
            monkeypatch.setattr(drafts, name, self._wrap(real))

    def _wrap(self, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if self.on:
                raise WorkspaceUnavailable("the workspace server cannot be reached")
            return real(*args, **kwargs)

        return call


def test_the_review_session_needs_no_qt() -> None:
    code = (
        "import sys, reviewer.services.review_session; "
        "sys.exit(any(m.startswith('PySide6') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_each_save_expects_what_was_read_or_written_before(
    session: ReviewSession, rubric: Rubric
) -> None:
    item = _open(session)
    first = session.save(item.review.model_copy(update={"values": GOOD}), rubric)
    assert not first.kept_locally and first.version == 1
    second = session.save(first.review.model_copy(update={"values": BAD}), rubric)
    assert second.version == 2 and session.version_of(item.review.uid) == 2
    # Reopened: the version read is what the next save expects; nothing conflicts.
    again = _open(session)
    assert again.review.values == BAD and again.version == 2
    assert session.save(again.review.model_copy(update={"values": GOOD}), rubric).version == 3


def test_a_change_made_elsewhere_is_a_conflict_and_nothing_is_overwritten(
    session: ReviewSession, rubric: Rubric
) -> None:
    item = _open(session)
    mine = session.save(item.review.model_copy(update={"values": GOOD}), rubric).review
    theirs = review_item(session.ws, rubric, 0, "ana", uid=mine.uid, values=BAD)  # elsewhere
    with pytest.raises(ConflictError) as err:
        session.save(mine.model_copy(update={"values": {**GOOD, "quality": "5"}}), rubric)
    assert err.value.stored is not None and err.value.stored.values == theirs.values
    assert _open(session).review.values == BAD  # not overwritten
    # Keep mine: the stored version is adopted, and the save goes through.
    session.adopt(mine.uid, err.value.stored_version)
    kept = session.save(err.value.attempted, rubric)
    assert kept.review.values["quality"] == "5"


def test_offline_a_save_is_kept_here_and_saved_when_the_workspace_is_back(
    session: ReviewSession, rubric: Rubric, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _open(session)
    away = _Away(monkeypatch)
    outcome = session.save(item.review.model_copy(update={"values": GOOD}), rubric)
    assert outcome.kept_locally and "kept on this computer" in outcome.message
    session.went_offline()
    told = session.settle(session.flush_kept(), None)  # still away
    assert told.offline and told.offline_message == "1 reviews are kept on this computer."
    away.on = False
    report = session.flush_kept()
    assert report.saved == [item.review.uid]
    told = session.settle(report, item.review.uid)
    assert not told.offline and not session.offline
    assert told.notes == ["Workspace back: 1 kept review(s) saved"]
    assert session.drafts.pending(session.ws.workspace_id) == []
    # The version the kept save stored is what the next one expects.
    assert session.save(outcome.review, rubric).version == report.versions[item.review.uid]


def test_a_kept_review_changed_elsewhere_is_said_once_then_shown_with_its_item(
    session: ReviewSession, rubric: Rubric, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _open(session)
    mine = session.save(item.review.model_copy(update={"values": GOOD}), rubric).review
    away = _Away(monkeypatch)
    session.save(mine.model_copy(update={"values": {**GOOD, "quality": "5"}}), rubric)
    away.on = False
    review_item(session.ws, rubric, 0, "ana", uid=mine.uid, values=BAD)  # elsewhere
    first = session.settle(session.flush_kept(), shown_uid=None)
    assert first.show is None and len(first.notes) == 1 and "changed elsewhere" in first.notes[0]
    assert session.conflicted == {mine.uid}
    assert session.settle(session.flush_kept(), shown_uid=None).notes == []  # said once
    on_screen = session.settle(session.flush_kept(), shown_uid=mine.uid)
    assert isinstance(on_screen.show, ConflictError)
    assert on_screen.show.attempted.values["quality"] == "5"
    assert len(session.drafts.pending(session.ws.workspace_id)) == 1  # until shown
    session.discard_kept(mine.uid)
    assert session.drafts.pending(session.ws.workspace_id) == []


def test_a_failed_edit_is_held_for_its_item_until_it_reopens(session: ReviewSession) -> None:
    pref = Preference(batch="b", position=3, reviewer="ana", winner=Winner.TIE)
    session.keep_failed(3, pref)
    assert session.take_failed(3) == pref and session.take_failed(3) is None


def test_undo_goes_back_one_change_at_a_time() -> None:
    history = History("a")
    for state in ("b", "b", "c"):
        history.record(state)
    assert history.undo() == "b"
    assert history.undo() == "a"
    assert history.undo() is None


def test_events_follow_the_reviewer_through_the_queue(session: ReviewSession) -> None:
    seen: list[object] = []
    session.on_event(seen.append)
    session.opened(7)
    session.left(7, "skipped")
    session.close()
    session.opened(8)  # closed: nobody listens any more
    assert seen == [Opened(7), Left(7, "skipped"), Closed()]


@pytest.fixture
def pairs(workspace: Workspace, tmp_path: Path) -> Iterator[ReviewSession]:
    fill_trials(workspace, tasks=4)
    spec = SamplingSpec(size=2, seed=5, pairs=pair_spec("metadata.task_id", "version=1.0,2.0"))
    create_pair_batch(workspace, "cmp", spec)
    yield ReviewSession(workspace, DraftStore(tmp_path / "drafts.sqlite"))


def _pref(session: ReviewSession, winner: Winner, position: int = 0) -> Preference:
    queue = load_pair_queue(session.ws, "cmp", "ana")
    item = session.open_pair(queue, position)
    old = item.preference
    return Preference(
        uid=old.uid if old else new_review_uid(),
        batch="cmp",
        position=position,
        reviewer="ana",
        winner=winner,
    )


def test_a_pair_choice_is_kept_offline_and_saved_when_back(
    pairs: ReviewSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    away = _Away(monkeypatch)
    outcome = pairs.save_pair(_pref(pairs, Winner.LEFT), submit=True)
    assert outcome.kept_locally and "kept on this computer" in outcome.message
    pairs.went_offline()
    assert pairs.settle_pairs(pairs.flush_kept_pairs(), None).offline
    away.on = False
    report = pairs.flush_kept_pairs()
    [saved] = report.saved
    assert (saved.winner, saved.status) == (Winner.LEFT, "submitted")
    told = pairs.settle_pairs(report, None)
    assert told.notes == ["Workspace back: 1 kept choice(s) saved"] and not told.offline
    assert pairs.drafts.pending_preferences(pairs.ws.workspace_id) == []


def test_a_kept_pair_choice_changed_elsewhere_is_a_conflict_with_both_kept(
    pairs: ReviewSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = pairs.save_pair(_pref(pairs, Winner.LEFT), submit=False).preference
    away = _Away(monkeypatch)
    pairs.save_pair(first.model_copy(update={"winner": Winner.TIE}), submit=True)
    away.on = False
    save_preference(pairs.ws, first.model_copy(update={"winner": Winner.RIGHT}))  # elsewhere
    report = pairs.flush_kept_pairs()
    [conflict] = report.conflicts
    assert isinstance(conflict, PreferenceConflict) and conflict.submit
    assert (conflict.attempted.winner, conflict.stored.winner) == (Winner.TIE, Winner.RIGHT)
    assert _pref(pairs, Winner.TIE).uid == first.uid
    assert load_pair_queue(pairs.ws, "cmp", "ana").entries[0].status == "draft"  # untouched
    assert len(pairs.drafts.pending_preferences(pairs.ws.workspace_id)) == 1
    queue = load_pair_queue(pairs.ws, "cmp", "ana")
    shown = pairs.settle_pairs(report, pairs.open_pair(queue, 0))
    assert shown.show is conflict
    # Keep mine: the stored one is adopted and the kept choice saved.
    pairs.adopt_pair(conflict.stored)
    pairs.discard_kept(first.uid)
    assert pairs.save_pair(conflict.attempted, submit=True).preference.winner == Winner.TIE
    # Saved here, then kept again offline and flushed: no conflict (nothing changed elsewhere).
    away.on = True
    pairs.save_pair(conflict.attempted.model_copy(update={"winner": Winner.LEFT}), submit=True)
    away.on = False
    again = pairs.flush_kept_pairs()
    assert again.conflicts == [] and again.saved[0].winner == Winner.LEFT


def test_the_draft_file_carries_its_format_version(tmp_path: Path) -> None:
    import sqlite3

    store = DraftStore(tmp_path / "d.sqlite")
    assert store.pending("ws") == [] and store.pending_preferences("ws") == []
    with sqlite3.connect(tmp_path / "d.sqlite") as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == drafts.FORMAT


def test_a_retry_that_fails_says_why_and_only_a_lost_server_means_offline(
    session: ReviewSession,
) -> None:
    gone = session.retry_failed(WorkspaceUnavailable("cannot reach the workspace x"))
    assert gone.offline and gone.offline_message == "cannot reach the workspace x"
    assert session.offline
    other = session.retry_failed(OSError("disk is full"), pairs=True)
    assert other.offline is None and other.notes == ["Kept choices not saved yet: disk is full"]
    assert session.offline  # unchanged: still out of reach as far as anyone knows


def test_a_first_choice_kept_offline_meets_one_made_elsewhere_by_its_pair(
    pairs: ReviewSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing was stored when the pair was opened: the one saved elsewhere has another uid."""
    mine = _pref(pairs, Winner.LEFT)
    away = _Away(monkeypatch)
    pairs.save_pair(mine, submit=True)
    away.on = False
    theirs = save_preference(
        pairs.ws, mine.model_copy(update={"uid": new_review_uid(), "winner": Winner.RIGHT})
    )
    report = pairs.flush_kept_pairs()
    [conflict] = report.conflicts
    queue = load_pair_queue(pairs.ws, "cmp", "ana")
    other_pair = pairs.open_pair(queue, 1)
    told = pairs.settle_pairs(report, other_pair)
    assert told.show is None and "changed elsewhere" in told.notes[0]
    assert pair_key("cmp", 0) in pairs.conflicted
    on_screen = pairs.settle_pairs(pairs.flush_kept_pairs(), pairs.open_pair(queue, 0))
    assert isinstance(on_screen.show, PreferenceConflict)
    assert on_screen.show.stored.uid == theirs.uid != mine.uid
    # Keep mine, over the saved one.
    pairs.adopt_pair(conflict.stored)
    pairs.discard_kept(mine.uid)
    kept = pairs.save_pair(mine.model_copy(update={"uid": theirs.uid}), submit=True)
    assert (kept.preference.uid, kept.preference.winner) == (theirs.uid, Winner.LEFT)
