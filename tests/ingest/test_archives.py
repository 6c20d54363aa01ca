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

import orjson
import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.ingest.archive import LOCAL_HEADER, ArchiveError, SafeZip
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


def _data_start(data: bytes, info: zipfile.ZipInfo) -> int:
    name_len, extra_len = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    return info.header_offset + LOCAL_HEADER + name_len + extra_len


def _bad_crc(data: bytearray, info: zipfile.ZipInfo) -> None:
    data[_data_start(data, info) + 10] ^= 0x20  # a stored entry: the bytes no longer match


def _bad_compressed_data(data: bytearray, info: zipfile.ZipInfo) -> None:
    start = _data_start(data, info)
    data[start : start + 8] = b"\xff" * 8


def _lying_size(data: bytearray, info: zipfile.ZipInfo) -> None:
    """The central directory says the compressed data is shorter than it is."""
    pos = data.find(b"PK\x01\x02")
    while data[pos + 46 : pos + 46 + len(info.filename)] != info.filename.encode():
        pos = data.find(b"PK\x01\x02", pos + 4)
    size = struct.unpack("<I", data[pos + 20 : pos + 24])[0]
    data[pos + 20 : pos + 24] = struct.pack("<I", size - 50)


DAMAGE: dict[str, Callable[[bytearray, zipfile.ZipInfo], None]] = {
    "bad CRC": _bad_crc,
    "bad compressed data": _bad_compressed_data,
    "lying size field": _lying_size,
}


def _eval_with_damaged_members(path: Path) -> Path:
    """An Inspect `.eval` of 5 samples; samples 2, 3 and 4 damaged, one way each."""
    from tests.ingest.test_inspect_ai import SPEC, _sample

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("header.json", orjson.dumps({"version": 2, "eval": SPEC}))
        for i in range(1, 6):
            method = zipfile.ZIP_STORED if i == 2 else zipfile.ZIP_DEFLATED
            z.writestr(f"samples/{i}_epoch_1.json", orjson.dumps(_sample(i)), method)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        for i, damage in zip((2, 3, 4), DAMAGE.values(), strict=True):
            damage(data, z.getinfo(f"samples/{i}_epoch_1.json"))
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_entry_is_an_archive_error(tmp_path: Path) -> None:
    path = _eval_with_damaged_members(tmp_path / "damaged.eval")
    with SafeZip(path, 50_000_000) as z:
        z.read("samples/1_epoch_1.json")
        for i in (2, 3, 4):
            with pytest.raises(ArchiveError, match="is damaged"):
                z.read(f"samples/{i}_epoch_1.json")


def test_damaged_eval_members_are_rejects_and_the_import_goes_on(tmp_path: Path) -> None:
    """Each damaged member is one reject with its reason; the good samples and the files
    after it are imported; no traceback, exit status 3 (some records rejected)."""
    from reviewer.services.workspaces import init_workspace
    from reviewer.synth.generator import write_jsonl

    ws_path = tmp_path / "ws.sqlite"
    init_workspace(ws_path).close()
    damaged = _eval_with_damaged_members(tmp_path / "damaged.eval")
    later = tmp_path / "later.jsonl"
    write_jsonl(later, 4, 1)
    report = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(
        main, ["import", str(ws_path), str(damaged), str(later), "--report", str(report)]
    )
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert "total: 6 imported, 0 duplicate, 0 revised, 3 rejected" in result.output
    rejects = [orjson.loads(line) for line in report.read_text().splitlines()]
    assert [r["line"] for r in rejects] == [f"samples/{i}_epoch_1.json" for i in (2, 3, 4)]
    assert all("is damaged" in r["reason"] for r in rejects)
