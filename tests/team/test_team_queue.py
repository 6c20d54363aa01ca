"""Working an open pool from the app (services.team): one item held at a time, never one
another reviewer holds; skipped items go to others, released ones come back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from reviewer.domain.preference import Preference, Winner
from reviewer.domain.review import ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.preferences import save_preference
from reviewer.services.team import TeamQueue
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace, open_workspace
from tests.helpers.postgres import temporary_database
from tests.packs.helpers import make_batch, review_item
from tests.team.pool import make_pair_pool, make_pool


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh workspace's address: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "team.sqlite"
        init_workspace(path).close()
        yield str(path)
        return
    with temporary_database("reviewer_team") as url:
        if url is None:
            pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
        init_workspace(url).close()
        yield url


@pytest.fixture
def two(target: str) -> Iterator[tuple[Workspace, Workspace]]:
    """Two apps' connections to the same workspace."""
    a, b = open_workspace(target), open_workspace(target)
    yield a, b
    a.close()
    b.close()


def _queue(
    ws: Workspace, who: str, lease: timedelta | None = None, *, pairs: bool = False
) -> TeamQueue:
    team = TeamQueue.open(ws, "pool", who, lease=lease or timedelta(minutes=15), pairs=pairs)
    assert team is not None
    return team


def _pos(team: TeamQueue) -> int | None:
    return None if team.held is None else team.held.position


def test_two_reviewers_never_hold_the_same_item_and_finish_the_pool(
    two: tuple[Workspace, Workspace], rubric: Rubric
) -> None:
    a, b = two
    make_pool(a, "pool", 5)
    ana, bob = _queue(a, "ana"), _queue(b, "bob")
    seen: list[tuple[str, int]] = []
    ana.next()
    bob.next()
    while ana.held is not None or bob.held is not None:
        assert ana.held is None or bob.held is None or ana.held.item_id != bob.held.item_id
        for team, ws in ((ana, a), (bob, b)):
            if team.held is not None:
                seen.append((team.reviewer, team.held.position))
                review_item(ws, rubric, team.held.position, team.reviewer, batch="pool")
                team.saved()
    assert sorted(p for _, p in seen) == [0, 1, 2, 3, 4]  # each item once, to one of them
    assert "nothing left to claim" in ana.note() and "nothing left to claim" in bob.note()


def test_a_released_item_comes_back_and_a_skipped_one_goes_to_the_other(
    two: tuple[Workspace, Workspace], rubric: Rubric
) -> None:
    a, b = two
    make_pool(a, "pool", 4)
    ana, bob = _queue(a, "ana"), _queue(b, "bob")
    ana.next()
    assert _pos(ana) == 0
    bob.next()
    assert _pos(bob) == 1
    assert "Item 1 of pool pool held until " in ana.note()
    ana.close()  # the app closes: item 0 is free again
    review_item(b, rubric, 1, "bob", batch="pool")
    bob.saved()
    assert _pos(bob) == 0  # the released item came back, first in batch order
    review_item(b, rubric, 0, "bob", batch="pool", status=ReviewStatus.SKIPPED)
    bob.saved()
    assert _pos(bob) == 2  # skipped: bob does not get item 0 again
    cy = _queue(a, "cy")
    cy.next()
    assert _pos(cy) == 0  # the skipped item went back to the pool


def test_a_lapsed_item_taken_by_another_is_reported_by_name(
    two: tuple[Workspace, Workspace],
) -> None:
    a, b = two
    make_pool(a, "pool", 2)
    ana = _queue(a, "ana", lease=timedelta(seconds=-1))  # ana's computer went to sleep
    ana.next()
    assert _pos(ana) == 0
    bob = _queue(b, "bob")
    bob.next()
    assert _pos(bob) == 0  # the lapsed item passed to bob
    ana.lease = timedelta(minutes=15)
    ana.renew()
    assert ana.lost == "Item 1 was taken by bob"
    assert _pos(ana) == 1  # and ana holds the next one
    assert ana.note().startswith("Item 1 was taken by bob · Item 2 of pool pool held until")
    renewed = ana.renew()
    assert renewed is not None and ana.held is not None
    assert renewed.lease_until >= ana.held.lease_until - timedelta(seconds=1)


def test_pool_copies_hand_each_item_to_that_many_reviewers(
    two: tuple[Workspace, Workspace], rubric: Rubric
) -> None:
    a, b = two
    make_pool(a, "pool", 2, copies=2)
    ana, bob = _queue(a, "ana"), _queue(b, "bob")
    ana.next()
    bob.next()
    assert _pos(ana) == _pos(bob) == 0  # two copies: both may hold item 0
    review_item(a, rubric, 0, "ana", batch="pool")
    ana.saved()
    assert _pos(ana) == 1


def test_an_assigned_batch_is_not_a_pool(workspace: Workspace) -> None:
    make_batch(workspace, "b1", {"ana": [0]}, items=1)
    assert TeamQueue.open(workspace, "b1", "ana") is None
    assert TeamQueue.open(workspace, None, "ana") is None


def test_pair_items_are_claimed_like_single_items(two: tuple[Workspace, Workspace]) -> None:
    a, b = two
    make_pair_pool(a, "pool", 2)
    assert TeamQueue.open(a, "pool", "ana") is None  # the single-item workbench leaves it
    ana, bob = _queue(a, "ana", pairs=True), _queue(b, "bob", pairs=True)
    ana.next()
    bob.next()
    assert ana.held is not None and ana.held.pair
    assert {_pos(ana), _pos(bob)} == {0, 1}
    save_preference(
        a,
        Preference(batch="pool", position=ana.held.position, reviewer="ana", winner=Winner.LEFT),
        submit=True,
    )
    bobs = _pos(bob)
    ana.saved()
    assert ana.held is None  # one pair done, the other held by bob
    bob.close()
    ana.next()
    assert _pos(ana) == bobs  # the pair bob released came back


def test_team_use_cases_hold_no_sql() -> None:
    """Claims' SQL lives in store/claims.py; the use cases import no SQLAlchemy or tables."""
    import ast

    import reviewer.services.claims
    import reviewer.services.team

    for module in (reviewer.services.claims, reviewer.services.team):
        assert module.__file__ is not None
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        bad = sorted(n for n in names if n.startswith(("sqlalchemy", "reviewer.store.tables")))
        assert bad == [], f"{module.__name__} imports {bad}"
