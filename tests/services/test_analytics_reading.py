"""What the figures read comes through whole: names that look like numbers stay names, and
the judges' suggestion records are counted beside reviews saved without any."""

from __future__ import annotations

import pytest

from reviewer.domain.review import Review, ReviewRole, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.domain.suggestions import SuggestionRecord
from reviewer.services.analytics import StatsQuery, compute_stats
from reviewer.store.reviews import save_review
from reviewer.store.workspace import Workspace
from tests.services.analytics_helpers import label, sessions


def _suggested(ws: Workspace, rubric: Rubric, key: str, reviewer: str, outcome: str) -> None:
    with ws.write() as s:
        save_review(
            s,
            Review(
                session_key=key,
                reviewer=reviewer,
                role=ReviewRole.REVIEWER,
                rubric_name=rubric.name,
                rubric_version=rubric.version,
                values={"quality": "5", "correctness": "correct", "policy": "compliant",
                        "failure_categories": []},
                status=ReviewStatus.SUBMITTED,
                active_seconds=10.0,
                suggestions={
                    "quality": SuggestionRecord(outcome=outcome, judge="gpt-judge", suggested="5"),
                    "policy": SuggestionRecord(outcome="none"),
                },
            ),
            rubric,
        )  # fmt: skip


def test_a_reviewer_called_7_is_reported_as_7(workspace: Workspace, rubric: Rubric) -> None:
    sessions(workspace, ["1.0"] * 3)
    for key in ("s-000", "s-001"):
        label(workspace, rubric, key, "7")
    label(workspace, rubric, "s-002", "12")
    report = compute_stats(workspace, StatsQuery())
    assert {r.reviewer for r in report.suggestion_use} == {"7", "12"}


def test_suggestions_counted_beside_reviews_without_any(
    workspace: Workspace, rubric: Rubric
) -> None:
    sessions(workspace, ["1.0"] * 5)
    _suggested(workspace, rubric, "s-000", "ann", "taken")
    _suggested(workspace, rubric, "s-001", "ann", "changed")
    label(workspace, rubric, "s-002", "ann", active=30.0)
    label(workspace, rubric, "s-003", "ann", active=50.0)
    label(workspace, rubric, "s-004", "bob", active=20.0)
    report = compute_stats(workspace, StatsQuery())
    ann, bob = sorted(report.suggestion_use, key=lambda u: u.reviewer)
    assert (ann.offered, ann.taken_unchanged, ann.share_taken_unchanged) == (2, 1, 0.5)
    assert (ann.reviews_with, ann.reviews_without) == (2, 2)
    assert (ann.median_seconds_with, ann.median_seconds_without) == (10.0, 40.0)
    assert (bob.offered, bob.reviews_with, bob.median_seconds_without) == (0, 0, 20.0)
    (quality,) = [a for a in report.suggestions if a.dimension == "quality"]
    assert (quality.judge, quality.reviews, quality.agreement) == ("gpt-judge", 2, 1.0)


def test_codes_read_the_same_packed_in_one_column_or_one_column_each(
    workspace: Workspace, rubric: Rubric, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Status, failure flag and option codes travel packed in one integer when they fit;
    every status, a failure and the lowest and highest options read back the same."""
    from reviewer.store import analytics as store

    sessions(workspace, ["1.0"] * 3 + ["2.0"] * 3)
    label(workspace, rubric, "s-000", "ann", quality="1", tags=["looped"])
    label(workspace, rubric, "s-001", "ann", quality="5", correctness="incorrect")
    label(workspace, rubric, "s-002", "ann", status="skipped")
    label(workspace, rubric, "s-003", "ann", status="flagged", quality="3")
    label(workspace, rubric, "s-004", "ann", status="draft")
    label(workspace, rubric, "s-005", "ann", tags=["looped", "unsafe"])

    def figures() -> dict[str, object]:
        shown = compute_stats(workspace, StatsQuery()).model_dump(mode="json")
        shown.pop("generated_at")
        return shown

    packed = figures()
    monkeypatch.setattr(store, "_PACK_LIMIT", 1)  # nothing fits: one column each
    assert figures() == packed
    q = packed["quality"]
    assert isinstance(q, dict) and q["reviews"] == 3
    counts = {d["dimension"]: [o["count"] for o in d["options"]] for d in q["distributions"]}
    assert counts["quality"] == [1, 0, 0, 1, 1]
    assert sorted(counts["correctness"])[-2:] == [1, 2] and sum(counts["correctness"]) == 3
    assert [b["count"] for b in q["failure_categories"]] == [2, 1]


def test_the_judges_sample_is_the_same_chosen_from_the_reviews_read_or_in_sql(
    workspace: Workspace, rubric: Rubric, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sessions judge agreement is estimated on come from the reviews already read; the
    SQL that chose them before (kept for reads that come as rows) picks the same ones."""
    from reviewer.store import analytics as store

    sessions(workspace, ["1.0"] * 20, judge=[i / 20 for i in range(20)])
    for i in range(20):
        label(
            workspace, rubric, f"s-{i:03d}", "ann", quality=str(1 + i % 5), tags=["looped"][: i % 2]
        )
    label(workspace, rubric, "s-000", "bob", status="skipped")
    monkeypatch.setattr(store, "JUDGE_SAMPLE", 8)

    def figures() -> dict[str, object]:
        shown = compute_stats(workspace, StatsQuery()).model_dump(mode="json")
        shown.pop("generated_at")
        return shown

    from_reviews = figures()
    monkeypatch.setattr(store, "submitted_sessions", lambda fetched: None)
    assert figures() == from_reviews
    sample = from_reviews["judge_sample"]
    assert isinstance(sample, int) and 0 < sample < 20
    judged = from_reviews["judges"]
    assert isinstance(judged, list) and {j["reviews"] for j in judged} == {sample}
