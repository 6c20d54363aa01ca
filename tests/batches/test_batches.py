"""Batches in a workspace: stored spec, strata, reviewed sessions, gold items, rubric versions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reviewer.domain.batch import SamplingSpec
from reviewer.domain.filters import FilterSpec
from reviewer.domain.review import Review, ReviewRole, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.domain.sampling import draw
from reviewer.resources import default_rubric
from reviewer.services.batches import (
    BatchError,
    _draw_by_position,
    create_batch,
    get_batch,
    list_batches,
    plan,
    population,
    strata_sizes,
)
from reviewer.services.browse import SessionFilter, summaries
from reviewer.services.importing import store_sessions
from reviewer.services.reviewing import QueueSpec, load_queue
from reviewer.services.workspaces import init_workspace
from reviewer.store.batches import ids_at_positions
from reviewer.store.reviews import save_review
from reviewer.store.tables import AssignmentRow, BatchItemRow, BatchRow
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session

FINE = {"quality": "4", "correctness": "correct", "policy": "compliant"}


def _fill(ws: Workspace, n: int = 120) -> None:
    sessions = []
    for i in range(n):
        s = make_session(
            f"s-{i:03d}",
            version=("1.0", "2.0", "2.1")[i % 3],
            tool_error=i % 4 == 0,
            feedback=-1.0 if i % 10 == 0 else 1.0,
        )
        s.tags = ["refund"] if i % 2 else []
        s.signals.judge_scores = {"helpfulness": (i % 10) / 10}
        sessions.append(s)
    store_sessions(ws, sessions)


def _review(ws: Workspace, rubric: Rubric, key: str, *, role: ReviewRole, who: str = "x") -> None:
    with ws.write() as s:
        save_review(
            s,
            Review(
                session_key=key,
                reviewer=who,
                role=role,
                rubric_name="default",
                rubric_version=1,
                values=FINE,
                status=ReviewStatus.SUBMITTED,
            ),
            rubric,
        )


@pytest.fixture
def filled(workspace: Workspace) -> Workspace:
    _fill(workspace)
    return workspace


def test_same_workspace_spec_and_seed_give_the_same_batch(tmp_path: Path) -> None:
    spec = SamplingSpec(
        size=30,
        seed=9,
        where="not escalated",
        stratify_by=["version"],
        reviewers=["a", "b", "c"],
        overlap=0.2,
        priority={"negative_feedback": 4},
    )
    batches = []
    for n in range(2):
        ws = init_workspace(tmp_path / f"w{n}.sqlite")
        _fill(ws)
        batches.append(create_batch(ws, f"b{n}", spec))
        ws.close()
    first, second = batches
    assert [i.model_dump() for i in first.items] == [i.model_dump() for i in second.items]
    other = init_workspace(tmp_path / "other-seed.sqlite")
    _fill(other)
    third = create_batch(other, "b", spec.model_copy(update={"seed": 10}))
    other.close()
    assert [i.session_key for i in third.items] != [i.session_key for i in first.items]


def test_the_batch_stores_its_full_spec_strata_and_assignment(filled: Workspace) -> None:
    spec = SamplingSpec(
        size=30,
        seed=9,
        where="steps=5..20",
        stratify_by=["version"],
        allocation="equal",
        reviewers=["a", "b", "c"],
        overlap=0.2,
        blind=True,
    )
    batch = create_batch(filled, "q4", spec)
    assert batch.spec == spec.model_copy(update={"rubric_name": "default", "rubric_version": 1})
    assert batch.created_at is not None and batch.app_version
    assert batch.population == 120
    assert batch.strata == {
        "version=1.0": {"population": 40, "sample": 10},
        "version=2.0": {"population": 40, "sample": 10},
        "version=2.1": {"population": 40, "sample": 10},
    }
    assert Counter(i.stratum for i in batch.items) == {
        "version=1.0": 10,
        "version=2.0": 10,
        "version=2.1": 10,
    }
    assert all(i.inclusion_probability == pytest.approx(10 / 40) for i in batch.items)
    assert sum(len(i.reviewers) == 2 for i in batch.items) == 6
    load = Counter(r for i in batch.items for r in i.reviewers)
    assert load == {"a": 12, "b": 12, "c": 12}
    with filled.read() as s:
        stored = s.scalar(select(BatchRow).where(BatchRow.name == "q4"))
        assert stored is not None and stored.blind
        assert stored.spec["seed"] == 9 and stored.spec["where"] == "steps=5..20"
        assert stored.spec["allocation"] == "equal" and stored.spec["stratify_by"] == ["version"]
        assert (stored.spec["rubric_name"], stored.spec["rubric_version"]) == ("default", 1)
        assert stored.spec["created_at"] == batch.created_at.isoformat()
        assert s.scalar(select(BatchItemRow.id).where(BatchItemRow.batch_id == stored.id))
        assert len(s.scalars(select(AssignmentRow.id)).all()) == 36
    assert get_batch(filled, "q4") == batch


def test_unstratified_batches_have_one_stratum_all(filled: Workspace) -> None:
    batch = create_batch(filled, "plain", SamplingSpec(size=12, where="version=2.0"))
    assert batch.strata == {"all": {"population": 40, "sample": 12}}
    assert {i.stratum for i in batch.items} == {"all"}
    assert sum(1 / i.inclusion_probability for i in batch.items) == pytest.approx(40)


def test_priority_batches_store_the_probabilities_they_were_drawn_with(
    filled: Workspace,
) -> None:
    batch = create_batch(filled, "p", SamplingSpec(size=24, priority={"low_judge": 9.0}))
    units = {u.id: u for u in population(filled, SamplingSpec(size=1, priority={"low_judge": 1}))}
    sizes = [1 + 9.0 * u.signals["low_judge"] for u in units.values()]
    by_key = {f"s-{i:03d}": 1 + 9.0 * (1 - (i % 10) / 10) for i in range(120)}
    for item in batch.items:
        expected = min(1.0, 24 * by_key[item.session_key] / sum(sizes))
        assert item.inclusion_probability == pytest.approx(expected)
    low = sum(by_key[i.session_key] > 5 for i in batch.items)
    assert low > 24 / 2, "low judge scores are over-sampled"


def test_reviewed_sessions_are_left_out_unless_asked(filled: Workspace, rubric: Rubric) -> None:
    for i in range(20):
        _review(filled, rubric, f"s-{i:03d}", role=ReviewRole.REVIEWER)
    batch = create_batch(filled, "rest", SamplingSpec(size=200))
    assert len(batch.items) == 100
    assert not {i.session_key for i in batch.items} & {f"s-{i:03d}" for i in range(20)}
    everything = create_batch(filled, "all", SamplingSpec(size=200, include_reviewed=True))
    assert len(everything.items) == 120


def test_gold_items_are_mixed_in_for_every_reviewer(filled: Workspace, rubric: Rubric) -> None:
    for key in ("s-100", "s-101", "s-102"):
        _review(filled, rubric, key, role=ReviewRole.GOLD, who="lead")
    spec = SamplingSpec(size=20, seed=1, reviewers=["a", "b"], gold=2)
    batch = create_batch(filled, "g", spec)
    gold = [i for i in batch.items if i.is_gold]
    assert len(gold) == 2 and {i.session_key for i in gold} <= {"s-100", "s-101", "s-102"}
    assert all(i.reviewers == ["a", "b"] and i.stratum is None for i in gold)
    assert all(i.inclusion_probability == 1.0 for i in gold)
    assert [i.position for i in batch.items] == list(range(22))
    with pytest.raises(BatchError, match="only 3 sessions have reference labels"):
        create_batch(filled, "g2", spec.model_copy(update={"gold": 4}))


def test_a_rubric_file_pins_a_new_version_only_when_its_definition_differs(
    filled: Workspace, rubric: Rubric
) -> None:
    same = create_batch(filled, "same", SamplingSpec(size=3), rubric=rubric)
    assert (same.spec.rubric_name, same.spec.rubric_version) == ("default", 1)
    edited = rubric.model_copy(update={"title": "Agent session review, week 48"})
    first = create_batch(filled, "edited", SamplingSpec(size=3), rubric=edited)
    again = create_batch(filled, "edited-again", SamplingSpec(size=3), rubric=edited)
    assert first.spec.rubric_version == again.spec.rubric_version == 2
    latest = create_batch(filled, "latest", SamplingSpec(size=3))
    assert latest.spec.rubric_version == 2, "without a file: the latest version"
    assert [(b.name, b.rubric_version) for b in list_batches(filled)] == [
        ("same", 1),
        ("edited", 2),
        ("edited-again", 2),
        ("latest", 2),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SamplingSpec(size=5, where="colour=red"), "--where: unknown field 'colour'"),
        (SamplingSpec(size=5, stratify_by=["colour"]), "cannot stratify by colour"),
        (SamplingSpec(size=5, priority={"vibes": 2}), "unknown priority signal vibes"),
        (SamplingSpec(size=5, where="version=9.9"), "no session to draw from"),
        (SamplingSpec(size=5, overlap=0.5, reviewers=["a"]), "at least two reviewers"),
        (SamplingSpec(size=5, rubric_name="nope"), "no rubric named 'nope'"),
    ],
)
def test_batches_that_cannot_be_made_say_why(
    filled: Workspace, spec: SamplingSpec, message: str
) -> None:
    with pytest.raises(BatchError, match=message):
        create_batch(filled, "bad", spec)
    assert list_batches(filled) == [], "nothing half-made is left behind"


def test_names_are_unique_and_missing_batches_are_named(filled: Workspace) -> None:
    create_batch(filled, "one", SamplingSpec(size=5))
    with pytest.raises(BatchError, match="exists already"):
        create_batch(filled, "one", SamplingSpec(size=5))
    with pytest.raises(BatchError, match="no batch named 'two' in this workspace; batches: one"):
        get_batch(filled, "two")


def test_plan_per_stratum_with_allocation(filled: Workspace) -> None:
    result = plan(
        filled, SamplingSpec(size=1, stratify_by=["version"]), margin=0.05, confidence=0.95, size=30
    )
    # N = 40 per stratum: 384.146 / (1 + 383.146/40) = 36.3 → 37
    assert [(s.stratum, s.population, s.needed, s.allocated) for s in result.strata] == [
        ("version=1.0", 40, 37, 10),
        ("version=2.0", 40, 37, 10),
        ("version=2.1", 40, 37, 10),
    ]
    assert result.total == 111
    assert result.overall == 92  # N = 120: 384.146 / (1 + 383.146/120) = 91.6 → 92
    assert result.z == pytest.approx(1.959964, abs=1e-6)


@pytest.mark.parametrize(
    "spec",
    [
        SamplingSpec(size=1),
        SamplingSpec(size=1, stratify_by=["version", "tool_error"], where="tag=refund"),
        SamplingSpec(size=1, stratify_by=["escalated", "model"], include_reviewed=True),
    ],
)
def test_counting_strata_in_sql_agrees_with_the_population_drawn_from(
    filled: Workspace, rubric: Rubric, spec: SamplingSpec
) -> None:
    _review(filled, rubric, "s-001", role=ReviewRole.REVIEWER)
    units = population(filled, spec)
    assert strata_sizes(filled, spec) == dict(Counter(u.stratum for u in units))
    if "escalated" in spec.stratify_by:
        assert {u.stratum for u in units} == {"escalated=(none) | model=gpt-4o-mini"}


BY_POSITION_SPECS = [
    SamplingSpec(size=25, seed=3),
    SamplingSpec(size=40, seed=4, stratify_by=["version", "tool_error"]),
    SamplingSpec(size=30, seed=5, stratify_by=["version"], allocation="equal", where="steps=1.."),
    SamplingSpec(size=500, seed=6, stratify_by=["version"], include_reviewed=True),
]
"""Designs drawn by position: simple, two-field proportional, equal with a filter, and a
size above the population."""


def drawn_by_position_and_in_full(ws: Workspace) -> list[tuple[Any, Any]]:
    """For each spec of :data:`BY_POSITION_SPECS`: (the draw from counts and positions, the
    draw over the whole population read into memory) on ``ws``: 200 sessions, some revised
    (older revisions are never drawn) and some with a submitted review (left out)."""
    store_sessions(
        ws,
        [
            make_session(f"p-{i:03d}", version=("1.0", "2.0", "2.1")[i % 3], tool_error=i % 7 == 0)
            for i in range(200)
        ],
    )
    store_sessions(ws, [make_session(f"p-{i:03d}", text="changed") for i in range(0, 200, 9)])
    rubric = default_rubric()
    for i in range(1, 200, 11):
        _review(ws, rubric, f"p-{i:03d}", role=ReviewRole.REVIEWER)
    out = []
    for spec in BY_POSITION_SPECS:
        units = population(ws, spec)
        full = draw(
            units,
            spec.size,
            seed=spec.seed,
            stratified=bool(spec.stratify_by),
            allocation=spec.allocation,
        )
        by_position = _draw_by_position(ws, spec)
        assert by_position is not None  # the path taken, not a fall-back
        out.append((by_position, (full, dict(Counter(u.stratum for u in units)))))
    return out


def test_a_batch_drawn_by_position_is_the_one_drawn_from_the_whole_population(
    workspace: Workspace,
) -> None:
    pairs = drawn_by_position_and_in_full(workspace)
    assert [a for a, _ in pairs] == [b for _, b in pairs]
    # and what the batch stores is that draw
    spec = BY_POSITION_SPECS[1]
    batch = create_batch(workspace, "by-position", spec)
    (full, sizes) = pairs[1][1]
    assert batch.population == sum(sizes.values()) < 200  # reviewed ones left out
    assert [i.stratum for i in batch.items] == [d.stratum for d in full]
    assert {h: v["population"] for h, v in batch.strata.items()} == sizes


def test_a_reviewers_queue_of_a_batch_is_in_batch_order_and_a_filter_narrows_it(
    filled: Workspace,
) -> None:
    batch = create_batch(filled, "q", SamplingSpec(size=30, seed=2, reviewers=["a", "b"]))
    everything = load_queue(filled, QueueSpec("a", "q"))
    mine = [i.session_key for i in batch.items if "a" in i.reviewers]
    assert [s.key for s in summaries(filled, everything.ids)] == mine
    narrowed = load_queue(filled, QueueSpec("a", "q", filter=SessionFilter(agent_version="2.0")))
    assert [s.key for s in summaries(filled, narrowed.ids)] == [
        s.key for s in summaries(filled, everything.ids) if s.agent_version == "2.0"
    ]
    assert 0 < len(narrowed.ids) < len(everything.ids)


def test_a_draw_spread_over_thousands_of_id_ranges_is_looked_up_on_sqlite(
    workspace: Workspace,
) -> None:
    # A big batch from a big workspace touches thousands of separate id ranges: SQLite
    # refuses an OR of over 1,000 terms, so the look-up goes a few hundred at a time.
    store_sessions(workspace, [make_session(f"k-{i}") for i in range(40)])
    with workspace.read() as s:
        rows = ids_at_positions(
            s, FilterSpec(), [], include_reviewed=True, width=1,
            places=[(2 * k, 0) for k in range(1500)],
        )  # fmt: skip
    assert sorted(r.id for r in rows) == list(range(2, 41, 2))
