"""Which label a session gets from its reviews."""

from __future__ import annotations

from typing import Any

from reviewer.export.columns import LabelPlan
from reviewer.export.consensus import SessionLabeller
from reviewer.resources import default_rubric

PLAN = LabelPlan.from_rubrics({1: default_rubric()})
NAMES = [c.name for c in PLAN.review_columns()]
SESSION = [c.name for c in PLAN.session_columns()]


def _review(reviewer: str, minute: int, role: str = "reviewer", **cells: Any) -> tuple:
    row: dict[str, Any] = dict.fromkeys(NAMES)
    row.update(
        review_uid=f"uid-{reviewer}-{minute}",
        session_id="s-1",
        session_revision=1,
        reviewer=reviewer,
        role=role,
        status="submitted",
        rubric_name="default",
        rubric_version=1,
        failure_tags=[],
        submitted_at=f"2026-10-02T09:{minute:02d}:00.000000Z",
        updated_at=f"2026-10-02T09:{minute:02d}:00.000000Z",
        active_seconds=10.0,
        simulated=False,
        origin="local",
        source_format="canonical",
    )
    row.update(cells)
    return tuple(row[n] for n in NAMES)


def _label(*reviews: tuple) -> dict[str, Any]:
    return dict(zip(SESSION, SessionLabeller(PLAN).session_row(list(reviews)), strict=True))


def test_an_adjudicator_decides_whatever_the_majority_said() -> None:
    label = _label(
        _review("alice", 1, label_correctness="correct", label_quality=5),
        _review("bob", 2, label_correctness="correct", label_quality=5),
        _review("lead", 3, "adjudicator", label_correctness="incorrect", label_quality=2),
    )
    assert label["label_source"] == "adjudicated"
    assert (label["label_correctness"], label["label_quality"]) == ("incorrect", 2)
    assert label["reviewer_count"] == 3 and label["unanimous"] is False


def test_the_latest_adjudication_wins_and_gold_comes_before_votes() -> None:
    label = _label(
        _review("lead", 5, "adjudicator", label_correctness="correct"),
        _review("lead2", 7, "adjudicator", label_correctness="incorrect"),
    )
    assert label["label_correctness"] == "incorrect"
    gold = _label(
        _review("alice", 1, label_correctness="incorrect"),
        _review("lead", 2, "gold", label_correctness="correct"),
    )
    assert (gold["label_source"], gold["label_correctness"]) == ("gold", "correct")


def test_votes_take_the_lower_median_and_no_choice_on_a_tie() -> None:
    label = _label(
        _review("a", 1, label_quality=5, label_correctness="correct", label_policy="compliant"),
        _review("b", 2, label_quality=3, label_correctness="incorrect", label_policy="compliant"),
        _review("c", 3, label_quality=4, label_policy="minor_violation"),
        _review("d", 4, label_quality=2, label_policy="compliant"),
    )
    assert label["label_source"] == "consensus"
    assert label["label_quality"] == 3  # sorted 2 3 4 5: the lower of the middle two
    assert label["label_correctness"] is None  # one each: no consensus
    assert label["label_policy"] == "compliant"


def test_a_failure_tag_needs_half_of_the_labelling_reviews() -> None:
    label = _label(
        _review("a", 1, label_quality=2, failure_tags=["looped", "tool_failure"], failure_step=3),
        _review("b", 2, label_quality=2, failure_tags=["looped"], failure_step=5),
        _review("c", 3, label_quality=3, failure_tags=[], failure_step=5),
        _review("d", 4, label_quality=3, failure_tags=["hallucination", "tool_failure"]),
    )
    assert label["failure_tags"] == ["looped", "tool_failure"]
    assert label["failure_step"] == 5


def test_text_comes_from_the_latest_review_and_a_single_review_is_its_own_label() -> None:
    label = _label(
        _review("a", 1, label_quality=2, rationale="first", corrected_response="A"),
        _review("b", 9, label_quality=2, rationale="second", corrected_response="B"),
    )
    assert (label["rationale"], label["corrected_response"]) == ("second", "B")
    assert label["unanimous"] is True
    single = _label(_review("a", 1, label_quality=4))
    assert (single["label_source"], single["label_quality"]) == ("single", 4)


def test_copies_kept_aside_by_a_merge_and_empty_reviews_do_not_vote() -> None:
    label = _label(
        _review("a", 1, label_quality=5),
        _review("a", 2, label_quality=1, conflict_of="uid-a-1"),
        _review("b", 3, status="skipped"),
    )
    assert (label["label_source"], label["label_quality"]) == ("single", 5)
    assert [r["reviewer"] for r in label["reviews"]] == ["a", "b"]
    assert label["reviewer_count"] == 1
