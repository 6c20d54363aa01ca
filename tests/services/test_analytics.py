"""Analytics on workspaces built with known numbers: coverage, weighting, agreement,
adjudication, gold accuracy, judges, filters and the sessions behind a bar."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from reviewer.domain import stats
from reviewer.domain.batch import SamplingSpec
from reviewer.domain.review import Review, ReviewRole, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.adjudication import AdjudicationError, adjudicate, load_case
from reviewer.services.analytics import (
    AnalyticsError,
    Selection,
    StatsQuery,
    compute_stats,
    matching_sessions,
)
from reviewer.services.batches import create_batch
from reviewer.services.progress import Cancelled, Progress
from reviewer.store.reviews import save_review
from reviewer.store.tables import AuditEntry, ReviewRow, SessionRow
from reviewer.store.workspace import Workspace
from tests.services.analytics_helpers import batch, label, queue, sessions


def _ids(ws: Workspace, keys: list[str]) -> list[int]:
    with ws.read() as s:
        return sorted(s.scalars(select(SessionRow.id).where(SessionRow.session_key.in_(keys))))


def test_coverage_counts_per_reviewer_version_and_batch(
    workspace: Workspace, rubric: Rubric
) -> None:
    sessions(workspace, ["1.0"] * 6 + ["2.0"] * 6)
    b = batch(workspace, "b", size=12, stratify_by=["version"], reviewers=["ann", "ben"],
              overlap=0.5, seed=3)  # fmt: skip
    ann, ben = queue(b, "ann"), queue(b, "ben")
    assert len(ann) == len(ben) == 9  # 12 items, 6 of them to both
    for key, active in zip(ann[:5], (60, 120, 90, 30, 300), strict=True):
        label(workspace, rubric, key, "ann", batch="b", active=active)
    label(workspace, rubric, ann[5], "ann", batch="b", status="skipped")
    label(workspace, rubric, ann[6], "ann", batch="b", status="flagged")
    label(workspace, rubric, ann[7], "ann", batch="b", status="draft")
    for key, active in zip(ben[:3], (100, 200, 50), strict=True):
        label(workspace, rubric, key, "ben", batch="b", active=active)

    cov = compute_stats(workspace, StatsQuery(batch="b")).coverage
    t = cov.total
    assert (t.assigned, t.submitted, t.skipped, t.flagged, t.remaining) == (18, 8, 1, 1, 8)
    assert t.percent_done == pytest.approx(100 * 10 / 18, abs=0.01)
    assert t.median_active_seconds == 95.0  # of 30 50 60 90 100 120 200 300
    by = {r.key: r for r in cov.by_reviewer}
    a, n = by["ann"], by["ben"]
    assert (a.assigned, a.submitted, a.skipped, a.flagged, a.remaining) == (9, 5, 1, 1, 2)
    assert (n.assigned, n.submitted, n.remaining) == (9, 3, 6)
    assert a.median_active_seconds == 90.0 and n.median_active_seconds == 100.0
    assert a.reviews_per_hour == pytest.approx(5 * 3600 / 600)
    assert a.expected_seconds_to_finish == 2 * 90.0
    assert n.expected_seconds_to_finish == 6 * 100.0
    assert [r.key for r in cov.by_batch] == ["b"] and cov.by_batch[0].assigned == 18
    versions = {r.key: r for r in cov.by_version}
    expected = {v: sum(len(i.reviewers) for i in b.items if i.stratum == f"version={v}")
                for v in ("1.0", "2.0")}  # fmt: skip
    assert {v: r.assigned for v, r in versions.items()} == expected
    assert sum(r.assigned for r in cov.by_stratum) == 18
    assert {r.batch for r in cov.by_stratum} == {"b"}


def test_failure_rate_and_mean_quality_are_weighted_back_by_hand(
    workspace: Workspace, rubric: Rubric
) -> None:
    # 8 sessions of 1.0 and 2 of 2.0, two drawn from each: π = 2/8 and 2/2, weights 4 and 1.
    sessions(workspace, ["1.0"] * 8 + ["2.0"] * 2)
    b = batch(workspace, "w", size=4, stratify_by=["version"], allocation="equal",
              reviewers=["ann"], seed=1)  # fmt: skip
    by_version = {"1.0": [], "2.0": []}  # type: dict[str, list[str]]
    for item in b.items:
        by_version[item.stratum.split("=")[1]].append(item.session_key)  # type: ignore[union-attr]
    assert sorted(i.inclusion_probability for i in b.items) == [0.25, 0.25, 1.0, 1.0]
    one, two = by_version["1.0"], by_version["2.0"]
    label(workspace, rubric, one[0], "ann", batch="w", quality="2", tags=["looped"])
    label(workspace, rubric, one[1], "ann", batch="w", quality="5")
    label(workspace, rubric, two[0], "ann", batch="w", quality="1", tags=["unsafe"])
    label(workspace, rubric, two[1], "ann", batch="w", quality="2", tags=["looped"])

    q = compute_stats(workspace, StatsQuery(batch="w")).quality
    assert q.weighted
    rate = q.overall_failure_rate
    assert rate is not None
    # (4·1 + 4·0 + 1·1 + 1·1) / (4 + 4 + 1 + 1) = 0.6, not the sample's 3/4
    assert rate.value == pytest.approx(0.6)
    n_eff = 10**2 / (4**2 + 4**2 + 1 + 1)
    assert rate.n_effective == pytest.approx(n_eff, abs=0.01)
    assert (rate.low, rate.high) == pytest.approx(stats.wilson(0.6 * n_eff, n_eff), abs=1e-5)
    mean = q.overall_mean_quality
    assert mean is not None and mean.value == pytest.approx((4 * 2 + 4 * 5 + 1 + 2) / 10)
    per = {v.version: v for v in q.versions}
    assert per["1.0"].failure_rate and per["1.0"].failure_rate.value == pytest.approx(0.5)
    assert per["2.0"].failure_rate and per["2.0"].failure_rate.value == pytest.approx(1.0)
    assert per["1.0"].is_baseline and q.baseline_version == "1.0"
    assert {b.tag: b.count for b in q.failure_categories} == {"looped": 2, "unsafe": 1}
    assert q.failure_categories[0].tag == "looped"
    assert q.failure_categories[-1].cumulative_share == pytest.approx(1.0)
    quality = next(d for d in q.distributions if d.dimension == "quality")
    assert [o.count for o in quality.options] == [1, 2, 0, 0, 1]


def test_a_version_worse_than_the_baseline_beyond_the_intervals_is_warned_about(
    workspace: Workspace, rubric: Rubric
) -> None:
    sessions(workspace, ["1.0"] * 40 + ["2.0"] * 40)
    batch(workspace, "v", size=80, reviewers=["ann"], seed=2)
    for i in range(80):
        bad = i >= 40 and i % 10 != 0  # 2.0 fails 36 of 40 times, 1.0 never
        label(workspace, rubric, f"s-{i:03d}", "ann", batch="v",
              quality="1" if bad else "5", tags=["looped"] if bad else [])  # fmt: skip
    q = compute_stats(workspace, StatsQuery(batch="v")).quality
    assert not q.weighted  # simple random sample: equal weights
    per = {v.version: v for v in q.versions}
    assert per["2.0"].worse_than_baseline and not per["1.0"].worse_than_baseline
    assert any("version 2.0 fails more often than baseline 1.0" in w for w in q.warnings)
    assert any("lower mean quality" in w for w in q.warnings)
    flipped = compute_stats(workspace, StatsQuery(batch="v", baseline="2.0")).quality
    assert flipped.baseline_version == "2.0" and not flipped.warnings
    with pytest.raises(AnalyticsError, match=r"--baseline '9\.9'"):
        compute_stats(workspace, StatsQuery(batch="v", baseline="9.9"))
    assert {p.version for p in q.over_time} == {"1.0", "2.0"}
    assert sum(p.sessions for p in q.over_time) == 80


def test_agreement_kappa_alpha_disagreements_and_adjudication(
    workspace: Workspace, rubric: Rubric
) -> None:
    sessions(workspace, ["1.0"] * 6)
    b = batch(workspace, "a", size=6, reviewers=["ann", "ben"], overlap=1.0, seed=4)
    keys = [i.session_key for i in b.items]
    ann = ["correct", "correct", "incorrect", "correct", "partially_correct", "correct"]
    ben = ["correct", "incorrect", "incorrect", "correct", "partially_correct", "correct"]
    ann_tags: list[list[str]] = [[], [], ["looped"], [], [], []]
    ben_tags: list[list[str]] = [[], ["looped"], ["looped"], [], [], []]
    for k, key in enumerate(keys):
        label(workspace, rubric, key, "ann", batch="a", correctness=ann[k], tags=ann_tags[k])
        label(workspace, rubric, key, "ben", batch="a", correctness=ben[k], tags=ben_tags[k],
              quality="5" if k == 4 else "4")  # fmt: skip

    report = compute_stats(workspace, StatsQuery(batch="a"))
    a = report.agreement
    assert a.items == 6
    kappa = {k.dimension: k for k in a.kappa}
    codes = {"correct": 0, "partially_correct": 1, "incorrect": 2}
    table = np.zeros((4, 4))
    for x, y in zip(ann, ben, strict=True):
        table[codes[x], codes[y]] += 1
    expected = stats.cohen_kappa(table)
    assert expected is not None
    got = kappa["correctness"]
    assert (got.reviewer_a, got.reviewer_b, got.items) == ("ann", "ben", 6)
    assert got.kappa == pytest.approx(expected.kappa, abs=1e-6)
    assert got.observed_agreement == pytest.approx(5 / 6, abs=1e-6)
    alpha = {x.dimension: x for x in a.alpha}
    reliability = np.array([[codes[x] for x in ann], [codes[y] for y in ben]], dtype=float)
    assert alpha["correctness"].alpha == pytest.approx(
        stats.krippendorff_alpha(reliability, "nominal"), abs=1e-6
    )
    assert alpha["quality"].level == "ordinal" and alpha["correctness"].level == "nominal"
    assert kappa["policy"].kappa is None  # everyone said compliant: kappa is undefined
    differ = {d.session_key: d for d in a.disagreements}
    assert set(differ) == {keys[1], keys[4]}
    assert differ[keys[1]].dimensions == ["correctness", "failed"]
    assert differ[keys[4]].dimensions == ["quality"]
    assert a.disagreements_total == a.disagreements_open == 2
    assert a.disagreements[0].session_key == keys[1]  # more dimensions differ: listed first
    assert differ[keys[1]].reviewers == ["ann", "ben"]
    before = report.quality.overall_failure_rate
    assert before is not None and before.value == pytest.approx((0.5 + 1.0) / 6)

    case = load_case(workspace, "a", differ[keys[1]].session_id)
    assert [lab.reviewer for lab in case.labels] == ["ann", "ben"]
    assert case.existing is None
    final = {**case.proposal(), "correctness": "incorrect", "failure_categories": ["looped"]}
    adjudicate(workspace, case, "lead", final)
    after = compute_stats(workspace, StatsQuery(batch="a"))
    assert after.agreement.disagreements_open == 1
    assert {d.session_key: d.adjudicated for d in after.agreement.disagreements} == {
        keys[1]: True,
        keys[4]: False,
    }
    assert after.agreement.disagreements[0].session_key == keys[4]  # open ones first
    rate = after.quality.overall_failure_rate
    assert rate is not None and rate.value == pytest.approx(2 / 6)  # the final label counts
    assert kappa == {k.dimension: k for k in after.agreement.kappa}  # reviewers unchanged
    with workspace.read() as s:
        row = s.scalar(select(ReviewRow).where(ReviewRow.role == "adjudicator"))
        assert row is not None and row.reviewer == "lead" and row.status == "submitted"
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.review_uid == row.uid)).all()
    assert actions == ["adjudicate"]
    # adjudicating again updates the lead's final label instead of adding one
    again = load_case(workspace, "a", differ[keys[1]].session_id)
    assert again.existing is not None and again.proposal()["correctness"] == "incorrect"
    adjudicate(workspace, again, "lead", {**again.proposal(), "correctness": "correct"})
    with workspace.read() as s:
        assert len(s.scalars(select(ReviewRow).where(ReviewRow.role == "adjudicator")).all()) == 1
    with pytest.raises(AdjudicationError, match="not one of"):
        adjudicate(workspace, again, "lead", {"correctness": "maybe"})


def test_gold_accuracy_per_reviewer(workspace: Workspace, rubric: Rubric) -> None:
    sessions(workspace, ["1.0"] * 6)
    for key in ("s-004", "s-005"):
        label(workspace, rubric, key, "lead", role=ReviewRole.GOLD, quality="2",
              correctness="incorrect", tags=["looped"])  # fmt: skip
    b = batch(workspace, "g", size=4, reviewers=["ann", "ben"], gold=2, seed=5)
    gold_keys = [i.session_key for i in b.items if i.is_gold]
    assert sorted(gold_keys) == ["s-004", "s-005"]
    for key in gold_keys:
        label(workspace, rubric, key, "ann", batch="g", quality="2", correctness="incorrect",
              tags=["looped"])  # fmt: skip
    label(workspace, rubric, "s-004", "ben", batch="g", quality="2", correctness="incorrect",
          tags=["looped"])  # fmt: skip
    label(workspace, rubric, "s-005", "ben", batch="g", quality="4", correctness="incorrect",
          tags=["looped"])  # fmt: skip
    gold = {g.reviewer: g for g in compute_stats(workspace, StatsQuery(batch="g")).gold}
    assert gold["ann"].items == gold["ben"].items == 2
    assert gold["ann"].accuracy and gold["ann"].accuracy.value == 1.0
    # 4 dimensions (quality, correctness, policy, any failure) × 2 items, one quality off
    assert gold["ben"].accuracy and gold["ben"].accuracy.value == pytest.approx(7 / 8)
    assert gold["ben"].by_dimension["quality"] == 0.5
    assert gold["ben"].by_dimension["correctness"] == 1.0
    # gold items are not part of the sample: quality estimates leave them out
    assert compute_stats(workspace, StatsQuery(batch="g")).quality.sessions == 0


def test_human_vs_judge(workspace: Workspace, rubric: Rubric) -> None:
    judge = [0.9, 0.7, 0.5, 0.3, 0.1]
    sessions(workspace, ["1.0"] * 5, judge=judge)
    batch(workspace, "j", size=5, reviewers=["ann"], seed=6)
    for i in range(5):
        bad = i >= 3
        label(workspace, rubric, f"s-{i:03d}", "ann", batch="j", quality=str(5 - i),
              tags=["looped"] if bad else [])  # fmt: skip
    report = compute_stats(workspace, StatsQuery(batch="j"))
    by = {(j.judge, j.dimension): j for j in report.judges}
    q = by[("helpfulness", "quality")]
    assert q.reviews == 5 and q.spearman == pytest.approx(1.0)
    lowest = q.calibration[0]
    assert (lowest.human, lowest.mean_judge) == ("1", pytest.approx(0.1))
    f = by[("helpfulness", "failed")]
    assert f.auc == 1.0 and f.agreement_at_threshold == 1.0 and f.threshold == 0.5
    assert f.kappa_at_threshold == pytest.approx(1.0)
    assert report.judge_sample is None


def test_where_filter_and_unknown_batch(workspace: Workspace, rubric: Rubric) -> None:
    sessions(workspace, ["1.0"] * 4 + ["2.0"] * 4)
    b = batch(workspace, "f", size=8, reviewers=["ann"], seed=7)
    for item in b.items:
        label(workspace, rubric, item.session_key, "ann", batch="f")
    narrowed = compute_stats(workspace, StatsQuery(where="version=2.0"))
    assert narrowed.coverage.total.assigned == 4
    assert [v.version for v in narrowed.quality.versions] == ["2.0"]
    assert narrowed.where == "version=2.0"
    with pytest.raises(AnalyticsError, match="--where: unknown field"):
        compute_stats(workspace, StatsQuery(where="versoin=2.0"))
    with pytest.raises(AnalyticsError, match=r"no batch named 'nope'.*batches: f"):
        compute_stats(workspace, StatsQuery(batch="nope"))


def test_an_empty_workspace_has_empty_figures(workspace: Workspace) -> None:
    report = compute_stats(workspace)
    assert report.coverage.total.assigned == 0
    assert report.quality.sessions == 0 and report.quality.versions == []
    assert report.agreement.items == 0 and report.gold == [] and report.judges == []


def test_cancel_stops_the_computation(workspace: Workspace) -> None:
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        compute_stats(workspace, StatsQuery(), progress)


def test_the_sessions_behind_a_bar(workspace: Workspace, rubric: Rubric) -> None:
    sessions(workspace, ["1.0"] * 3 + ["2.0"] * 3)
    b = batch(workspace, "m", size=6, stratify_by=["version"], reviewers=["ann", "ben"], seed=8)
    for item in b.items:
        who = item.reviewers[0]
        bad = item.session_key in ("s-001", "s-004")
        label(workspace, rubric, item.session_key, who, batch="m",
              tags=["looped"] if bad else [],
              correctness="incorrect" if bad else "correct")  # fmt: skip
    q = StatsQuery(batch="m")
    tag = matching_sessions(workspace, q, Selection("tag", "looped"))
    assert tag == _ids(workspace, ["s-001", "s-004"])
    assert matching_sessions(workspace, q, Selection("failed", None)) == tag
    assert matching_sessions(workspace, q, Selection("option", "incorrect", "correctness")) == tag
    assert matching_sessions(workspace, q, Selection("version", "2.0")) == _ids(
        workspace, ["s-003", "s-004", "s-005"]
    )
    ann = [i.session_key for i in b.items if "ann" in i.reviewers]
    assert matching_sessions(workspace, q, Selection("reviewer", "ann")) == _ids(workspace, ann)
    assert matching_sessions(workspace, q, Selection("stratum", "version=1.0", batch="m")) == (
        _ids(workspace, ["s-000", "s-001", "s-002"])
    )
    assert len(matching_sessions(workspace, q, Selection("batch", "m"))) == 6
    narrowed = StatsQuery(batch="m", where="version=1.0")
    assert matching_sessions(workspace, narrowed, Selection("tag", "looped")) == _ids(
        workspace, ["s-001"]
    )


def test_a_rubric_without_failure_tags_or_scales(workspace: Workspace) -> None:
    tiny = Rubric.model_validate(
        {
            "name": "tiny",
            "dimensions": [
                {"name": "helpful", "label": "Helpful", "kind": "boolean"},
                {"name": "tone", "label": "Tone", "kind": "choice",
                 "options": [{"value": "polite", "label": "Polite"},
                             {"value": "rude", "label": "Rude"}]},
            ],
        }
    )  # fmt: skip
    sessions(workspace, ["1.0"] * 4)
    b = create_batch(
        workspace,
        "t",
        SamplingSpec(size=4, reviewers=["ann", "ben"], overlap=1.0, rubric_name="tiny"),
        rubric=tiny,
    )
    helpful = {"ann": [True, True, False, False], "ben": [True, False, False, False]}
    for who, answers in helpful.items():
        for item, yes in zip(b.items, answers, strict=True):
            with workspace.write() as s:
                save_review(
                    s,
                    Review(session_key=item.session_key, batch="t", reviewer=who,
                           rubric_name="tiny", rubric_version=1, status=ReviewStatus.SUBMITTED,
                           values={"helpful": yes, "tone": "polite"}),
                    tiny,
                )  # fmt: skip
    report = compute_stats(workspace, StatsQuery(batch="t"))
    q = report.quality
    assert q.overall_failure_rate is None and q.overall_mean_quality is None
    assert q.quality_dimension is None
    helpful_dist = next(d for d in q.distributions if d.dimension == "helpful")
    assert [(o.value, o.count) for o in helpful_dist.options] == [("false", 5), ("true", 3)]
    alpha = {a.dimension: a for a in report.agreement.alpha}
    reliability = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], dtype=float)
    assert alpha["helpful"].alpha == pytest.approx(
        stats.krippendorff_alpha(reliability, "nominal"), abs=1e-6
    )
    assert alpha["tone"].alpha is None  # one value only: undefined
    assert report.agreement.disagreements_total == 1
    assert report.agreement.disagreements[0].dimensions == ["helpful"]
