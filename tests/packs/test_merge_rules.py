"""What merging refuses, and that the order results arrive in does not matter."""

from __future__ import annotations

import zipfile
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from reviewer.domain.pack import REVIEWS_ENTRY
from reviewer.domain.review import ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.merging import MergeError, merge_results
from reviewer.services.packs import create_pack, open_pack, write_results
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.migrate import backup_sqlite
from reviewer.store.tables import AuditEntry, ReviewRow
from reviewer.store.workspace import Workspace
from tests.packs.helpers import BAD, GOOD, contents, make_batch, review_item, reviews_state
from tests.packs.hostile import forge_results, secret_for

OTHER = {**GOOD, "quality": "1", "correctness": "partially_correct"}


def _results(
    ws: Workspace, rubric: Rubric, tmp: Path, reviewer: str, positions: range, name: str
) -> Path:
    pack = create_pack(ws, "b1", reviewer, tmp / f"{name}.reviewpack")
    offline = open_pack(pack.path)
    for pos in positions:
        review_item(offline, rubric, pos, reviewer)
    out = write_results(offline, tmp / f"{name}.results").path
    offline.close()
    return out


def _clone(ws: Workspace, dest: Path) -> Workspace:
    assert ws.path is not None
    backup_sqlite(ws.path, dest)
    return open_existing(dest)


def _rewrite(src: Path, dest: Path, change: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change.get(info.filename, zin.read(info.filename)))
    return dest


def _forge(
    src: Path,
    dest: Path,
    key: bytes,
    *,
    manifest: dict[str, object] | None = None,
    entries: dict[str, bytes] | None = None,
) -> Path:
    """A copy of a results file with changes, sealed again under ``key`` (the pack's secret:
    what a reviewer who forges has), so that its checksum and HMAC hold."""
    return forge_results(src, dest, key, manifest=manifest, entries=entries)


@pytest.fixture
def lead(workspace: Workspace) -> Workspace:
    make_batch(workspace, "b1", {"ana": range(4), "bob": range(2, 6)}, items=6)
    return workspace


