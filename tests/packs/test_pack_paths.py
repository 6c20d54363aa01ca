"""A crafted pack cannot reach outside the user data folder: names from the file are
checked before they touch a path, and no existing file is replaced without a backup."""

from __future__ import annotations

import hashlib
import sqlite3
import zipfile
from pathlib import Path

import pytest

from reviewer.services.packs import PackError, create_pack, open_pack, pack_workspace_path
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace
from tests.packs.helpers import make_batch
from tests.packs.hostile import files_outside, reseal_pack


def _victim(path: Path) -> bytes:
    """Another application's SQLite file (one table, one row); its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE precious (x TEXT)")
    con.execute("INSERT INTO precious VALUES ('keep me')")
    con.commit()
    con.close()
    return path.read_bytes()


@pytest.fixture
def pack(workspace: Workspace, tmp_path: Path) -> Path:
    make_batch(workspace, "b1", {"ana": [0, 1]}, items=2)
    return create_pack(workspace, "b1", "ana", tmp_path / "ana.reviewpack").path


def test_a_pack_id_that_climbs_out_of_the_data_folder_touches_nothing(
    pack: Path, tmp_path: Path, data_dir: Path
) -> None:
    """The attack of issue #21: `../../victim` and an absolute path as the pack id (with the
    manifest sealed again, as anyone can), opened as `reviewer pack open PACK --no-open`."""
    (data_dir / "packs").mkdir(parents=True)  # as after opening an earlier pack
    relative = tmp_path / "victim.sqlite"  # user-data/packs/../../victim.sqlite
    absolute = tmp_path / "elsewhere" / "app.sqlite"
    _victim(relative)
    _victim(absolute)
    # A workspace of ours (a lead's, say) where the pack id points.
    lead_like = init_workspace(tmp_path / "lead-copy.sqlite")
    lead_like.close()
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    before = files_outside(tmp_path, data_dir)
    for n, pack_id in enumerate(
        ("../../victim", str(absolute.with_suffix("")), "../../lead-copy", "..", "/")
    ):
        forged = reseal_pack(pack, hostile / f"{n}.reviewpack", {"pack_id": pack_id})
        with pytest.raises(PackError, match="pack id") as err:
            open_pack(forged)
        assert "\n" not in str(err.value)
    after = files_outside(tmp_path, data_dir)
    assert {k: v for k, v in after.items() if not k.startswith("hostile/")} == before
    assert (tmp_path / "lead-copy.sqlite").exists() and relative.exists() and absolute.exists()
    assert not list(data_dir.rglob("*.sqlite"))


def test_names_from_the_pack_are_checked_before_use(pack: Path, tmp_path: Path) -> None:
    for field, value in (
        ("reviewer", "../ana"),
        ("reviewer", "ana/../../x"),
        ("reviewer", "C:\\temp\\x"),
        ("reviewer", "ana\x00"),
        ("pack_id", "A" * 32),
        ("pack_id", ""),
    ):
        hostile = reseal_pack(pack, tmp_path / "hostile.reviewpack", {field: value})
        with pytest.raises(PackError, match=field):
            open_pack(hostile)
    with zipfile.ZipFile(pack) as z:
        manifest = z.read("manifest.json")
    batch = manifest.replace(b'"name": "b1"', b'"name": "../b1"')
    assert batch != manifest
    hostile = reseal_pack(pack, tmp_path / "hostile.reviewpack", {}, raw=batch)
    with pytest.raises(PackError, match="batch"):
        open_pack(hostile)


def test_an_item_entry_must_be_the_session_file_of_its_position(pack: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(pack) as z:
        manifest = z.read("manifest.json")
    moved = manifest.replace(b'"entry": "sessions/000001.json"', b'"entry": "reviews.jsonl"')
    assert moved != manifest
    hostile = reseal_pack(pack, tmp_path / "hostile.reviewpack", {}, raw=moved)
    with pytest.raises(PackError, match="entry"):
        open_pack(hostile)


def test_the_private_workspace_is_named_by_a_hash_inside_the_data_folder(
    pack: Path, data_dir: Path
) -> None:
    ws = open_pack(pack)
    assert ws.path is not None
    pack_id = ws.meta("pack_id")
    assert pack_id is not None
    digest = hashlib.sha256(pack_id.encode()).hexdigest()[:32]
    assert ws.path == (data_dir / "packs" / f"{digest}.sqlite").resolve()
    assert ws.path == pack_workspace_path(pack_id, data_dir)
    ws.close()


def test_a_link_planted_where_the_workspace_goes_is_refused(
    pack: Path, tmp_path: Path, data_dir: Path
) -> None:
    ws = open_pack(pack)
    assert ws.path is not None
    pack_id = ws.meta("pack_id")
    target = ws.path
    ws.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    elsewhere = tmp_path / "victim.sqlite"
    kept = _victim(elsewhere)
    target.symlink_to(elsewhere)
    with pytest.raises(PackError, match="outside"):
        open_pack(pack)
    assert pack_id is not None
    with pytest.raises(PackError, match="outside"):
        pack_workspace_path(pack_id, data_dir)
    assert elsewhere.read_bytes() == kept


def test_an_interrupted_opening_is_backed_up_before_it_is_replaced(
    pack: Path, data_dir: Path
) -> None:
    ws = open_pack(pack)
    assert ws.path is not None
    target = ws.path
    with ws.write() as s:
        from reviewer.store.tables import WorkspaceMeta

        s.merge(WorkspaceMeta(key="pack_complete", value="no"))  # as if killed midway
    ws.close()
    again = open_pack(pack)
    assert again.path == target and again.meta("pack_complete") == "yes"
    again.close()
    backups = list((target.parent / f"{target.name}.backups").glob("*.sqlite"))
    assert len(backups) == 1
    con = sqlite3.connect(backups[0])
    assert con.execute("SELECT value FROM workspace_meta WHERE key='pack_complete'").fetchone() == (
        "no",
    )
    con.close()


def test_a_foreign_file_where_the_workspace_goes_is_not_replaced(
    pack: Path, data_dir: Path
) -> None:
    ws = open_pack(pack)
    assert ws.path is not None
    target = ws.path
    ws.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    kept = _victim(target)  # not a workspace of this pack
    with pytest.raises(PackError):
        open_pack(pack)
    assert target.read_bytes() == kept


def test_a_batch_or_reviewer_name_that_cannot_travel_is_refused_when_packing(
    workspace: Workspace, tmp_path: Path
) -> None:
    make_batch(workspace, "Q3/support", {"ana": [0]}, items=1)
    with pytest.raises(PackError, match=r"batch name 'Q3/support' cannot travel in a pack"):
        create_pack(workspace, "Q3/support", "ana", tmp_path / "q3.reviewpack")
    assert not (tmp_path / "q3.reviewpack").exists()


def test_the_pack_open_command_refuses_a_climbing_pack_id(pack: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reviewer.cli import main

    hostile = reseal_pack(pack, tmp_path / "hostile.reviewpack", {"pack_id": "../../victim"})
    result = CliRunner().invoke(main, ["pack", "open", str(hostile), "--no-open"])
    assert result.exit_code != 0
    assert "'../../victim' is not a pack id" in result.output
