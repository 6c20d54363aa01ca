"""The message the app shows after an import says what each file held."""

from __future__ import annotations

import json
from pathlib import Path

from reviewer.services.importing import import_paths
from reviewer.store.workspace import Workspace
from reviewer.ui.import_action import summary_text


def test_the_import_message_counts_what_each_file_held(
    workspace: Workspace, tmp_path: Path
) -> None:
    f = tmp_path / "chats.jsonl"
    line = {
        "id": "c1",
        "messages": [
            {"role": "user", "content": [{"type": "hologram"}]},
            {"role": "assistant", "content": "ok"},
        ],
    }
    f.write_text(json.dumps(line) + "\n")
    text = summary_text(import_paths(workspace, [f]))
    assert text.splitlines() == [
        "1 imported, 0 already there, 0 revised, 0 rejected.",
        "chats.jsonl: 1 sessions (1 user, 1 assistant), 0 tool calls, 0 tool errors, "
        "1 unrecognised (at $.messages[0].content[0]).",
    ]
