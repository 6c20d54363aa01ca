"""Memory of an import stays bounded in the number of records, not only in their size:
worker tasks of a plain file hold a bounded number of lines, and a bounded number of
records is in flight between the workers and the importing process."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from reviewer.ingest import workers as import_workers
from reviewer.ingest.detect import by_name
from reviewer.ingest.workers import Workers
from reviewer.services.importing import PREPARATION, import_paths
from reviewer.services.workspaces import init_workspace
from tests.ingest.test_import_workers import _mixed_file, _stored


def _tiny(path: Path, n: int) -> Path:
    with path.open("wb") as f:
        for i in range(n):
            f.write(
                b'{"schema_version":1,"id":"t-%d","steps":[{"role":"user","content":"q"}]}\n' % i
            )
    return path


class _CountingPool:
    """Runs each task at once, here, and counts the records it returned."""

    def __init__(self) -> None:
        self.submitted = 0
        self.largest_task = 0

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        result = fn(*args)
        self.submitted += len(result[0])
        self.largest_task = max(self.largest_task, len(result[0]))
        future: Future[Any] = Future()
        future.set_result(result)
        return future


def test_records_in_flight_are_bounded_however_small_they_are(tmp_path: Path) -> None:
    f = _tiny(tmp_path / "tiny.jsonl", 60_000)  # 2 MB blocks of about 23,000 records each
    workers = Workers(2, PREPARATION)
    pool = _CountingPool()
    workers._pool_started = lambda: pool  # type: ignore[method-assign, assignment, return-value]
    consumed = 0
    most_in_flight = 0
    for _ in workers.prepared(f, by_name("canonical"), 1_000_000):
        consumed += 1
        most_in_flight = max(most_in_flight, pool.submitted - consumed)
    assert consumed == 60_000
    assert pool.largest_task <= import_workers.TASK_RECORDS
    assert most_in_flight <= import_workers.AHEAD_RECORDS + 2 * import_workers.TASK_RECORDS


def test_cut_blocks_import_exactly_what_one_process_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = _mixed_file(tmp_path / "mixed.jsonl")
    monkeypatch.setattr(import_workers, "TASK_RECORDS", 3)
    monkeypatch.setattr(import_workers, "AHEAD_RECORDS", 4)
    results = []
    for run, workers in enumerate((0, 2)):
        ws = init_workspace(tmp_path / f"ws{run}.sqlite")
        report = tmp_path / f"rejects{run}.jsonl"
        summary = import_paths(ws, [f], report=report, max_record_bytes=8000, workers=workers)
        results.append((summary.model_dump(), report.read_bytes(), _stored(ws)))
        ws.close()
    assert results[0] == results[1]
