from __future__ import annotations

from pathlib import Path

from reviewer.services import browse
from reviewer.services.demo import build_demo
from reviewer.store.workspace import set_meta


def test_demo_builds_once_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    ws = build_demo(path, sessions=40)
    assert browse.count_sessions(ws) == 40
    ws.close()
    again = build_demo(path, sessions=40)
    assert browse.count_sessions(again) == 40
    again.close()


def test_an_interrupted_demo_build_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    ws = build_demo(path, sessions=30)
    set_meta(ws, "demo_complete", "no")
    ws.close()
    rebuilt = build_demo(path, sessions=30)
    assert rebuilt.meta("demo_complete") == "yes"
    assert browse.count_sessions(rebuilt) == 30
    rebuilt.close()


def test_demo_has_a_batch_mostly_reviewed_by_three_simulated_reviewers(tmp_path: Path) -> None:
    from collections import Counter

    from sqlalchemy import select

    from reviewer.services.batches import get_batch
    from reviewer.services.reviewing import ItemStatus, QueueSpec, load_queue
    from reviewer.store.tables import ReviewRow, ReviewTag, SessionRow

    ws = build_demo(tmp_path / "demo.sqlite", sessions=400)
    batch = get_batch(ws, "demo-batch")
    assert len([i for i in batch.items if not i.is_gold]) == 100
    assert sum(i.is_gold for i in batch.items) == 6
    with ws.read() as s:
        rows = s.execute(
            select(ReviewRow.reviewer, ReviewRow.simulated, ReviewRow.role).where(
                ReviewRow.batch_id.is_not(None)
            )
        ).all()
        tagged = s.execute(
            select(SessionRow.agent_version, ReviewRow.id)
            .join(ReviewRow, ReviewRow.session_id == SessionRow.id)
            .where(ReviewRow.id.in_(select(ReviewTag.review_id)), ReviewRow.role == "reviewer")
        ).all()
        all_reviews = Counter(
            v
            for (v,) in s.execute(
                select(SessionRow.agent_version)
                .join(ReviewRow, ReviewRow.session_id == SessionRow.id)
                .where(ReviewRow.role == "reviewer")
            )
        )
    assert {r for r, _, _ in rows} == {"alice", "bob", "carol"}
    assert all(sim for _, sim, _ in rows)
    failures = Counter(v for v, _ in tagged)
    assert failures["1.0"] / all_reviews["1.0"] > failures["2.0"] / all_reviews["2.0"]
    for reviewer in ("alice", "bob", "carol"):
        queue = load_queue(ws, QueueSpec(reviewer, "demo-batch"))
        counts = queue.counts()
        assert counts[ItemStatus.SUBMITTED] > 0 and counts[ItemStatus.TODO] > 0
    ws.close()


def test_demo_has_a_simulated_pairwise_batch_with_win_rates(tmp_path: Path) -> None:
    from reviewer.services.analytics.pairwise import pairwise
    from reviewer.services.batches import get_batch

    ws = build_demo(tmp_path / "demo.sqlite", sessions=400)
    batch = get_batch(ws, "demo-pairs")
    assert batch.spec.pairs is not None and len(batch.items) >= 10
    figures = pairwise(ws, "demo-pairs")
    assert figures is not None
    (c,) = figures.comparisons
    assert (c.a, c.b) == ("1.0", "2.0") and c.reviews > 0
    assert c.ci_low is not None and c.ci_low <= c.win_rate <= (c.ci_high or 1)
    assert figures.agreement.items > 0
    ws.close()
