"""The pack file: what it holds, and that damaged or hostile files are refused."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from reviewer.domain.pack import PackManifest
from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Session
from reviewer.packfile import manifest_checksum, sha256_hex
from reviewer.services.importing import store_sessions
from reviewer.services.merging import merge_results
from reviewer.services.packs import (
    PackError,
    create_pack,
    open_pack,
    read_pack_manifest,
    write_results,
)
from reviewer.services.reviewing import QueueSpec, load_queue, open_item, save
from reviewer.store.reviews import get_review
from reviewer.store.sessions import latest_id, load_session
from reviewer.store.tables import PackRow
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session
from tests.packs.helpers import GOOD, key, make_batch, review_item
from tests.packs.hostile import forge_results, reseal_pack


def _reseal(src: Path, dest: Path, manifest_change: dict[str, object]) -> Path:
    """A copy of a pack with manifest fields changed, its checksum and HMAC made right."""
    return reseal_pack(src, dest, manifest_change)


def test_a_pack_holds_the_sessions_rubric_and_assignment_with_a_checksum(
    workspace: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    make_batch(workspace, "b1", {"ana": [1, 3], "bob": [0, 2]}, items=4, gold=[3])
    pack = create_pack(workspace, "b1", "ana", tmp_path / "ana.reviewpack")
    with zipfile.ZipFile(pack.path) as z:
        names = sorted(z.namelist())
        manifest = PackManifest.model_validate_json(z.read("manifest.json"))
        assert names == [
            "manifest.json",
            "reviews.jsonl",
            "sessions/000001.json",
            "sessions/000003.json",
        ]
        for name in names[1:]:
            assert manifest.entries[name] == sha256_hex(z.read(name))
        packed = Session.model_validate_json(z.read("sessions/000003.json"))
    assert manifest == read_pack_manifest(pack.path)
    assert (
        manifest.checksum
        == pack.checksum
        == manifest_checksum(orjson.loads(zipfile.ZipFile(pack.path).read("manifest.json")))
    )
    assert manifest.workspace_id == workspace.workspace_id and manifest.reviewer == "ana"
    assert (manifest.rubric.name, manifest.rubric.version) == (rubric.name, rubric.version)
    # item 3 is a gold item at home, but the pack does not tell the reviewer so
    assert [(i.position, i.session_key, i.is_gold) for i in manifest.items] == [
        (1, key(1), False),
        (3, key(3), False),
    ]
    with workspace.read() as s:
        sid = latest_id(s, key(3))
        assert sid is not None and load_session(s, sid) == packed  # full canonical content


def test_session_revisions_and_rubric_versions_survive_the_trip(
    workspace: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    store_sessions(workspace, [make_session(key(0), text="first wording")])
    make_batch(workspace, "b1", {"ana": [0]}, items=1)  # stores revision 2 of s-00000
    pack = create_pack(workspace, "b1", "ana", tmp_path / "ana.reviewpack")
    offline = open_pack(pack.path)
    queue = load_queue(offline, QueueSpec(reviewer="ana", batch="b1"))
    item = open_item(offline, queue, queue.ids[0])
    assert item.review.session_revision == 2 and item.session.steps[1].content == "question 0"
    assert (item.rubric.name, item.rubric.version) == (rubric.name, rubric.version)
    done = save(offline, item.review.model_copy(update={"values": dict(GOOD)}), item.rubric)
    results = write_results(offline, tmp_path / "r.results")
    offline.close()
    merge_results(workspace, [results.path])
    with workspace.read() as s:
        merged = get_review(s, done.uid)
    assert merged is not None and merged.session_revision == 2


def test_damaged_newer_and_hostile_packs_are_refused(workspace: Workspace, tmp_path: Path) -> None:
    make_batch(workspace, "b1", {"ana": [0, 1]}, items=2)
    pack = create_pack(workspace, "b1", "ana", tmp_path / "ana.reviewpack").path
    newer = _reseal(pack, tmp_path / "newer.reviewpack", {"format_version": 4})
    with pytest.raises(PackError, match="newer version of AgentOps Reviewer"):
        open_pack(newer)
    older = _reseal(pack, tmp_path / "older.reviewpack", {"format_version": 1})
    with pytest.raises(PackError, match=r"older version .* make the reviewer a new pack"):
        open_pack(older)
    other_session = _reseal(pack, tmp_path / "swap.reviewpack", {})
    with zipfile.ZipFile(other_session, "a") as z:
        z.writestr("sessions/000009.json", b"smuggled")
    with pytest.raises(PackError, match="entries its manifest does not list"):
        open_pack(other_session)
    with zipfile.ZipFile(other_session, "a") as z:
        z.writestr("extra.txt", b"smuggled")
    with pytest.raises(PackError, match=r"entry not allowed in a review pack: 'extra\.txt'"):
        open_pack(other_session)
    link = tmp_path / "link.reviewpack"
    with zipfile.ZipFile(link, "w") as z:
        info = zipfile.ZipInfo("sessions/000000.json")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "/etc/passwd")
    with pytest.raises(PackError, match="symbolic link"):
        open_pack(link)
    bomb = tmp_path / "bomb.reviewpack"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sessions/000000.json", b"0" * 5_000_000)
    with pytest.raises(PackError, match="zip bomb"):
        open_pack(bomb)
    with zipfile.ZipFile(pack) as z:
        data = {n: z.read(n) for n in z.namelist()}
    data["sessions/000001.json"] = data["sessions/000001.json"].replace(b"question", b"Question")
    edited = tmp_path / "edited.reviewpack"
    with zipfile.ZipFile(edited, "w") as z:
        for name, blob in data.items():
            z.writestr(name, blob)
    with pytest.raises(PackError, match=r"fails its checksum: entry sessions/000001\.json"):
        open_pack(edited)


def test_very_repetitive_sessions_still_make_a_readable_pack(
    workspace: Workspace, tmp_path: Path
) -> None:
    make_batch(workspace, "b1", {"ana": [0]}, items=1, texts={0: "a" * 3_000_000})
    pack = create_pack(workspace, "b1", "ana", tmp_path / "ana.reviewpack")
    with zipfile.ZipFile(pack.path) as z:
        # Compressed, it would expand more than the reader allows: it is stored as is.
        assert z.getinfo("sessions/000000.json").compress_type == zipfile.ZIP_STORED
    offline = open_pack(pack.path)
    queue = load_queue(offline, QueueSpec(reviewer="ana", batch="b1"))
    item = open_item(offline, queue, queue.ids[0])
    assert item.session.steps[1].content == "a" * 3_000_000
    offline.close()


def test_a_version_2_pack_and_its_results_are_still_read(
    workspace: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    """Format 3 added pairs; a version 2 pack (no pairs, no preferences) made by the previous
    release opens, and its version 2 results merge."""
    make_batch(workspace, "b1", {"ana": [0, 1]}, items=2)
    made = create_pack(workspace, "b1", "ana", tmp_path / "ana.reviewpack")
    old = _reseal(made.path, tmp_path / "v2.reviewpack", {"format_version": 2})
    with workspace.write() as s:  # the lead's workspace records the v2 file's checksum
        row = s.scalar(select(PackRow).where(PackRow.pack_id == made.pack_id))
        assert row is not None
        row.checksum = read_pack_manifest(old).checksum
    offline = open_pack(old)
    review_item(offline, rubric, 0, "ana")
    results = write_results(offline, tmp_path / "ana.results").path
    offline.close()
    v2 = forge_results(
        results,
        tmp_path / "v2.results",
        bytes.fromhex(read_pack_manifest(old).secret),
        manifest={"format_version": 2},
    )
    assert merge_results(workspace, [v2]).added == 1
