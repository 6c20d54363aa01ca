"""`reviewer import`: the per-file counts, and `--dry-run`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reviewer.cli import main
from reviewer.services import browse
from reviewer.services.workspaces import init_workspace, open_existing

LINE = {
    "id": "c1",
    "messages": [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "w", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "error: timeout"},
        {"role": "user", "content": [{"type": "hologram", "frames": 3}]},
    ],
}


def test_dry_run_prints_the_counts_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "ws.sqlite"
    init_workspace(target).close()
    f = tmp_path / "chats.jsonl"
    f.write_text(json.dumps(LINE) + "\n")
    result = CliRunner().invoke(main, ["import", str(target), str(f), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        "1 sessions (2 user, 1 assistant, 1 tool), 1 tool calls, 1 tool errors, "
        "1 unrecognised (at $.messages[3].content[0])"
    ) in result.output
    assert "dry run: nothing was written" in result.output
    ws = open_existing(target)
    try:
        assert browse.session_ids(ws) == []
    finally:
        ws.close()
    out = CliRunner().invoke(main, ["import", str(target), str(f), "--json"])
    entry = json.loads(out.output)["files"][0]
    assert (entry["imported"], entry["steps"], entry["tool_errors"], entry["unrecognised"]) == (
        1,
        {"user": 2, "assistant": 1, "tool": 1},
        1,
        1,
    )
