"""Inspect AI eval logs (.json and .eval), built the way inspect_ai writes them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from reviewer.domain.session import Role
from reviewer.services import browse
from reviewer.services.importing import import_paths
from reviewer.store.workspace import Workspace

SPEC = {
    "eval_id": "ev1",
    "run_id": "run1",
    "task": "weather_qa",
    "task_version": 2,
    "model": "openai/gpt-4o-mini",
    "created": "2024-11-05T13:31:45-05:00",
}


def _sample(i: int, score: str = "C") -> dict[str, object]:
    return {
        "id": i,
        "epoch": 1,
        "input": "Weather in Paris?",
        "target": "sunny",
        "messages": [
            {"role": "system", "content": "Use tools."},
            {"role": "user", "content": "Weather in Paris?", "source": "input"},
            {
                "role": "assistant",
                "content": "",
                "model": "gpt-4o-mini",
                "tool_calls": [
                    {
                        "id": "t1",
                        "function": "weather",
                        "arguments": {"city": "Paris"},
                        "type": "function",
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "t1",
                "function": "weather",
                "content": "",
                "error": {"type": "timeout", "message": "timed out"},
            },
            {"role": "assistant", "content": [{"type": "text", "text": "Sunny."}]},
        ],
        "scores": {"match": {"value": score, "answer": "Sunny.", "explanation": "ok"}},
        "model_usage": {"openai/gpt-4o-mini": {"input_tokens": 40, "output_tokens": 5}},
        "total_time": 1.5,
    }


def test_json_log_samples_become_sessions(workspace: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "log.json"
    f.write_text(
        json.dumps(
            {
                "version": 2,
                "status": "success",
                "eval": SPEC,
                "samples": [_sample(1), _sample(2, "I")],
            },
            indent=2,
        )
    )
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.files[0].format) == (2, "inspect-ai")
    sessions = [browse.get_session(workspace, i) for i in browse.session_ids(workspace)]
    by_id = {s.source.ids["sample_id"]: s for s in sessions}
    one = by_id["1"]
    assert one.id == "inspect:ev1:1:1"
    assert one.steps[2].tool_calls[0].name == "weather"
    assert one.steps[2].tool_calls[0].arguments == {"city": "Paris"}
    assert one.steps[3].role is Role.TOOL and one.steps[3].is_error
    assert one.final_answer == "Sunny."
    assert one.signals.judge_scores == {"match": 1.0}
    (judged,) = one.signals.judgements
    assert (judged.name, judged.explanation, judged.source) == ("match", "ok", "inspect")
    assert by_id["2"].signals.judge_scores == {"match": 0.0}
    assert (one.agent.name, one.model, one.metrics.input_tokens) == (
        "weather_qa",
        "openai/gpt-4o-mini",
        40,
    )


def test_eval_archives_are_read_entry_by_entry(workspace: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "run.eval"
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("header.json", json.dumps({"version": 2, "eval": SPEC}))
        z.writestr("samples/1_epoch_1.json", json.dumps(_sample(1)))
        z.writestr("samples/2_epoch_1.json", "{broken")
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.rejected) == (1, 1)


def test_unsafe_archives_are_refused_without_writing(workspace: Workspace, tmp_path: Path) -> None:
    slip = tmp_path / "slip.eval"
    with zipfile.ZipFile(slip, "w") as z:
        z.writestr("../../evil.json", "{}")
    bomb = tmp_path / "bomb.eval"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("samples/1_epoch_1.json", b" " * 5_000_000)
    report = tmp_path / "r.jsonl"
    summary = import_paths(workspace, [slip, bomb], report=report)
    assert summary.imported == 0 and summary.rejected == 2
    text = report.read_text()
    assert "unsafe entry name" in text and "expands more than 100" in text
    assert not (tmp_path.parent / "evil.json").exists()
    assert browse.count_sessions(workspace) == 0
