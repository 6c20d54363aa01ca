"""Re-importing records already stored: recognised by their raw bytes, not parsed again,
with exactly the outcome of a full import (duplicates, revisions, rejects)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from reviewer.ingest import workers as import_workers
from reviewer.services import importing
from reviewer.services.importing import ImportSummary, import_paths
from reviewer.services.workspaces import init_workspace
from reviewer.synth.generator import session_line, write_jsonl
from tests.helpers.factories import make_session
from tests.ingest.test_import_workers import _stored


def _never(*_: object, **__: object) -> None:
    raise AssertionError("a record already stored was parsed again")


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("packed", [False, True])
def test_a_file_imported_again_is_not_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int, packed: bool
) -> None:
    f = tmp_path / "gen.jsonl"
    write_jsonl(f, 200, seed=5)
    if packed:
        f = f.with_suffix(".jsonl.gz")
        f.write_bytes(gzip.compress((tmp_path / "gen.jsonl").read_bytes()))
    ws = init_workspace(tmp_path / "ws.sqlite")
    first = import_paths(ws, [f], workers=workers)
    assert first.imported == 200
    before = _stored(ws)
    # Nothing is parsed in this process, and no worker is started.
    monkeypatch.setattr(import_workers, "prepare_line", _never)
    monkeypatch.setattr(importing, "prepare_line", _never)
    monkeypatch.setattr(import_workers.Workers, "_pool_started", _never)
    again = import_paths(ws, [f], workers=workers)
    assert (again.imported, again.duplicates, again.revised, again.rejected) == (0, 200, 0, 0)
    assert _stored(ws) == before
    ws.close()


def _second_pull(tmp_path: Path) -> tuple[Path, Path]:
    """A first file, then a second that revises a session, sets it back to its first
    content, repeats old records, adds new ones and a bad line."""
    x = session_line(make_session("s-1", text="first"))
    y = session_line(make_session("s-1", text="second"))
    old = [session_line(make_session(f"old-{i}")) for i in range(30)]
    new = [session_line(make_session(f"new-{i}")) for i in range(10)]
    first = tmp_path / "first.jsonl"
    first.write_bytes(x + b"".join(old))
    lines = [*old[:10], y, *new[:5], b"{not json\n", x, *old[10:], *new[5:], y]
    second = tmp_path / "second.jsonl"
    second.write_bytes(b"".join(lines))
    return first, second


CONTENT_COUNTS = ("steps", "tool_calls", "tool_errors", "unrecognised", "unrecognised_paths")
"""What a file's records hold: counted for the records read, not for those recognised
unread (a dry run reads them all)."""


def _outcome(summary: ImportSummary) -> dict[str, Any]:
    dumped = summary.model_dump()
    for f in dumped["files"]:
        for name in CONTENT_COUNTS:
            f.pop(name)
    return dumped


@pytest.mark.parametrize(("workers", "chunk"), [(0, 1), (0, 1000), (2, 1), (2, 1000)])
def test_a_second_pull_stores_exactly_what_a_full_import_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int, chunk: int
) -> None:
    first, second = _second_pull(tmp_path)
    monkeypatch.setattr(import_workers, "BLOCK_BYTES", 700)
    results = []
    for run, recognise in enumerate((False, True)):
        if not recognise:
            monkeypatch.setattr(importing, "_known_lookup", lambda ws: None)
        else:
            monkeypatch.undo()
            monkeypatch.setattr(import_workers, "BLOCK_BYTES", 700)
        ws = init_workspace(tmp_path / f"ws{run}.sqlite")
        import_paths(ws, [first], workers=workers, chunk=chunk)
        summary = import_paths(ws, [second], workers=workers, chunk=chunk)
        results.append((_outcome(summary), _stored(ws)))
        ws.close()
    assert results[0] == results[1]
    summary, stored = results[1]
    assert (summary["imported"], summary["duplicates"], summary["rejected"]) == (10, 30, 1)
    # s-1: first, second, first again, second again
    assert [r[1:3] for r in stored if r[0] == "s-1"] == [
        (1, False),
        (2, False),
        (3, False),
        (4, True),
    ]


@pytest.mark.postgres
def test_a_second_pull_on_postgres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers.postgres import temporary_database

    first, second = _second_pull(tmp_path)
    with temporary_database() as url:
        if url is None:
            pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
        ws = init_workspace(url)
        try:
            import_paths(ws, [first], workers=0)
            summary = import_paths(ws, [second], workers=0, chunk=1)
            assert (summary.imported, summary.duplicates, summary.revised) == (10, 30, 3)
            # the records of the first file but s-1's (now revised) are not parsed again
            third = tmp_path / "third.jsonl"
            third.write_bytes(b"".join(first.read_bytes().splitlines(keepends=True)[1:]))
            monkeypatch.setattr(import_workers, "prepare_line", _never)
            again = import_paths(ws, [third], workers=0)
            assert (again.imported, again.duplicates, again.revised) == (0, 30, 0)
        finally:
            ws.close()


def test_a_dry_run_of_an_imported_file_still_counts_what_it_holds(tmp_path: Path) -> None:
    """A dry run reports a file's content even where its records are stored already."""
    path = tmp_path / "s.jsonl"
    write_jsonl(path, 5, seed=3)
    ws = init_workspace(tmp_path / "ws.sqlite")
    first = import_paths(ws, [path])
    again = import_paths(ws, [path], dry_run=True)
    ws.close()
    assert again.files[0].steps == first.files[0].steps != {}
    assert again.files[0].tool_calls == first.files[0].tool_calls
