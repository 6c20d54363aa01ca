"""An export that stops half-way leaves nothing posing as complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.export.options import ExportOptions
from reviewer.services import exporting
from reviewer.services.exporting import export, manifest_path_for
from reviewer.services.progress import Cancelled, Progress
from reviewer.store.workspace import Workspace


def _progress_failing_after(updates: int, exc: BaseException) -> Progress:
    seen = []

    def callback(done: int, total: int | None, message: str) -> None:
        seen.append(done)
        if len(seen) > updates:
            raise exc

    return Progress(callback)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "openai-sft"])
def test_a_failure_half_way_keeps_the_previous_file_and_leaves_no_partial_one(
    labelled: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setattr(exporting, "FETCH", 2)
    monkeypatch.setattr(exporting, "SESSIONS_PER_CHUNK", 1)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / f"labels.{fmt}"
    export(labelled, ExportOptions(format=fmt), out)
    before = out.read_bytes(), manifest_path_for(out).read_bytes()
    with pytest.raises(OSError, match="disk full"):
        export(
            labelled,
            ExportOptions(format=fmt, where="version=1.0"),
            out,
            progress=_progress_failing_after(2, OSError("disk full")),
        )
    assert (out.read_bytes(), manifest_path_for(out).read_bytes()) == before
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name, f"{out.name}.manifest.json"]


def test_cancel_writes_nothing(labelled: Workspace, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "labels.csv"
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        export(labelled, ExportOptions(format="csv"), out, progress=progress)
    assert list(out.parent.iterdir()) == []


def test_the_file_appears_with_the_usual_permissions(labelled: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "labels.jsonl"
    export(labelled, ExportOptions(format="jsonl"), out)
    probe = tmp_path / "probe"
    probe.touch()
    assert out.stat().st_mode & 0o777 == probe.stat().st_mode & 0o777


@pytest.mark.parametrize("fmt", ["parquet", "eval-jsonl"])
def test_reviews_missing_from_the_read_fail_the_export_instead_of_a_short_file(
    labelled: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setattr(exporting, "FETCH", 3)
    real = exporting._records

    def short(*args: object) -> object:
        chunks = list(real(*args))  # type: ignore[arg-type]
        yield from chunks[:-1]

    monkeypatch.setattr(exporting, "_records", short)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "labels.bin"
    with pytest.raises(exporting.ExportError, match="of the 8 counted; nothing was written"):
        export(labelled, ExportOptions(format=fmt), out)
    assert list(out.parent.iterdir()) == []
