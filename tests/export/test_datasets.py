"""Fine-tuning and eval lines: which sessions become examples, and in which shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reviewer.domain.session import Role, Step
from reviewer.export.options import ExportOptions
from reviewer.services.exporting import export
from reviewer.services.importing import store_sessions
from reviewer.store.workspace import Workspace
from tests.export.conftest import FINE, WRONG, add_review, check_lines
from tests.helpers.factories import make_session

CORRECTED = WRONG["corrected_response"]


def _run(ws: Workspace, tmp_path: Path, fmt: str, **options: Any) -> tuple[list[dict], dict]:
    path = tmp_path / f"{fmt}.jsonl"
    manifest = export(ws, ExportOptions(format=fmt, **options), path)
    schema = manifest.schema_file
    return check_lines(path, schema), manifest.model_dump(mode="json", by_alias=True)


def test_openai_sft_keeps_approved_sessions_and_trains_on_corrections(
    labelled: Workspace, tmp_path: Path
) -> None:
    lines, manifest = _run(labelled, tmp_path, "openai-sft")
    assert len(lines) == 3  # s-1 approved; s-2, s-3 corrected
    assert manifest["left_out"] == {"below_threshold": 1}  # s-5: a minor policy violation
    assert manifest["level"] == "session" and manifest["thresholds"] == {
        "min_quality": 4.0,
        "require": {"correctness": "correct", "policy": "compliant"},
    }
    approved, corrected = lines[0], lines[1]
    assert [m["role"] for m in approved["messages"]] == [
        "system", "user", "assistant", "tool", "assistant",
    ]  # fmt: skip
    assert approved["messages"][-1] == {
        "role": "assistant",
        "content": "Your order 42 has shipped.",
    }
    call = approved["messages"][2]["tool_calls"][0]
    assert call == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "lookup_order", "arguments": '{"order":42}'},
    }
    assert approved["messages"][3] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"status": "shipped"}',
    }
    assert approved["tools"] == [
        {"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}
    ]
    assert corrected["messages"][-1] == {"role": "assistant", "content": CORRECTED, "weight": 1}
    assert corrected["messages"][2]["weight"] == 0
    assert all("Your order 42 has shipped." not in str(m) for m in corrected["messages"])


def test_thresholds_decide_which_uncorrected_sessions_count(
    labelled: Workspace, tmp_path: Path
) -> None:
    strict, _ = _run(labelled, tmp_path, "trl-sft", min_quality=5)
    assert len(strict) == 2  # s-1's consensus quality is 4
    loose, manifest = _run(labelled, tmp_path, "trl-sft", require={})
    assert len(loose) == 4 and manifest["left_out"] == {}


def test_trl_lines_carry_tool_arguments_as_objects(labelled: Workspace, tmp_path: Path) -> None:
    sft, _ = _run(labelled, tmp_path, "trl-sft")
    assistant = sft[0]["messages"][2]
    assert assistant["tool_calls"] == [
        {"type": "function", "function": {"name": "lookup_order", "arguments": {"order": 42}}}
    ]
    assert sft[0]["messages"][3]["name"] == "lookup_order"
    dpo, manifest = _run(labelled, tmp_path, "trl-dpo")
    assert len(dpo) == 2 and manifest["left_out"] == {"no_correction": 2}
    assert dpo[0]["chosen"] == [{"role": "assistant", "content": CORRECTED}]
    assert dpo[0]["rejected"] == [{"role": "assistant", "content": "Your order 42 has shipped."}]
    assert dpo[0]["prompt"][-1]["role"] == "tool"
    # the prompt calls a tool: TRL's chat template needs its definition
    assert dpo[0]["tools"] == [
        {"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}
    ]


def test_openai_dpo_prefers_the_corrected_answer(labelled: Workspace, tmp_path: Path) -> None:
    lines, _ = _run(labelled, tmp_path, "openai-dpo")
    assert len(lines) == 2
    first = lines[0]
    assert first["preferred_output"] == [{"role": "assistant", "content": CORRECTED}]
    assert first["non_preferred_output"] == [
        {"role": "assistant", "content": "Your order 42 has shipped."}
    ]
    assert [m["role"] for m in first["input"]["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
    ]
    assert first["input"]["tools"][0]["function"]["name"] == "lookup_order"


def test_eval_cases_hold_input_expected_answer_and_labels(
    labelled: Workspace, tmp_path: Path
) -> None:
    lines, manifest = _run(labelled, tmp_path, "eval-jsonl")
    assert [c["id"] for c in lines] == ["s-1@1", "s-2@1", "s-3@1"]
    assert manifest["left_out"] == {"no_expected_answer": 1}
    approved, corrected = lines[0], lines[1]
    assert approved["target"] == "Your order 42 has shipped."
    assert approved["metadata"]["expected_from"] == "approved"
    assert corrected["target"] == CORRECTED
    meta = corrected["metadata"]
    assert meta["failure_tags"] == ["answered_incorrectly"] and meta["failure_step"] == 4
    assert meta["labels"]["label_correctness"] == "incorrect"
    assert meta["agent_answer"] == "Your order 42 has shipped."
    assert corrected["input"][2]["tool_calls"] == [
        {"id": "call_1", "function": "lookup_order", "arguments": {"order": 42}, "type": "function"}
    ]
    assert corrected["input"][3]["function"] == "lookup_order"
    assert corrected["vars"] == {"question": "Where is my order 42?", "expected": CORRECTED}


def test_recorded_tools_pii_and_broken_transcripts(workspace: Workspace, tmp_path: Path) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup_order",
                "description": "Find an order",
                "parameters": {"type": "object", "properties": {"order": {"type": "integer"}}},
            },
        }
    ]
    broken = make_session("broken")
    broken.steps.insert(3, Step(role=Role.TOOL, tool_call_id="call_9", content="stray"))
    store_sessions(
        workspace,
        [
            make_session("tools", metadata={"tools": tools}),
            make_session("pii", text="Mail me at ann@example.org or call 555-123-4567"),
            broken,
        ],
    )
    for key in ("tools", "pii", "broken"):
        add_review(workspace, key, "alice", FINE)
    lines, manifest = _run(workspace, tmp_path, "openai-sft", redact_pii=True)
    assert manifest["left_out"] == {"tool_result_without_call": 1}
    by_user = {line["messages"][1]["content"]: line for line in lines}
    assert "Mail me at [EMAIL] or call [PHONE]" in by_user
    assert by_user["Where is my order 42?"]["tools"] == tools
