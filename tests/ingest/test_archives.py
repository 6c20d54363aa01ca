"""Hostile archives on every path that reads one (Inspect `.eval`, review packs, results
files): refused with a clear message, nothing written outside a temporary folder, the
workspace unchanged."""

from __future__ import annotations

import stat
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from reviewer.ingest.archive import ArchiveError, SafeZip
from reviewer.services.importing import import_paths
from reviewer.services.merging import MergeError, merge_results
from reviewer.services.packs import PackError, open_pack
from reviewer.store.workspace import Workspace
from tests.packs.helpers import reviews_state


def _slip(z: zipfile.ZipFile) -> None:
    z.writestr("../../evil.json", "{}")


def _absolute(z: zipfile.ZipFile) -> None:
    z.writestr("/tmp/evil-absolute.json", "{}")


def _symlink(z: zipfile.ZipFile) -> None:
    info = zipfile.ZipInfo("samples/link.json")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    z.writestr(info, "/etc/passwd")


def _duplicate(z: zipfile.ZipFile) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it writes
        z.writestr("manifest.json", "{}")
        z.writestr("manifest.json", '{"again": true}')


def _bomb(z: zipfile.ZipFile) -> None:
    z.writestr("samples/1_epoch_1.json", b" " * 5_000_000, compress_type=zipfile.ZIP_DEFLATED)


def _overlap_after(path: Path) -> None:
    """Point the second central directory record at the first entry's data."""
    data = bytearray(path.read_bytes())
    first = data.find(b"PK\x01\x02")
    second = data.find(b"PK\x01\x02", first + 4)
    (offset,) = struct.unpack_from("<I", data, first + 42)
    struct.pack_into("<I", data, second + 42, offset)
    path.write_bytes(bytes(data))


def _overlap(z: zipfile.ZipFile) -> None:
    z.writestr("manifest.json", "{}")
    z.writestr("samples/a.json", "{}")


KINDS: dict[str, tuple[Callable[[zipfile.ZipFile], None], str]] = {
    "zip slip": (_slip, "unsafe entry name"),
    "absolute path": (_absolute, "unsafe entry name"),
    "symlink": (_symlink, "symbolic link"),
    "duplicate entry": (_duplicate, "appears twice"),
    "overlapping entries": (_overlap, "overlap"),
    "zip bomb": (_bomb, "expands more than 100"),
}


def _archive(path: Path, kind: str) -> Path:
    build, _ = KINDS[kind]
    with zipfile.ZipFile(path, "w") as z:
        build(z)
    if kind == "overlapping entries":
        _overlap_after(path)
    return path


def _outside(tmp: Path) -> set[str]:
    """Every file name in the folder around the test's own (where a slip would land)."""
    return {p.name for p in tmp.parent.iterdir()}


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_archive_reader_refuses(kind: str, tmp_path: Path) -> None:
    path = _archive(tmp_path / "x.zip", kind)
    with pytest.raises(ArchiveError, match=KINDS[kind][1]):
        SafeZip(path, 50_000_000)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("reader", ["eval import", "open pack", "merge results"])
def test_every_path_refuses_and_changes_nothing(
    kind: str, reader: str, workspace: Workspace, tmp_path: Path
) -> None:
    suffix = {"eval import": ".eval", "open pack": ".reviewpack", "merge results": ".results"}
    path = _archive(tmp_path / f"hostile{suffix[reader]}", kind)
    before_outside = _outside(tmp_path)
    before = reviews_state(workspace)
    if reader == "eval import":
        report = tmp_path / "r.jsonl"
        summary = import_paths(workspace, [path], fmt="inspect-ai", report=report)
        assert summary.imported == 0 and summary.rejected >= 1
        assert KINDS[kind][1] in report.read_text()
    elif reader == "open pack":
        with pytest.raises(PackError, match=KINDS[kind][1]):
            open_pack(path, data_dir=tmp_path / "data")
    else:
        with pytest.raises(MergeError, match=KINDS[kind][1]):
            merge_results(workspace, [path])
    assert reviews_state(workspace) == before
    with workspace.read() as s:
        from sqlalchemy import text

        assert s.execute(text("SELECT count(*) FROM sessions")).scalar() == 0
    assert _outside(tmp_path) == before_outside
    assert not Path("/tmp/evil-absolute.json").exists()
    assert not list(tmp_path.glob("data/**/*.sqlite"))  # no pack workspace was made
