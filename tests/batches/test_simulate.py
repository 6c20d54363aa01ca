"""The demo's simulated reviews follow the generator's planted failures, like people would."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from reviewer.domain.session import Role
from reviewer.resources import default_rubric
from reviewer.services.batches import get_batch
from reviewer.services.demo import DEMO_BATCH, build_demo
from reviewer.services.reviewing import ItemStatus, QueueSpec, load_queue
from reviewer.services.simulate import should_have_said
from reviewer.store.sessions import load_session
from reviewer.store.tables import ReviewRow, ReviewTag, SessionRow
from reviewer.store.workspace import Workspace
from reviewer.synth.generator import generate_sessions


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = build_demo(tmp_path_factory.mktemp("demo") / "demo.sqlite", sessions=600)
    yield ws
    ws.close()


def test_the_corrected_response_is_what_the_agent_should_have_answered() -> None:
    checked = 0
    for session in generate_sessions(200, seed=5):
        if session.metadata.get("planted_failure") is not None:
            continue
        last_tool = max(i for i, s in enumerate(session.steps) if s.role is Role.TOOL)
        answer = session.steps[last_tool + 1].content  # a session without failure got it right
        assert should_have_said(session, "answered_incorrectly") == answer
        checked += 1
    assert checked > 100
    broken = next(
        s for s in generate_sessions(400, seed=5) if s.metadata["planted_failure"] == "tool_failure"
    )
    fix = should_have_said(broken, "tool_failure")
    assert fix is not None and "couldn't get an answer" in fix


def test_the_demo_batch_is_stratified_assigned_and_has_gold(demo: Workspace) -> None:
    batch = get_batch(demo, DEMO_BATCH)
    regular = [i for i in batch.items if not i.is_gold]
    assert len(regular) == 150
    assert batch.spec.stratify_by == ["version"]
    assert sum(len(i.reviewers) == 2 for i in regular) == 30
    assert sum(i.is_gold for i in batch.items) == 6
    load = Counter(r for i in batch.items for r in i.reviewers)
    assert set(load) == {"alice", "bob", "carol"}
    assert max(load.values()) - min(load.values()) <= 1
    with demo.read() as s:
        gold_reviews = s.execute(
            select(ReviewRow.reviewer, ReviewRow.status).where(ReviewRow.role == "gold")
        ).all()
    assert gold_reviews == [("lead", "submitted")] * 6


def test_simulated_reviews_follow_the_planted_failures(demo: Workspace) -> None:
    rubric = default_rubric()
    with demo.read() as s:
        rows = s.execute(
            select(ReviewRow, SessionRow.agent_version)
            .join(SessionRow, SessionRow.id == ReviewRow.session_id)
            .where(ReviewRow.role == "reviewer")
        ).all()
        tags = defaultdict(set)
        for review_id, tag in s.execute(select(ReviewTag.review_id, ReviewTag.tag)):
            tags[review_id].add(tag)
        planted = {
            r.session_id: load_session(s, r.session_id).metadata.get("planted_failure")
            for r, _ in rows
        }
    assert rows and all(r.simulated and r.status == "submitted" for r, _ in rows)
    assert all(r.active_seconds > 0 and r.submitted_at is not None for r, _ in rows)
    failed = [(r, v) for r, v in rows if planted[r.session_id]]
    caught = [r for r, _ in failed if planted[r.session_id] in tags[r.id]]
    assert 0.6 < len(caught) / len(failed) < 1.0, "reviewers miss some planted failures"
    fine = [r for r, _ in rows if not planted[r.session_id]]
    assert sum(bool(tags[r.id]) for r in fine) / len(fine) < 0.1, "few false alarms"
    # corrected responses where the answer was wrong, and the failing step marked
    wrong = [
        r for r in caught if planted[r.session_id] in ("answered_incorrectly", "hallucination")
    ]
    assert wrong and sum(r.corrected_response is not None for r in wrong) / len(wrong) > 0.6
    assert all(r.corrected_response is None for r in fine if not tags[r.id])
    assert sum(r.failure_step is not None for r in caught) / len(caught) > 0.8
    # failure rates differ by agent version as planted (30 % for 1.0, 12 % for 2.0)
    by_version = Counter(v for _, v in rows)
    tagged = Counter(v for r, v in rows if tags[r.id])
    assert tagged["1.0"] / by_version["1.0"] > tagged["2.0"] / by_version["2.0"]
    # reviewers disagree now and then on items they share
    values: dict[int, list[str]] = defaultdict(list)
    for r, _ in rows:
        values[r.session_id].append(str(r.values["quality"]))
    shared = [v for v in values.values() if len(v) == 2]
    assert shared
    agree = sum(a == b for a, b in shared) / len(shared)
    assert 0.3 < agree < 1.0
    assert all(rubric.problems(r.values) == [] for r, _ in rows)


def test_each_reviewer_has_done_the_start_of_their_queue_and_has_some_left(
    demo: Workspace,
) -> None:
    for reviewer in ("alice", "bob", "carol"):
        queue = load_queue(demo, QueueSpec(reviewer, DEMO_BATCH))
        statuses = [queue.statuses.get(i, ItemStatus.TODO) for i in queue.ids]
        done = statuses.count(ItemStatus.SUBMITTED)
        assert 0 < done < len(statuses)
        assert statuses == [ItemStatus.SUBMITTED] * done + [ItemStatus.TODO] * (
            len(statuses) - done
        ), "work goes in queue order"


def test_the_demo_is_the_same_every_time(tmp_path: Path) -> None:
    first = build_demo(tmp_path / "a.sqlite", sessions=300)
    second = build_demo(tmp_path / "b.sqlite", sessions=300)
    items = [[i.model_dump() for i in get_batch(w, DEMO_BATCH).items] for w in (first, second)]
    assert items[0] == items[1]
    with first.read() as s, second.read() as t:
        q = select(ReviewRow.reviewer, ReviewRow.session_id, ReviewRow.values).order_by(
            ReviewRow.reviewer, ReviewRow.session_id
        )
        assert s.execute(q).all() == t.execute(q).all()
    first.close()
    second.close()