def test_a_tampered_results_file_is_refused_and_nothing_changes(
    lead: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    good = _results(lead, rubric, tmp_path, "ana", range(2), "ana")
    with zipfile.ZipFile(good) as z:
        lines = z.read(REVIEWS_ENTRY).replace(b'"quality":"4"', b'"quality":"5"')
        manifest = orjson.loads(z.read("manifest.json"))
    edited = _rewrite(good, tmp_path / "edited.results", {REVIEWS_ENTRY: lines})
    manifest["reviewer"] = "bob"
    relabelled = _rewrite(
        good, tmp_path / "relabelled.results", {"manifest.json": orjson.dumps(manifest)}
    )
    before = reviews_state(lead)
    for bad in (edited, relabelled):
        with pytest.raises(MergeError, match="fails its checksum") as err:
            merge_results(lead, [good, bad])  # one bad file: nothing at all is merged
        assert bad.name in str(err.value) and "\n" not in str(err.value)
    assert reviews_state(lead) == before
    assert not (tmp_path / "ws.sqlite.backups").exists()


def test_a_file_from_another_workspace_is_refused(
    lead: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    other = init_workspace(tmp_path / "other.sqlite")
    make_batch(other, "b1", {"ana": range(2)}, items=2)
    foreign = _results(other, rubric, tmp_path, "ana", range(2), "foreign")
    other.close()
    with pytest.raises(MergeError, match="comes from another workspace"):
        merge_results(lead, [foreign])
    assert reviews_state(lead) == []


def test_files_that_are_not_results_or_answer_no_pack_here_are_refused(
    lead: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    pack = create_pack(lead, "b1", "ana", tmp_path / "ana.reviewpack")
    with pytest.raises(MergeError, match="is a review pack, not a results file"):
        merge_results(lead, [pack.path])
    with pytest.raises(MergeError, match="no such file"):
        merge_results(lead, [tmp_path / "missing.results"])
    (tmp_path / "junk.results").write_bytes(b"not a zip")
    with pytest.raises(MergeError, match="not a readable results file"):
        merge_results(lead, [tmp_path / "junk.results"])
    good = _results(lead, rubric, tmp_path, "ana", range(1), "ana")
    # A well-sealed file naming a pack this workspace never made.
    forged = _forge(
        good, tmp_path / "forged.results", secret_for(lead, good), manifest={"pack_id": "f" * 32}
    )
    with pytest.raises(MergeError, match="never made"):
        merge_results(lead, [forged])


def test_unsafe_archives_are_refused(lead: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "slip.results"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("../../evil.txt", b"x")
        z.writestr("manifest.json", b"{}")
    with pytest.raises(MergeError, match="unsafe entry name"):
        merge_results(lead, [bad])


def test_results_of_different_reviewers_merge_the_same_in_any_order(
    lead: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    ana = _results(lead, rubric, tmp_path, "ana", range(4), "ana")
    bob = _results(lead, rubric, tmp_path, "bob", range(2, 6), "bob")
    twin = _clone(lead, tmp_path / "twin.sqlite")
    merge_results(lead, [ana])
    merge_results(lead, [bob])
    merge_results(twin, [bob])
    merge_results(twin, [ana])
    assert reviews_state(lead) == reviews_state(twin)
    assert len(reviews_state(lead)) == 8  # 4 + 4, overlapping items reviewed by both
    twin.close()


def test_partial_and_final_results_of_one_pack_merge_the_same_in_any_order(
    lead: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    pack = create_pack(lead, "b1", "ana", tmp_path / "ana.reviewpack")
    offline = open_pack(pack.path)
    first = review_item(offline, rubric, 0, "ana", status=ReviewStatus.DRAFT)
    review_item(offline, rubric, 1, "ana")
    day1 = write_results(offline, tmp_path / "day1.results").path
    review_item(offline, rubric, 0, "ana", uid=first.uid, values=OTHER)
    review_item(offline, rubric, 2, "ana")
    day2 = write_results(offline, tmp_path / "day2.results").path
    offline.close()
    twin = _clone(lead, tmp_path / "twin.sqlite")
    forward = [merge_results(lead, [day1]), merge_results(lead, [day2])]
    merge_results(twin, [day2])
    backward = merge_results(twin, [day1])
    assert backward.skipped == 2 and backward.flagged == 0  # day 1 is older than what is here
    assert [(r.added, r.updated, r.flagged) for r in forward] == [(2, 0, 0), (1, 1, 0)]
    assert contents(lead) == contents(twin)
    assert [r[:3] for r in reviews_state(lead)] == [r[:3] for r in reviews_state(twin)]
    twin.close()


def test_competing_packs_keep_every_version_in_any_order(
    lead: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    """The lead made ana a second pack (a lost laptop?) and both were worked on."""
    start = review_item(lead, rubric, 0, "ana", status=ReviewStatus.DRAFT)
    one = create_pack(lead, "b1", "ana", tmp_path / "one.reviewpack")
    two = create_pack(lead, "b1", "ana", tmp_path / "two.reviewpack")
    outs = []
    for pack, values in ((one, GOOD), (two, BAD)):
        offline = open_pack(pack.path)
        review_item(offline, rubric, 0, "ana", uid=start.uid, values=values)
        review_item(offline, rubric, 1, "ana", values=values)  # a new review in each
        outs.append(write_results(offline, tmp_path / f"{pack.pack_id}.results").path)
        offline.close()
    twin = _clone(lead, tmp_path / "twin.sqlite")
    a = [merge_results(lead, [out]) for out in outs]
    b = [merge_results(twin, [out]) for out in reversed(outs)]
    merge_results(twin, [outs[0]])  # and once more: nothing new
    for reports in (a, b):
        totals = [sum(getattr(r, k) for r in reports) for k in ("added", "updated", "flagged")]
        assert totals == [1, 1, 2]
    # The same versions are kept in either order (which of two offline versions is in use
    # and which is flagged beside it follows arrival; the lead picks).
    assert [c[:4] for c in contents(lead)] == [c[:4] for c in contents(twin)]
    with lead.read() as s:
        rows = s.scalars(select(ReviewRow)).all()
        # Nothing was lost: both offline versions of item 0 and of item 1 are there, one
        # of each pair in use and the other flagged beside it.
        assert sorted((r.session_id, r.values["quality"]) for r in rows) == [
            (rows[0].session_id, "2"),
            (rows[0].session_id, "4"),
            (rows[0].session_id + 1, "2"),
            (rows[0].session_id + 1, "4"),
        ]
        assert sum(r.conflict_of is not None for r in rows) == 2
        conflicts = s.scalars(select(AuditEntry).where(AuditEntry.action == "conflict")).all()
        assert len(conflicts) == 2
    twin.close()


def test_the_same_item_reviewed_here_and_offline_keeps_both(
    lead: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    pack = create_pack(lead, "b1", "ana", tmp_path / "ana.reviewpack")
    offline = open_pack(pack.path)
    theirs = review_item(offline, rubric, 3, "ana", values=BAD)
    results = write_results(offline, tmp_path / "ana.results").path
    offline.close()
    ours = review_item(lead, rubric, 3, "ana", values=GOOD)  # team mode, same item
    report = merge_results(lead, [results])
    assert report.flagged == 1
    [conflict] = report.files[0].conflicts
    assert (conflict.review_uid, conflict.kept_uid) == (ours.uid, theirs.uid)
    with lead.read() as s:
        kept = s.scalar(select(ReviewRow).where(ReviewRow.uid == theirs.uid))
        assert kept is not None and kept.conflict_of == ours.uid and kept.values == BAD


def test_a_review_uid_that_is_someone_elses_here_is_refused(
    lead: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    bobs = review_item(lead, rubric, 2, "bob")
    good = _results(lead, rubric, tmp_path, "ana", range(2, 3), "ana")
    with zipfile.ZipFile(good) as z:
        line = orjson.loads(z.read(REVIEWS_ENTRY))
    line["review"]["uid"] = bobs.uid  # well sealed, but claims bob's review as ana's
    clash = _forge(
        good,
        tmp_path / "clash.results",
        secret_for(lead, good),
        entries={REVIEWS_ENTRY: orjson.dumps(line) + b"\n"},
    )
    before = reviews_state(lead)
    with pytest.raises(MergeError, match="another reviewer's, session's or role's here"):
        merge_results(lead, [clash])
    assert reviews_state(lead) == before
