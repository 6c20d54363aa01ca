"""Reject reports are bounded whatever the number of bad records, and a full disk never
stops an import."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.services import reject_report
from reviewer.services.reject_report import IN_FULL, MAX_BYTES
from reviewer.services.workspaces import init_workspace
from reviewer.synth.generator import write_jsonl


def _junk(tmp_path: Path, good: int = 3, junk: int = 6000) -> Path:
    """A gzip of a few good sessions among thousands of junk lines of two kinds."""
    sessions = tmp_path / "s.jsonl"
    write_jsonl(sessions, good, 1)
    path = tmp_path / "junk.jsonl.gz"
    with gzip.open(path, "wb") as f:
        f.write(sessions.read_bytes())
        for i in range(junk):
            f.write(b"x" * (1 + i % 50) + b"\n" if i % 3 else b'{"id": 1}\n')
    return path


def _import(tmp_path: Path, *args: str) -> Any:
    ws = tmp_path / "ws.sqlite"
    if not ws.exists():
        init_workspace(ws).close()
    return CliRunner().invoke(main, ["import", str(ws), *args])


def test_the_report_lists_the_first_rejects_in_full_then_counts_by_reason(
    tmp_path: Path,
) -> None:
    report = tmp_path / "rejects.jsonl"
    result = _import(tmp_path, str(_junk(tmp_path)), "--report", str(report))
    assert result.exit_code == 3, result.output
    assert "3 imported, 0 duplicate, 0 revised, 6000 rejected" in result.output
    assert report.stat().st_size < MAX_BYTES
    lines = [orjson.loads(x) for x in report.read_bytes().splitlines()]
    full, counted = lines[:IN_FULL], lines[IN_FULL:]
    assert [r["line"] for r in full] == list(range(4, 4 + IN_FULL))
    assert all(r["reason"] for r in full)
    assert 2 <= len(counted) <= 10  # a few kinds of fault, not one line per record
    assert all(r["line"] is None and r["not_listed"] > 0 for r in counted)
    assert sum(r["not_listed"] for r in counted) == 6000 - IN_FULL


def test_a_disk_without_room_for_the_report_gets_none_and_the_import_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = shutil.disk_usage

    def nearly_full(path: Any) -> Any:
        usage = real(path)
        return usage._replace(free=2_000_000)

    monkeypatch.setattr(reject_report.shutil, "disk_usage", nearly_full)
    report = tmp_path / "rejects.jsonl"
    result = _import(tmp_path, str(_junk(tmp_path)), "--report", str(report))
    assert result.exit_code == 3, result.output
    assert "3 imported" in result.output
    assert "no reject report written: 2 MB free" in result.output
    assert not report.exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_disk_that_fills_up_leaves_the_report_incomplete_and_the_import_done(
    tmp_path: Path,
) -> None:
    result = _import(tmp_path, str(_junk(tmp_path)), "--report", "/dev/full")
    assert result.exit_code == 3, result.output
    assert "3 imported" in result.output
    assert "the reject report /dev/full is incomplete" in result.output
