"""Large JSON Lines files parsed in worker processes: the same workspace, the same rejects
in the same order, and Cancel stopping after whole chunks, as when parsing in-process."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from reviewer.ingest import canonical
from reviewer.ingest import workers as import_workers
from reviewer.ingest.workers import PARALLEL_MIN_BYTES, Workers, default_workers
from reviewer.services import browse
from reviewer.services.importing import PREPARATION, import_paths
from reviewer.services.progress import Progress
from reviewer.services.workspaces import init_workspace
from reviewer.store.tables import SessionContent, SessionRow
from reviewer.store.workspace import Workspace
from reviewer.synth.generator import session_line, write_jsonl
from tests.helpers.factories import make_session
from tests.ingest.test_import import CHAT


def _mixed_file(path: Path) -> Path:
    lines = [session_line(make_session(f"m-{i}", text=f"question {i}")) for i in range(40)]
    lines[3] = b"{not json\n"
    lines[10] = b'{"schema_version": 1, "id": "x", "steps": "nope"}\n'
    lines[17] = b'{"schema_version": 1, "id": "s\\ud800"}\n'
    lines[25] = b'{"schema_version": 1, "id": "big", "metadata": {"x": "' + b"a" * 9000 + b'"}}\n'
    lines[30] = session_line(make_session("m-2", text="question 2, revised"))
    lines[31] = lines[4]  # the same session again: a duplicate
    path.write_bytes(b"".join(lines))
    return path


def _stored(ws: Workspace) -> list[tuple[object, ...]]:
    with ws.read() as s:
        rows = s.execute(
            select(
                SessionRow.session_key,
                SessionRow.revision,
                SessionRow.is_latest,
                SessionRow.content_hash,
                SessionRow.source_position,
                SessionRow.first_user_text,
                SessionContent.data,
            )
            .join(SessionContent, SessionContent.session_id == SessionRow.id)
            .order_by(SessionRow.id)
        )
        return [(*r[:-1], zlib.decompress(r[-1])) for r in rows]


def test_workers_import_exactly_what_one_process_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = _mixed_file(tmp_path / "mixed.jsonl")
    gz = tmp_path / "mixed.jsonl.gz"
    gz.write_bytes(gzip.compress(f.read_bytes()))
    # Workers read blocks of a plain file themselves: small blocks cut it in many places.
    monkeypatch.setattr(import_workers, "BLOCK_BYTES", 3000)
    results = []
    for run, (path, workers) in enumerate(((f, 0), (f, 2), (gz, 2), (f, 0))):
        if run == 3:  # every record through Session, none through the plain-dict fast path
            monkeypatch.setattr(canonical, "fast_record", lambda *_: None)
        ws = init_workspace(tmp_path / f"ws{run}.sqlite")
        report = tmp_path / f"rejects{run}.jsonl"
        summary = import_paths(
            ws, [path], report=report, max_record_bytes=8000, chunk=7, workers=workers
        )
        dump = summary.model_dump()
        dump["files"][0]["path"] = "mixed"
        report_bytes = report.read_bytes().replace(gz.name.encode(), f.name.encode())
        stored = [(*r[:-1], r[-1].replace(gz.name.encode(), f.name.encode())) for r in _stored(ws)]
        results.append((dump, report_bytes, stored))
        ws.close()
    assert results[0] == results[1] == results[2] == results[3]
    summary, report_bytes, stored = results[1]
    assert (summary["imported"], summary["revised"], summary["duplicates"]) == (34, 1, 1)
    assert summary["rejected"] == 4
    lines = [orjson.loads(x)["line"] for x in report_bytes.splitlines()]
    assert lines == [4, 11, 18, 26]
    assert [r[1:3] for r in stored if r[0] == "m-2"] == [(1, False), (2, True)]


def test_other_line_formats_go_through_workers_too(workspace: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "chats.jsonl"
    f.write_bytes(b"".join(orjson.dumps({**CHAT, "id": f"conv-{i}"}) + b"\n" for i in range(12)))
    summary = import_paths(workspace, [f], workers=2)
    assert (summary.imported, summary.rejected, summary.files[0].format) == (12, 0, "openai-chat")
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert s.steps[2].tool_calls[0].arguments == {"city": "SF"}


def test_cancel_with_workers_keeps_whole_chunks_and_resumes(
    workspace: Workspace, tmp_path: Path
) -> None:
    f = tmp_path / "gen.jsonl"
    write_jsonl(f, 300, seed=3)
    progress = Progress()
    original = progress.update

    def stop_after_first_chunk(done: int, total: int | None = None, message: str = "") -> None:
        progress.cancel()
        original(done, total, message)

    progress.update = stop_after_first_chunk  # type: ignore[method-assign]
    stopped = import_paths(workspace, [f], progress=progress, chunk=40, workers=2)
    assert stopped.cancelled and stopped.imported == 40
    assert browse.count_sessions(workspace) == 40
    rest = import_paths(workspace, [f], workers=2)
    assert (rest.imported, rest.duplicates) == (260, 40)


def test_small_files_and_documents_stay_in_process(tmp_path: Path) -> None:
    from reviewer.ingest.detect import by_name

    f = tmp_path / "small.jsonl"
    f.write_bytes(session_line(make_session("a")))
    canonical = by_name("canonical")
    assert not Workers(2, PREPARATION).wanted(f, canonical, explicit=False)
    assert Workers(2, PREPARATION).wanted(f, canonical, explicit=True)
    assert not Workers(0, PREPARATION).wanted(f, canonical, explicit=True)
    # gzip: what counts is the size of the content, not of the compressed file
    big = tmp_path / "big.jsonl.gz"
    line = session_line(make_session("a"))
    big.write_bytes(gzip.compress(line * (PARALLEL_MIN_BYTES // len(line) + 1), 1))
    assert big.stat().st_size < PARALLEL_MIN_BYTES
    assert Workers(2, PREPARATION).wanted(big, canonical, explicit=False)
    small = tmp_path / "small.jsonl.gz"
    small.write_bytes(gzip.compress(line))
    assert not Workers(2, PREPARATION).wanted(small, canonical, explicit=False)
    zipped = by_name("inspect-ai")  # zip archives
    assert not Workers(2, PREPARATION).wanted(f, zipped, explicit=True)
    assert default_workers() >= 0


@pytest.mark.parametrize("workers", [0, 2])
def test_progress_estimates_the_records_to_come_and_ends_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Progress says how many records are read and about how many there are in all (from
    the bytes read so far: compressed bytes for gzip), so bars can show a share and a time
    left; once all is read the estimate is the count."""
    monkeypatch.setattr(import_workers, "BLOCK_BYTES", 20_000)
    plain = tmp_path / "a.jsonl"
    write_jsonl(plain, 120, seed=6)
    gz = tmp_path / "b.jsonl.gz"
    lines = [session_line(make_session(f"gz-{i}")) for i in range(30)]
    gz.write_bytes(gzip.compress(b"".join(lines)))
    seen: list[tuple[int, int | None, str]] = []
    ws = init_workspace(tmp_path / "ws.sqlite")
    summary = import_paths(
        ws,
        [plain, gz],
        progress=Progress(lambda d, t, m: seen.append((d, t, m))),
        chunk=20,
        workers=workers,
    )
    assert summary.imported == 150
    during_plain = [(d, t) for d, t, m in seen if m == "importing a.jsonl"]
    assert len(during_plain) > 3
    assert all(t is not None and t >= d for d, t in during_plain)
    assert during_plain[-1][0] == 120
    assert all(60 <= t <= 240 for _, t in during_plain if t is not None)  # near 120
    during_gz = [(d, t) for d, t, m in seen if m == "importing b.jsonl.gz"]
    assert len(during_gz) > 1
    assert all(t is not None and t >= d for d, t in during_gz)
    assert during_gz[-1] == (150, 150)  # all read: the estimate is the count
    ws.close()
