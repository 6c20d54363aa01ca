"""Labels back to Langfuse, LangSmith, Phoenix, OpenTelemetry and Inspect AI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reviewer.domain.session import Signals, Source, Span
from reviewer.export.options import ExportOptions
from reviewer.services.exporting import export
from reviewer.services.importing import store_sessions
from reviewer.store.workspace import Workspace
from tests.export.conftest import FINE, WRONG, add_review, check_lines
from tests.helpers.factories import make_session

TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


@pytest.fixture
def traced(workspace: Workspace) -> Workspace:
    sources = {
        "lf": Source(format="langfuse", ids={"trace_id": "lf-trace", "observation_id": "gen-1"}),
        "ls": Source(
            format="langsmith",
            ids={"run_id": "run-1", "trace_id": "trace-1", "session_id": "proj-1"},
        ),
        "ot": Source(format="otlp", ids={"trace_id": TRACE, "span_id": SPAN}),
        "ia": Source(
            format="inspect-ai",
            ids={"sample_id": "7", "epoch": "2", "eval_id": "ev", "run_id": "rn", "task": "qa"},
        ),
        "plain": Source(),
        "lf-no-id": Source(format="langfuse", ids={}),
    }
    sessions = [make_session(key, source=src) for key, src in sources.items()]
    sessions[2].spans = [
        Span(id=SPAN, name="invoke_agent", attributes={"gen_ai.response.id": "resp-9"})
    ]
    sessions[3].signals = Signals(judge_scores={"match": 1.0, "includes": 0.0})
    store_sessions(workspace, sessions)
    for key in sources:
        add_review(workspace, key, "alice", WRONG, minutes=1, failure_step=4)
        add_review(workspace, key, "bob", FINE, minutes=2)
    return workspace


def _run(ws: Workspace, tmp_path: Path, fmt: str, **options: Any) -> tuple[list[dict], dict]:
    path = tmp_path / f"{fmt}.jsonl"
    manifest = export(ws, ExportOptions(format=fmt, **options), path)
    return check_lines(path, manifest.schema_file), manifest.model_dump(mode="json")


def test_langfuse_scores_per_reviewer_with_the_correction_on_the_generation(
    traced: Workspace, tmp_path: Path
) -> None:
    lines, manifest = _run(traced, tmp_path, "langfuse-scores")
    assert manifest["left_out"] == {"no_trace_id": 1, "not_from_langfuse": 4}
    assert {line["traceId"] for line in lines} == {"lf-trace"}
    alice = [line for line in lines if line["metadata"]["reviewer"] == "alice"]
    by_name = {line["name"]: line for line in alice}
    assert by_name["quality"]["value"] == 2.0 and by_name["quality"]["dataType"] == "NUMERIC"
    assert by_name["correctness"] == {
        **by_name["correctness"],
        "value": "incorrect",
        "dataType": "CATEGORICAL",
        "comment": WRONG["rationale"],
    }
    assert by_name["failure_tags"]["value"] == "answered_incorrectly"
    assert by_name["failure_step"]["value"] == 4.0
    output = by_name["output"]
    assert (output["dataType"], output["observationId"]) == ("CORRECTION", "gen-1")
    assert output["value"] == WRONG["corrected_response"]
    assert len({line["id"] for line in lines}) == len(lines)
    # an update is "the same id and timestamp": the time is the review's start, not its save
    assert by_name["quality"]["timestamp"] == "2026-10-02T08:59:30.000000Z"
    again, _ = _run(traced, tmp_path, "langfuse-scores")
    assert [(x["id"], x.get("timestamp")) for x in again] == [
        (x["id"], x.get("timestamp")) for x in lines
    ]


def test_langfuse_keeps_one_correction_per_observation_the_latest(
    traced: Workspace, tmp_path: Path
) -> None:
    add_review(traced, "lf", "carol", {**WRONG, "corrected_response": "Carol's fix"}, minutes=9)
    lines, _ = _run(traced, tmp_path, "langfuse-scores")
    corrections = [x for x in lines if x["dataType"] == "CORRECTION"]
    assert [(c["value"], c["metadata"]["reviewer"]) for c in corrections] == [
        ("Carol's fix", "carol")
    ]
    add_review(traced, "lf", "dave", {**WRONG, "corrected_response": "Dave's fix"}, minutes=20)
    later, _ = _run(traced, tmp_path, "langfuse-scores")
    (correction,) = [x for x in later if x["dataType"] == "CORRECTION"]
    assert correction["value"] == "Dave's fix"
    # the same score (id and timestamp) is updated, not a second correction added
    assert (correction["id"], correction["timestamp"]) == (
        corrections[0]["id"],
        corrections[0]["timestamp"],
    )


def test_langsmith_feedback_is_ready_for_create_feedback(traced: Workspace, tmp_path: Path) -> None:
    lines, manifest = _run(traced, tmp_path, "langsmith-feedback", level="session")
    assert manifest["left_out"] == {"not_from_langsmith": 5}
    assert {line["run_id"] for line in lines} == {"run-1"}
    keys = [line["key"] for line in lines]
    # alice said incorrect, bob correct: a tie, so no consensus on correctness is sent
    assert keys == ["quality", "policy", "failure_tags", "failure_step", "corrected_response"]
    correction = lines[-1]
    assert correction["correction"] == {"output": WRONG["corrected_response"]}
    assert lines[0]["source_info"]["label_source"] == "consensus"
    # the run's project and start: the client warns (or the server refuses) without them
    assert {(x["session_id"], x["start_time"]) for x in lines} == {
        ("proj-1", "2026-10-01T09:00:00.000000Z")
    }


def test_phoenix_annotations_are_human_and_upsert_per_reviewer(
    traced: Workspace, tmp_path: Path
) -> None:
    lines, manifest = _run(traced, tmp_path, "phoenix-annotations")
    assert manifest["left_out"] == {"not_from_otlp": 5}
    assert {line["span_id"] for line in lines} == {SPAN}
    assert {line["annotator_kind"] for line in lines} == {"HUMAN"}
    quality = [line for line in lines if line["name"] == "quality"]
    assert [q["result"]["score"] for q in quality] == [2.0, 5.0]
    assert len({(line["name"], line["identifier"]) for line in lines}) == len(lines)


def test_otel_evaluation_events_are_parented_to_the_evaluated_span(
    traced: Workspace, tmp_path: Path
) -> None:
    lines, _ = _run(traced, tmp_path, "otel-evaluations")
    assert len(lines) == 2  # one LogsData per review
    records = lines[0]["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    assert {(r["traceId"], r["spanId"], r["eventName"]) for r in records} == {
        (TRACE, SPAN, "gen_ai.evaluation.result")
    }
    attrs = {a["key"]: a["value"] for a in records[0]["attributes"]}
    assert attrs["gen_ai.evaluation.name"] == {"stringValue": "quality"}
    assert attrs["gen_ai.evaluation.score.value"] == {"doubleValue": 2.0}
    assert attrs["gen_ai.response.id"] == {"stringValue": "resp-9"}
    assert attrs["gen_ai.evaluation.explanation"] == {"stringValue": WRONG["rationale"]}
    submitted = datetime(2026, 10, 2, 9, 1, tzinfo=UTC)  # alice's review
    assert records[0]["timeUnixNano"] == str(int(submitted.timestamp()) * 10**9)


def test_inspect_score_edits_keep_each_reviewer_and_relabel_every_scorer(
    traced: Workspace, tmp_path: Path
) -> None:
    lines, manifest = _run(traced, tmp_path, "inspect-scores")
    assert manifest["left_out"] == {"not_from_inspect_ai": 5}
    # each reviewer edits a score of their own: neither overwrites the other
    assert [(e["sample_id"], e["epoch"], e["score_name"], e["edit"]["value"]) for e in lines] == [
        (7, 2, "agentops-reviewer:alice", "I"),
        (7, 2, "agentops-reviewer:bob", "C"),
    ]
    provenance = lines[0]["edit"]["provenance"]
    assert provenance["author"] == "alice"
    assert provenance["timestamp"] == "2026-10-02T09:01:00.000000Z"
    assert lines[0]["edit"]["explanation"] == WRONG["rationale"]
    assert (lines[0]["eval_id"], lines[0]["task"]) == ("ev", "qa")
    # alice said incorrect and bob correct: the session has no consensus to send
    _, session_level = _run(traced, tmp_path, "inspect-scores", level="session")
    assert session_level["left_out"] == {"not_from_inspect_ai": 5, "nothing_to_send": 1}
    # carol breaks the tie: the decided label relabels every scorer of the sample
    add_review(traced, "ia", "carol", FINE, minutes=3)
    decided, _ = _run(traced, tmp_path, "inspect-scores", level="session")
    assert [(e["score_name"], e["edit"]["value"]) for e in decided] == [
        ("includes", "C"),
        ("match", "C"),
    ]


def test_inspect_session_without_scores_gets_a_new_score(
    workspace: Workspace, tmp_path: Path
) -> None:
    source = Source(format="inspect-ai", ids={"sample_id": "s1"})
    store_sessions(workspace, [make_session("ia", source=source)])
    add_review(workspace, "ia", "alice", WRONG)
    lines, _ = _run(workspace, tmp_path, "inspect-scores", level="session")
    assert [(e["sample_id"], e["score_name"], e["edit"]["value"]) for e in lines] == [
        ("s1", "agentops-reviewer", "I")
    ]
