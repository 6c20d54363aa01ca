"""Every kind of change to a review leaves an audit entry, exported per session."""

from __future__ import annotations

from pathlib import Path

from reviewer.domain.review import Review, ReviewRole, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.audit import audit_trail, describe_change
from reviewer.services.merging import merge_results
from reviewer.services.packs import create_pack, open_pack, write_results
from reviewer.services.reviewing import save
from reviewer.store.workspace import Workspace
from tests.packs.helpers import BAD, GOOD, key, make_batch, review_item


def test_every_kind_of_change_is_audited_with_who_when_before_and_after(
    workspace: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    ws = workspace
    make_batch(ws, "b1", {"ana": range(4)}, items=4)
    draft = review_item(ws, rubric, 0, "ana", status=ReviewStatus.DRAFT)  # create
    review_item(ws, rubric, 0, "ana", uid=draft.uid, values=BAD, status=ReviewStatus.DRAFT)
    review_item(ws, rubric, 0, "ana", uid=draft.uid, values=BAD)  # submit
    review_item(ws, rubric, 1, "ana", status=ReviewStatus.SKIPPED)
    review_item(ws, rubric, 2, "ana", status=ReviewStatus.FLAGGED)
    save(
        ws,
        Review(
            session_key=key(0),
            batch="b1",
            reviewer="lead",
            role=ReviewRole.ADJUDICATOR,
            rubric_name=rubric.name,
            rubric_version=rubric.version,
            values=dict(GOOD),
            status=ReviewStatus.SUBMITTED,
        ),
        rubric,
    )
    pack = create_pack(ws, "b1", "ana", tmp_path / "ana.reviewpack")
    offline = open_pack(pack.path)
    review_item(offline, rubric, 3, "ana")  # new offline → merge
    review_item(offline, rubric, 0, "ana", uid=draft.uid, values=GOOD)  # → conflict below
    results = write_results(offline, tmp_path / "ana.results").path
    offline.close()
    review_item(ws, rubric, 0, "ana", uid=draft.uid, values={**GOOD, "quality": "1"})
    merge_results(ws, [results], actor="lead")

    trail = audit_trail(ws)
    actions = {r.action for r in trail}
    assert actions == {
        "create",
        "edit",
        "submit",
        "skip",
        "flag",
        "adjudicate",
        "merge",
        "conflict",
    }
    assert all(r.actor and r.at.tzinfo is not None for r in trail)
    edit = next(r for r in trail if r.action == "edit")
    assert edit.before is not None and edit.after is not None
    assert edit.before["values"]["quality"] == GOOD["quality"]
    assert edit.after["values"]["quality"] == BAD["quality"]
    assert describe_change(edit) == "changed correctness, quality"
    merged = next(r for r in trail if r.action == "merge")
    assert merged.actor == "lead" and merged.after is not None
    assert merged.after["pack_id"] == pack.pack_id
    # The pack's own bookkeeping ("unpack") stays in the pack.
    assert "unpack" not in actions

    only_0 = audit_trail(ws, session_key=key(0))
    assert {r.session_key for r in only_0} == {key(0)}
    assert next(r.action for r in only_0 if r.actor == "lead") == "adjudicate"
    assert len(audit_trail(ws, review_uid=draft.uid)) >= 4
