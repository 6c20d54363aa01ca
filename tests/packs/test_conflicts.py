"""A lead settles the conflicts a merge kept: nothing is deleted, everything is audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from reviewer.domain.rubric import Rubric
from reviewer.services.audit import audit_trail
from reviewer.services.conflicts import ConflictResolutionError, open_conflicts, resolve_conflict
from reviewer.services.merging import merge_results
from reviewer.services.packs import create_pack, open_pack, write_results
from reviewer.store.tables import ReviewRow
from reviewer.store.workspace import Workspace
from tests.packs.helpers import BAD, GOOD, key, make_batch, review_item

OTHER = {**GOOD, "quality": "1", "correctness": "partially_correct"}


def conflicted(ws: Workspace, rubric: Rubric, tmp: Path) -> Path:
    """ana reviewed item 0; the pack carries it; both the lead and ana change it."""
    make_batch(ws, "b1", {"ana": range(2)}, items=2)
    first = review_item(ws, rubric, 0, "ana", values=GOOD)
    pack = create_pack(ws, "b1", "ana", tmp / "ana.reviewpack")
    review_item(ws, rubric, 0, "ana", values=BAD, uid=first.uid)  # changed at home
    offline = open_pack(pack.path)
    review_item(offline, rubric, 0, "ana", values=OTHER, uid=first.uid)  # and offline
    out = write_results(offline, tmp / "ana.reviewresults").path
    offline.close()
    return out


def in_use(ws: Workspace) -> dict[str, object]:
    with ws.read() as s:
        row = s.scalar(select(ReviewRow).where(ReviewRow.conflict_of.is_(None)))
        assert row is not None
        return dict(row.values)


def test_keeping_the_version_in_use_marks_the_other_resolved(
    workspace: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    results = conflicted(workspace, rubric, tmp_path)
    assert merge_results(workspace, [results]).flagged == 1
    [conflict] = open_conflicts(workspace)
    assert conflict.current.values == BAD and conflict.kept.values == OTHER
    assert conflict.differences() == ["Correctness", "Quality"]
    resolve_conflict(workspace, conflict.kept_uid, "current", actor="lead")
    assert open_conflicts(workspace) == []
    assert in_use(workspace) == BAD
    with workspace.read() as s:
        assert len(s.scalars(select(ReviewRow)).all()) == 2  # nothing deleted
    trail = audit_trail(workspace, review_uid=conflict.kept_uid)
    assert trail[-1].action == "resolve" and trail[-1].actor == "lead"
    assert trail[-1].after is not None and trail[-1].after["resolved"] == "current"


def test_using_the_kept_version_puts_it_in_place_and_is_audited(
    workspace: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    results = conflicted(workspace, rubric, tmp_path)
    merge_results(workspace, [results])
    [conflict] = open_conflicts(workspace)
    now = resolve_conflict(workspace, conflict.kept_uid, "kept", actor="lead")
    assert now.uid == conflict.current.uid and now.values == OTHER
    assert in_use(workspace) == OTHER
    actions = [r.action for r in audit_trail(workspace, session_key=key(0))]
    assert actions.count("resolve") == 2  # the review put in place, and the one set aside
    # settling again, or merging the same file again, changes nothing
    again = resolve_conflict(workspace, conflict.kept_uid, "current", actor="lead")
    assert again.values == OTHER
    report = merge_results(workspace, [results])
    assert (report.added, report.updated, report.flagged) == (0, 0, 0)
    assert open_conflicts(workspace) == [] and in_use(workspace) == OTHER


def test_an_unknown_conflict_is_refused(workspace: Workspace) -> None:
    with pytest.raises(ConflictResolutionError, match="no conflict"):
        resolve_conflict(workspace, "f" * 32, "kept", actor="lead")
