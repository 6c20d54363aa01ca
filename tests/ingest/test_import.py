"""Importing canonical and OpenAI-style JSONL: rejects, idempotence, revisions, exit codes."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.services import browse
from reviewer.services.importing import KEEP_REJECTS, import_paths, import_with_report
from reviewer.services.progress import Progress
from reviewer.store.workspace import Workspace
from reviewer.synth.generator import session_line, write_jsonl
from tests.helpers.factories import make_session

CHAT = {
    "id": "conv-1",
    "model": "gpt-4o-mini",
    "metadata": {"agent": "travel-bot", "agent_version": "3.2", "tags": ["travel"]},
    "messages": [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Weather in SF?"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "SF"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"error": "503"}'},
        {"role": "assistant", "content": "61°F."},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
}


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def test_openai_chat_lines_become_sessions(workspace: Workspace, tmp_path: Path) -> None:
    f = _write(tmp_path / "chats.jsonl", [orjson.dumps(CHAT) + b"\n"])
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.rejected, summary.exit_code) == (1, 0, 0)
    assert summary.files[0].format == "openai-chat"
    [sid] = browse.session_ids(workspace)
    s = browse.get_session(workspace, sid)
    assert [st.role.value for st in s.steps] == ["system", "user", "assistant", "tool", "assistant"]
    assert s.steps[1].content == "Weather in SF?"
    assert s.steps[2].tool_calls[0].arguments == {"city": "SF"}
    assert s.steps[3].is_error and s.has_tool_error
    assert (s.agent.name, s.agent.version, s.model) == ("travel-bot", "3.2", "gpt-4o-mini")
    assert s.metadata["tools"] == CHAT["tools"]
    assert (s.source.format, s.source.file, s.source.position) == ("openai-chat", str(f), "1")


def test_fine_tuning_lines_without_ids_import_once(workspace: Workspace, tmp_path: Path) -> None:
    line = orjson.dumps({"messages": CHAT["messages"]}) + b"\n"
    f = _write(tmp_path / "sft.jsonl", [line, line])
    first = import_paths(workspace, [f])
    assert (first.imported, first.duplicates) == (1, 1)
    again = import_paths(workspace, [f])
    assert (again.imported, again.duplicates) == (0, 2)


def test_bad_records_are_reported_and_the_rest_goes_in(
    workspace: Workspace, tmp_path: Path
) -> None:
    good = session_line(make_session("ok-1"))
    deep = b"[" * 1100 + b"]" * 1100
    lines = [
        good,
        b"{not json\n",
        b'{"schema_version": 1, "id": "x", "steps": "nope"}\n',
        b'{"schema_version": 1, "id": "\xff\xfe"}\n',
        b'{"schema_version": 1, "id": "s\\ud800"}\n',
        b'{"schema_version": 1, "steps": []}\n',
        deep + b"\n",
        b'{"schema_version": 1, "id": "big", "metadata": {"x": "' + b"a" * 5000 + b'"}}\n',
        session_line(make_session("ok-2")),
    ]
    f = _write(tmp_path / "mixed.jsonl", lines)
    report = tmp_path / "rejects.jsonl"
    summary = import_paths(workspace, [f], report=report, max_record_bytes=4000)
    assert (summary.imported, summary.rejected, summary.exit_code) == (2, 7, 3)
    rows = [orjson.loads(x) for x in report.read_bytes().splitlines()]
    assert [r["line"] for r in rows] == [2, 3, 4, 5, 6, 7, 8]
    reasons = " | ".join(r["reason"] for r in rows)
    for expected in (
        "malformed JSON",
        "steps",
        "invalid UTF-8",
        "surrogate",
        "id:",
        "nested deeper than 200",
        "larger than 4,000 bytes",
    ):
        assert expected in reasons
    assert all(r["file"] == str(f) for r in rows)


def test_changed_content_is_a_revision_and_gzip_is_read(
    workspace: Workspace, tmp_path: Path
) -> None:
    a = _write(tmp_path / "a.jsonl", [session_line(make_session("s", text="v1"))])
    import_paths(workspace, [a])
    b = tmp_path / "b.jsonl.gz"
    b.write_bytes(gzip.compress(session_line(make_session("s", text="v2"))))
    summary = import_paths(workspace, [b])
    assert (summary.revised, summary.imported) == (1, 0)


def test_truncated_gzip_keeps_what_was_read(workspace: Workspace, tmp_path: Path) -> None:
    data = b"".join(session_line(make_session(f"g-{i}")) for i in range(50))
    packed = gzip.compress(data)
    f = tmp_path / "cut.jsonl.gz"
    f.write_bytes(packed[: len(packed) * 2 // 3])
    summary = import_paths(workspace, [f])
    assert summary.imported > 0 and summary.rejected == 1
    assert summary.exit_code == 3


def test_a_stopped_import_completes_when_run_again(workspace: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "gen.jsonl"
    write_jsonl(f, 120, seed=1)
    seen: list[int] = []
    progress = Progress(lambda done, total, msg: seen.append(done))
    original = progress.update

    def stop_after_first_chunk(done: int, total: int | None = None, message: str = "") -> None:
        original(done, total, message)
        progress.cancel()
        progress.check()

    progress.update = stop_after_first_chunk  # type: ignore[method-assign]
    stopped = import_paths(workspace, [f], progress=progress, chunk=50)
    assert stopped.cancelled and stopped.imported == 50
    assert browse.count_sessions(workspace) == 50
    rest = import_paths(workspace, [f])
    assert (rest.imported, rest.duplicates) == (70, 50)


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    ws = tmp_path / "w.sqlite"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(ws)]).exit_code == 0
    good = _write(tmp_path / "good.jsonl", [session_line(make_session("c1"))])
    result = runner.invoke(main, ["import", str(ws), str(good), "--json"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.output)
    assert {k: data[k] for k in ("imported", "duplicates", "revised", "rejected")} == {
        "imported": 1,
        "duplicates": 0,
        "revised": 0,
        "rejected": 0,
    }
    mixed = _write(tmp_path / "mixed.jsonl", [session_line(make_session("c2")), b"{oops\n"])
    assert runner.invoke(main, ["import", str(ws), str(mixed)]).exit_code == 3
    unknown = _write(tmp_path / "x.jsonl", [b'{"hello": "world"}\n'])
    result = runner.invoke(main, ["import", str(ws), str(unknown)])
    assert result.exit_code == 2
    assert "canonical" in result.output and "openai-chat" in result.output
    missing = runner.invoke(main, ["import", str(ws), str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2


def test_times_in_every_exporter_spelling() -> None:
    from datetime import UTC, datetime

    from reviewer.ingest.values import parse_time

    want = datetime(2024, 10, 13, 7, 5, 37, 170000, tzinfo=UTC)
    assert parse_time("2024-10-13T07:05:37.170Z") == want
    assert parse_time("2024-10-13T09:05:37.170+02:00") == want
    assert parse_time(1728803137170) == want
    assert parse_time("1728803137.17") is None  # not digits-only text: not a time we guess
    assert parse_time("None") is None and parse_time(10**30) is None


def test_the_report_lists_every_reject_while_memory_keeps_only_the_first(
    workspace: Workspace, tmp_path: Path
) -> None:
    bad = KEEP_REJECTS * 3
    f = _write(
        tmp_path / "bad.jsonl",
        [session_line(make_session("fine"))] + [b"{broken\n"] * bad,
    )
    missing = tmp_path / "missing.jsonl"
    report = tmp_path / "report.jsonl"
    summary = import_paths(workspace, [missing, f], report=report)
    rows = [orjson.loads(x) for x in report.read_bytes().splitlines()]
    assert rows[0] == {"file": str(missing), "line": None, "reason": summary.files[0].error}
    assert [r["line"] for r in rows[1:]] == list(range(2, bad + 2))
    assert (summary.imported, summary.rejected) == (1, bad)
    assert len(summary.first_rejects) == KEEP_REJECTS
    assert summary.first_rejects[1].line == 2
    # The JSON summary for pipelines is unchanged: no record lists in it.
    assert "first_rejects" not in summary.model_dump_json()


def test_imports_from_the_app_keep_a_report_only_when_something_was_rejected(
    workspace: Workspace, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    good = _write(tmp_path / "good.jsonl", [session_line(make_session("g"))])
    clean = import_with_report(workspace, [good], reports)
    assert clean.report is None and list(reports.iterdir()) == []
    bad = _write(tmp_path / "bad.jsonl", [session_line(make_session("h")), b"{broken\n"])
    summary = import_with_report(workspace, [bad], reports)
    assert summary.report is not None
    [row] = [orjson.loads(x) for x in Path(summary.report).read_bytes().splitlines()]
    assert (row["line"], row["file"]) == (2, str(bad))
    assert row["reason"].startswith("malformed JSON")
