"""One way to write a file: it appears whole or not at all, and a failure leaves the file
that was there and nothing beside it. Exports (tests/export/test_atomic.py), packs,
backups and reports all write this way."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from reviewer import atomic
from reviewer.atomic import AtomicFile, write_bytes


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_write_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_bytes(b"old")
    write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert _names(tmp_path) == ["notes.txt"]


def test_a_failure_mid_write_keeps_the_old_file_and_leaves_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"), AtomicFile(target) as f:
        f.file.write(b"half of the new")
        assert _names(tmp_path) == [f.path.name, "notes.txt"]
        assert atomic.PARTIAL.match(f.path.name)
        raise OSError("disk full")
    assert target.read_bytes() == b"old"
    assert _names(tmp_path) == ["notes.txt"]


def test_a_failed_rename_keeps_the_old_file_and_leaves_no_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "notes.txt"
    target.write_bytes(b"old")

    def refuse(src: object, dst: object) -> None:
        raise PermissionError("read-only folder")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert _names(tmp_path) == ["notes.txt"]


def test_leaving_without_a_commit_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "new.txt"
    with AtomicFile(target) as f:
        f.file.write(b"cancelled")
    assert _names(tmp_path) == []


def test_the_file_gets_the_mode_asked_for(tmp_path: Path) -> None:
    write_bytes(tmp_path / "usual", b"x")
    write_bytes(tmp_path / "private", b"x", mode=0o600)
    probe = tmp_path / "probe"
    probe.touch()
    assert stat.S_IMODE((tmp_path / "usual").stat().st_mode) == stat.S_IMODE(probe.stat().st_mode)
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o600


def test_a_partial_file_being_written_is_not_cleaned_but_a_stale_one_is(tmp_path: Path) -> None:
    target = tmp_path / "big.bin"
    with AtomicFile(target) as f:
        left = atomic.create_beside(tmp_path / "killed.bin")
        assert left is not None
        hour_ago = f.path.stat().st_mtime - 3600
        for p in (f.path, left):
            os.utime(p, (hour_ago, hour_ago))
        assert atomic.clean_stale(tmp_path) == [left.name]  # f is held while written
        f.file.write(b"done")
        f.commit()
    assert _names(tmp_path) == ["big.bin"]


def test_a_discarded_pack_leaves_nothing_and_a_sealed_one_is_private(tmp_path: Path) -> None:
    from reviewer.packfile import SealedWriter

    out = tmp_path / "packs" / "week.pack"
    writer = SealedWriter(out)
    writer.add("sessions.jsonl", b"{}\n")
    writer.discard()
    assert _names(out.parent) == []
    writer = SealedWriter(out)
    writer.add("sessions.jsonl", b"{}\n")
    writer.seal({"format": "x"}, b"key")
    writer.commit()
    assert _names(out.parent) == ["week.pack"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_backup_that_fails_leaves_no_partial_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewer.services import backups
    from reviewer.store import migrate

    db = tmp_path / "ws.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (x)")
    con.close()
    first = backups.backup_now(db)

    def failing(src: Path, dest: Path) -> Path:
        dest.write_bytes(b"half a database")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(migrate, "backup_sqlite", failing)
    with pytest.raises(backups.BackupError, match="disk I/O error"):
        backups.backup_now(db)
    assert _names(backups.backups_dir(db)) == [first.name]


def test_a_report_that_cannot_be_written_whole_keeps_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewer.render import report

    out = tmp_path / "report.html"
    out.write_text("previous")

    def full(_: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(report, "render_html", lambda _: "<html>new</html>")
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="disk full"):
        report.write_report(object(), out)  # type: ignore[arg-type]
    assert out.read_text() == "previous"
    assert _names(tmp_path) == ["report.html"]
