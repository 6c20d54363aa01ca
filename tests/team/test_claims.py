"""Team mode: concurrent reviewers claim and submit; no item is reviewed more or less often
than the batch's design says; a concurrent edit is never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from reviewer.domain.review import Review, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.claims import ClaimError, claim_next, release, submit
from reviewer.services.workspaces import init_workspace
from reviewer.store.reviews import ConflictError, get_review, review_version, save_review
from reviewer.store.tables import ReviewRow
from reviewer.store.workspace import Workspace, open_workspace
from tests.packs.helpers import BAD, GOOD, key, make_batch
from tests.team.workload import reviews_per_item, run_workers

REVIEWERS = [f"r{i:02d}" for i in range(10)]


def _assigned_design(items: int, reviewers: list[str]) -> dict[str, list[int]]:
    """Every item to one reviewer; every fifth item to the next one too (overlap)."""
    plan: dict[str, list[int]] = {r: [] for r in reviewers}
    k = len(reviewers)
    for i in range(items):
        plan[reviewers[i % k]].append(i)
        if i % 5 == 0:
            plan[reviewers[(i + 1) % k]].append(i)
    return plan


def _review(c_key: str, reviewer: str, rubric: Rubric, values: dict[str, str]) -> Review:
    return Review(
        session_key=c_key,
        batch="b1",
        reviewer=reviewer,
        rubric_name=rubric.name,
        rubric_version=rubric.version,
        values=values,
        status=ReviewStatus.SUBMITTED,
    )


def _check_assigned(ws: Workspace, items: int, workers: list[str], target: str) -> None:
    make_batch(ws, "b1", _assigned_design(items, sorted(set(workers))), items=items)
    outcome = run_workers(target, workers)
    reviews, assigned, most = reviews_per_item(ws)
    assert sum(assigned.values()) == items + items // 5
    assert reviews == assigned  # every item exactly as often as the design says
    assert most == 1  # nobody reviewed an item twice
    assert len(outcome.claimed) == len(set(outcome.claimed)) == sum(assigned.values())


def _check_pool(ws: Workspace, items: int, workers: list[str], target: str) -> None:
    make_batch(ws, "b1", {}, items=items)
    # One reviewer claims a few items and vanishes: their lapsed claims go to others.
    gone = claim_next(ws, "b1", "gone", 7, pool_copies=2, now=datetime.now(UTC) - timedelta(days=1))
    assert len(gone) == 7
    outcome = run_workers(target, workers, pool_copies=2)
    reviews, _, most = reviews_per_item(ws)
    assert len(reviews) == items and set(reviews.values()) == {2}
    assert most == 1
    assert len(outcome.claimed) == len(set(outcome.claimed)) == 2 * items
    with ws.read() as s:
        assert not s.scalars(select(ReviewRow).where(ReviewRow.reviewer == "gone")).all()


@pytest.mark.postgres
def test_20_workers_claim_and_submit_2000_assigned_items_on_postgres(pg_url: str) -> None:
    ws = init_workspace(pg_url)
    _check_assigned(ws, 2000, REVIEWERS * 2, pg_url)  # two app instances per reviewer
    ws.close()


@pytest.mark.postgres
def test_20_workers_share_a_pool_of_1000_items_two_reviews_each_on_postgres(pg_url: str) -> None:
    ws = init_workspace(pg_url)
    _check_pool(ws, 1000, [f"p{i:02d}" for i in range(20)], pg_url)
    ws.close()


def test_concurrent_claims_on_sqlite(workspace: Workspace) -> None:
    assert workspace.path is not None
    _check_assigned(workspace, 300, REVIEWERS[:4] * 2, str(workspace.path))


def test_concurrent_pool_on_sqlite(workspace: Workspace) -> None:
    assert workspace.path is not None
    _check_pool(workspace, 200, [f"p{i}" for i in range(6)], str(workspace.path))


def test_leases_lapse_and_released_items_come_back(workspace: Workspace, rubric: Rubric) -> None:
    make_batch(workspace, "b1", {"ana": range(3)}, items=3)
    t0 = datetime(2026, 10, 1, 9, tzinfo=UTC)
    first = claim_next(workspace, "b1", "ana", 2, now=t0)
    assert [c.position for c in first] == [0, 1]
    assert [c.position for c in claim_next(workspace, "b1", "ana", 5, now=t0)] == [2]
    assert claim_next(workspace, "b1", "ana", 5, now=t0) == []  # all held under lease
    later = claim_next(workspace, "b1", "ana", 5, now=t0 + timedelta(hours=2))
    assert [c.position for c in later] == [0, 1, 2]  # the leases lapsed
    submit(workspace, later[0], _review(key(0), "ana", rubric, GOOD), rubric)
    release(workspace, later[1:])
    again = claim_next(workspace, "b1", "ana", 5)
    assert [c.position for c in again] == [1, 2]  # the submitted item is done


def test_a_lapsed_pool_claim_taken_over_cannot_be_submitted(
    workspace: Workspace, rubric: Rubric
) -> None:
    make_batch(workspace, "b1", {}, items=1)
    old = datetime.now(UTC) - timedelta(days=1)
    [mine] = claim_next(workspace, "b1", "ana", pool_copies=1, now=old)
    [theirs] = claim_next(workspace, "b1", "bob", pool_copies=1)
    assert theirs.item_id == mine.item_id
    with pytest.raises(ClaimError, match="went to another reviewer"):
        submit(workspace, mine, _review(key(0), "ana", rubric, GOOD), rubric)
    submit(workspace, theirs, _review(key(0), "bob", rubric, GOOD), rubric)
    assert claim_next(workspace, "b1", "cy", pool_copies=1) == []


def test_optimistic_locking_reports_both_versions(workspace: Workspace, rubric: Rubric) -> None:
    make_batch(workspace, "b1", {"ana": [0]}, items=1)
    [claim] = claim_next(workspace, "b1", "ana")
    draft = _review(key(0), "ana", rubric, GOOD).model_copy(update={"status": ReviewStatus.DRAFT})
    saved = submit(workspace, claim, draft, rubric)
    # Two windows opened the same review at this version; the first one saves.
    first = submit(
        workspace,
        claim,
        saved.review.model_copy(update={"values": BAD}),
        rubric,
        expected_version=saved.version,
    )
    assert first.version == saved.version + 1
    late = saved.review.model_copy(update={"values": {**GOOD, "quality": "1"}})
    with pytest.raises(ConflictError, match="changed elsewhere") as err:
        submit(workspace, claim, late, rubric, expected_version=saved.version)
    assert err.value.stored is not None and err.value.stored.values == BAD
    assert err.value.attempted.values["quality"] == "1"
    with workspace.read() as s:
        stored = get_review(s, saved.review.uid)
        assert stored is not None and stored.values == BAD  # nothing overwritten
    # Repeating a save that landed is not a conflict (retries are safe).
    again = submit(workspace, claim, first.review, rubric, expected_version=saved.version)
    assert again.version == first.version


@pytest.mark.postgres
def test_a_concurrent_commit_between_read_and_write_is_a_conflict(
    pg_url: str, rubric: Rubric
) -> None:
    ws = init_workspace(pg_url)
    make_batch(ws, "b1", {"ana": [0]}, items=1)
    review = _review(key(0), "ana", rubric, GOOD)
    with ws.write() as s:
        save_review(s, review, rubric)
    other = open_workspace(pg_url)
    with pytest.raises(ConflictError) as err, ws.write() as s:
        # This transaction reads the review (version 1)…
        row = s.scalar(select(ReviewRow).where(ReviewRow.uid == review.uid))
        assert row is not None and row.version_id == 1
        # …another app commits a change to it…
        with other.write() as s2:
            save_review(s2, review.model_copy(update={"values": BAD}), rubric)
        # …and this one's write, made from what it read, must not win silently.
        save_review(s, review.model_copy(update={"values": {**GOOD, "quality": "1"}}), rubric)
    assert err.value.stored is not None and err.value.stored.values == BAD
    assert err.value.stored_version == 2
    with other.read() as s:
        assert review_version(s, review.uid) == 2
    other.close()
    ws.close()
