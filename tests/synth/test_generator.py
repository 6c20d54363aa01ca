from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from reviewer.domain.session import Role, Session
from reviewer.synth.generator import (
    PLANTED_RATES,
    generate_session,
    generate_sessions,
    session_line,
    write_jsonl,
)


def test_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    write_jsonl(a, 200, seed=5)
    write_jsonl(b, 200, seed=5)
    write_jsonl(c, 200, seed=6)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_any_session_can_be_regenerated_alone() -> None:
    assert list(generate_sessions(30, 9))[17] == generate_session(9, 17)


def test_sessions_are_valid_and_tool_results_answer_real_calls() -> None:
    for s in generate_sessions(300, 2):
        again = Session.model_validate_json(session_line(s))
        assert again == s
        call_ids = {c.id for st in s.steps for c in st.tool_calls}
        for st in s.steps:
            if st.role is Role.TOOL:
                assert st.tool_call_id in call_ids


def test_shape_is_realistic() -> None:
    sessions = list(generate_sessions(2000, 1))
    steps = [len(s.steps) for s in sessions]
    sizes = [len(session_line(s)) for s in sessions]
    assert 9 <= statistics.median(steps) <= 16
    assert 3_000 <= statistics.median(sizes) <= 10_000
    assert any(n >= 200 for n in steps), "a long tail of 200+ step sessions"
    assert len({s.agent.version for s in sessions}) >= 3
    assert len({s.model for s in sessions}) >= 3
    assert any(s.signals.user_feedback is not None for s in sessions)


def test_planted_failure_rates_follow_the_ground_truth() -> None:
    sessions = list(generate_sessions(6000, 3))
    per_version = Counter(s.agent.version for s in sessions)
    failed = Counter(s.agent.version for s in sessions if s.metadata["planted_failure"])
    for version, rates in PLANTED_RATES.items():
        expected = sum(rates.values())
        observed = failed[version] / per_version[version]
        assert abs(observed - expected) < 0.04, (version, observed, expected)


def test_planted_failures_are_visible_in_the_transcript() -> None:
    for s in generate_sessions(1500, 4):
        kind = s.metadata["planted_failure"]
        if kind == "tool_failure":
            assert s.has_tool_error
        elif kind == "looped":
            assert s.tool_call_count >= 6
        elif kind == "wrong_language":
            step = s.metadata["planted_failure_step"]
            assert isinstance(step, int)
            assert "Bestellung" in s.steps[step].content
