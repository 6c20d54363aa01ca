"""LangSmith run exports: batch payloads with patches, nested child runs, feedback."""

from __future__ import annotations

import json
from pathlib import Path

from reviewer.domain.session import Role
from reviewer.services import browse
from reviewer.services.importing import import_paths
from reviewer.store.workspace import Workspace

ROOT = "11111111-1111-1111-1111-111111111111"
LLM = "22222222-2222-2222-2222-222222222222"
TOOL = "33333333-3333-3333-3333-333333333333"


def test_batch_payload_with_children_and_feedback(workspace: Workspace, tmp_path: Path) -> None:
    payload = {
        "post": [
            {
                "id": ROOT,
                "trace_id": ROOT,
                "name": "support-agent",
                "run_type": "chain",
                "session_id": "9c3f2a5e-0d4b-4c1e-8f7a-2b6d1e0c5a44",
                "start_time": 1728803137170,
                "dotted_order": f"20241013T070537170001Z{ROOT}",
                "inputs": {"question": "refund?"},
                "tags": ["prod"],
                "child_runs": [
                    {
                        "id": TOOL,
                        "trace_id": ROOT,
                        "name": "lookup",
                        "run_type": "tool",
                        "start_time": 1728803137200,
                        "error": "timeout",
                    },
                    {
                        "id": LLM,
                        "trace_id": ROOT,
                        "name": "ChatOpenAI",
                        "run_type": "llm",
                        "start_time": 1728803137300,
                        "extra": {"metadata": {"ls_model_name": "gpt-4o-mini"}},
                        "inputs": {
                            "messages": [{"role": "user", "content": "Can I get a refund?"}]
                        },
                    },
                ],
            }
        ],
        "patch": [
            {
                "trace_id": ROOT,
                "dotted_order": f"20241013T070537170001Z{ROOT}.20241013T070537300001Z{LLM}",
                "end_time": 1728803138285,
                "outputs": {
                    "choices": [{"message": {"role": "assistant", "content": "Yes."}}],
                    "usage": {"prompt_tokens": 9, "completion_tokens": 2},
                },
            }
        ],
        "feedback": [
            {"run_id": ROOT, "key": "thumbs", "score": 0, "comment": "wrong"},
            {"run_id": LLM, "key": "correctness", "score": 0.25},
        ],
    }
    f = tmp_path / "runs.json"
    f.write_text(json.dumps(payload, indent=2))
    summary = import_paths(workspace, [f])
    assert (summary.imported, summary.files[0].format) == (1, "langsmith")
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    # The failed tool run, which no model call recorded, is shown where it ran.
    assert [(st.role, st.content) for st in s.steps] == [
        (Role.ASSISTANT, ""),
        (Role.TOOL, "timeout"),
        (Role.USER, "Can I get a refund?"),
        (Role.ASSISTANT, "Yes."),
    ]
    assert (s.steps[0].tool_calls[0].name, s.has_tool_error) == ("lookup", True)
    # the project travels with the run: feedback sent back names it
    project = "9c3f2a5e-0d4b-4c1e-8f7a-2b6d1e0c5a44"
    assert s.source.ids == {"run_id": ROOT, "trace_id": ROOT, "session_id": project}
    assert (s.model, s.metrics.input_tokens, s.metrics.output_tokens) == ("gpt-4o-mini", 9, 2)
    assert {sp.id: (sp.parent_id, sp.status) for sp in s.spans}[TOOL] == (ROOT, "error")
    assert s.signals.user_feedback == -1.0
    assert s.signals.judge_scores == {"correctness": 0.25}
    assert [(j.name, j.value) for j in s.signals.judgements] == [("correctness", 0.25)]
    assert s.tags == ["prod"]
