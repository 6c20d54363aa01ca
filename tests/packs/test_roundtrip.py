"""A pack's whole trip: made from the lead's workspace, reviewed offline as a private
workspace, its results merged back while the lead kept working."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from reviewer.domain.review import ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.merging import kept_copy_uid, merge_results
from reviewer.services.packs import (
    create_pack,
    open_pack,
    pack_info,
    pack_workspace_path,
    write_results,
)
from reviewer.services.reviewing import ItemStatus, QueueSpec, load_queue, open_item
from reviewer.store.reviews import get_review
from reviewer.store.tables import AuditEntry, MergeRow, ReviewRow
from reviewer.store.workspace import Workspace
from tests.packs.helpers import BAD, GOOD, key, make_batch, review_item, reviews_state

EDITED = {**GOOD, "quality": "5", "rationale": "clear and right"}
LEAD_EDIT = {**GOOD, "quality": "3"}


def test_round_trip_with_edits_on_both_sides(
    workspace: Workspace, rubric: Rubric, tmp_path: Path, data_dir: Path
) -> None:
    ws = workspace
    make_batch(ws, "b1", {"ana": range(4), "bob": range(2, 6)}, items=6)
    draft = review_item(ws, rubric, 0, "ana", values=BAD, status=ReviewStatus.DRAFT)
    done = review_item(ws, rubric, 1, "ana", values=GOOD)
    pack = create_pack(ws, "b1", "ana", tmp_path / "ana.reviewpack")
    assert (pack.items, pack.reviews) == (4, 2)

    # Offline: the pack opens as a workspace of its own, beside nothing of the lead's.
    offline = open_pack(pack.path)
    assert offline.path == pack_workspace_path(pack.pack_id, data_dir)
    assert offline.workspace_id != ws.workspace_id
    info = pack_info(offline)
    assert info is not None and (info.reviewer, info.batch) == ("ana", "b1")
    queue = load_queue(offline, QueueSpec(reviewer="ana", batch="b1"))
    assert len(queue.ids) == 4
    assert sorted(queue.statuses.values()) == [ItemStatus.DRAFT, ItemStatus.SUBMITTED]
    item = open_item(offline, queue, queue.ids[0])
    assert item.session.id == key(0) and item.review.uid == draft.uid
    review_item(offline, rubric, 0, "ana", uid=draft.uid, values=EDITED)  # draft → submitted
    review_item(offline, rubric, 1, "ana", uid=done.uid, values=EDITED)  # edited offline
    new = review_item(offline, rubric, 2, "ana", values=BAD, status=ReviewStatus.FLAGGED)
    results = write_results(offline, tmp_path / "ana.results")
    offline.close()
    assert results.reviews == 3

    # Meanwhile the lead's workspace changed item 1 too, and bob reviewed his items.
    review_item(ws, rubric, 1, "ana", uid=done.uid, values=LEAD_EDIT)
    review_item(ws, rubric, 2, "bob", values=GOOD)

    report = merge_results(ws, [results.path], actor="lead")
    assert (report.added, report.updated, report.skipped, report.flagged) == (1, 1, 0, 1)
    assert report.backup is not None and Path(report.backup).exists()
    [conflict] = report.files[0].conflicts
    assert conflict.review_uid == done.uid and conflict.session_key == key(1)
    with ws.read() as s:
        merged_draft = get_review(s, draft.uid)
        assert merged_draft is not None and merged_draft.status is ReviewStatus.SUBMITTED
        assert merged_draft.values == EDITED
        kept_here = get_review(s, done.uid)
        assert kept_here is not None and kept_here.values == LEAD_EDIT  # never overwritten
        copy = s.scalar(select(ReviewRow).where(ReviewRow.uid == conflict.kept_uid))
        assert copy is not None and copy.values == EDITED and copy.conflict_of == done.uid
        assert copy.uid == kept_copy_uid(done.uid, pack.pack_id)
        added = s.scalar(select(ReviewRow).where(ReviewRow.uid == new.uid))
        assert added is not None and added.origin == f"pack:{pack.pack_id}"
        assert added.status == "flagged"
        bob = s.scalars(select(ReviewRow).where(ReviewRow.reviewer == "bob")).all()
        assert len(bob) == 1  # every reviewer keeps their own reviews
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.actor == "lead")).all()
        assert sorted(actions) == ["conflict", "merge", "merge"]
        # The offline changes arrive in the trail with who made them and when.
        offline_actions = s.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.review_uid == draft.uid, AuditEntry.actor == "ana")
            .order_by(AuditEntry.id)
        ).all()
        assert offline_actions == ["create", "submit"]


def test_merging_the_same_results_twice_changes_nothing(
    workspace: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    ws = workspace
    make_batch(ws, "b1", {"ana": range(3)}, items=3)
    pack = create_pack(ws, "b1", "ana", tmp_path / "ana.reviewpack")
    offline = open_pack(pack.path)
    for pos in range(3):
        review_item(offline, rubric, pos, "ana")
    results = write_results(offline, tmp_path / "ana.results")
    offline.close()

    first = merge_results(ws, [results.path], actor="lead")
    assert first.added == 3
    state = reviews_state(ws)
    with ws.read() as s:
        audit = s.scalars(select(AuditEntry.id)).all()
    again = merge_results(ws, [results.path, results.path], actor="lead")
    assert (again.added, again.updated, again.flagged) == (0, 0, 0)
    assert again.files[0].already_merged and again.backup is None
    assert reviews_state(ws) == state
    with ws.read() as s:
        assert s.scalars(select(AuditEntry.id)).all() == audit
        assert len(s.scalars(select(MergeRow.id)).all()) == 1

    # The same results written again (other bytes, same content) change nothing either.
    offline = open_pack(pack.path)
    rewritten = write_results(offline, tmp_path / "ana-again.results")
    offline.close()
    third = merge_results(ws, [rewritten.path], actor="lead")
    assert (third.added, third.updated, third.skipped, third.flagged) == (0, 0, 3, 0)
    assert reviews_state(ws) == state
    with ws.read() as s:
        assert s.scalars(select(AuditEntry.id)).all() == audit


def test_reopening_a_pack_continues_the_work_done_in_it(
    workspace: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    make_batch(workspace, "b1", {"ana": range(2)}, items=2)
    pack = create_pack(workspace, "b1", "ana", tmp_path / "ana.reviewpack")
    offline = open_pack(pack.path)
    saved = review_item(offline, rubric, 0, "ana", status=ReviewStatus.DRAFT)
    offline.close()
    offline = open_pack(pack.path)
    with offline.read() as s:
        assert get_review(s, saved.uid) is not None
    results = write_results(pack.path, tmp_path / "r.results")  # by the pack file, too
    offline.close()
    assert results.reviews == 1
