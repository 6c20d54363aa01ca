"""The counts of the sessions a batch draws from, kept on write (revision 0011): whatever
changes sessions or reviews, they equal a count over the sessions, on SQLite and PostgreSQL,
and an older workspace gets them on upgrade."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from reviewer.domain.batch import SamplingSpec
from reviewer.domain.review import ReviewStatus
from reviewer.resources import default_rubric
from reviewer.services.batches import _draw_by_position, create_batch
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store import migrate
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session
from tests.helpers.workspaces import BOTH, downgrade, postgres_url, sqlite_or_postgres
from tests.services.analytics_helpers import label

KEY = "agent_name, agent_version, model, has_tool_error, escalated"


@pytest.fixture(params=BOTH)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from sqlite_or_postgres(request, tmp_path)


def _recount(ws: Workspace) -> dict[tuple[Any, ...], tuple[int, int]]:
    """(latest, reviewed) per id range and stratum, counted over the sessions."""
    with ws.read() as s:
        rows = s.execute(
            text(
                f"SELECT s.id / 256, {KEY.replace(', ', ', s.')}, count(*), sum(CASE WHEN EXISTS"
                " (SELECT 1 FROM reviews r WHERE r.session_id = s.id AND r.status = 'submitted')"
                f" THEN 1 ELSE 0 END) FROM sessions s WHERE s.is_latest GROUP BY 1, {KEY}"
            )
        ).all()
    return {tuple(r[:6]): (int(r[6]), int(r[7])) for r in rows}


def _kept(ws: Workspace) -> dict[tuple[Any, ...], tuple[int, int]]:
    with ws.read() as s:
        rows = s.execute(
            text(
                f"SELECT block, {KEY}, sum(latest), sum(reviewed) FROM population_counts"
                f" GROUP BY block, {KEY}"
            )
        ).all()
    return {tuple(r[:6]): (int(r[6]), int(r[7])) for r in rows if (r[6], r[7]) != (0, 0)}


def _save(ws: Workspace, key: str, who: str, status: ReviewStatus) -> None:
    label(ws, default_rubric(), key, who, status=status.value)


def _sessions(prefix: str, n: int, **extra: Any) -> list[Any]:
    return [
        make_session(
            f"{prefix}-{i:04d}",
            version=("1.0", "2.0", "2.1")[i % 3],
            tool_error=i % 4 == 0,
            **extra,
        )
        for i in range(n)
    ]


def test_the_counts_follow_every_change_of_sessions_and_reviews(target: str) -> None:
    ws = init_workspace(target)
    store_sessions(ws, _sessions("a", 600))  # over two id ranges of 256
    assert _kept(ws) == _recount(ws) != {}
    _save(ws, "a-0001", "x", ReviewStatus.DRAFT)  # a draft leaves it drawable
    _save(ws, "a-0002", "x", ReviewStatus.SUBMITTED)
    _save(ws, "a-0002", "y", ReviewStatus.SUBMITTED)  # a second review of a reviewed one
    with ws.write() as s:  # the draft submitted
        s.execute(text("UPDATE reviews SET status = 'submitted' WHERE status = 'draft'"))
    _save(ws, "a-0300", "x", ReviewStatus.SKIPPED)
    assert _kept(ws) == _recount(ws)
    assert sum(r for _, r in _kept(ws).values()) == 2
    # new revisions: the old ones leave the population, reviewed or not
    store_sessions(ws, [make_session(f"a-{i:04d}", text="changed") for i in (1, 5, 599)])
    assert _kept(ws) == _recount(ws)
    with ws.write() as s:  # a review taken back, one deleted, one moved to another session
        s.execute(text("UPDATE reviews SET status = 'draft' WHERE reviewer = 'y'"))
        s.execute(text("DELETE FROM reviews WHERE reviewer = 'x' AND status = 'skipped'"))
        s.execute(
            text(
                "UPDATE reviews SET status = 'submitted', session_id = (SELECT id FROM sessions"
                " WHERE session_key = 'a-0010') WHERE reviewer = 'y'"
            )
        )
    assert _kept(ws) == _recount(ws)
    with ws.write() as s:  # a session's stratum corrected in place
        s.execute(text("UPDATE sessions SET agent_version = '9.9', escalated = true WHERE id < 40"))
    assert _kept(ws) == _recount(ws)
    ws.close()


SPECS = [
    SamplingSpec(size=20, seed=3, stratify_by=["version", "tool_error"]),
    SamplingSpec(size=50, seed=4, stratify_by=["version"], include_reviewed=True),
]


def _draws(ws: Workspace) -> list[Any]:
    return [_draw_by_position(ws, spec) for spec in SPECS]


def _fill(ws: Workspace) -> None:
    store_sessions(ws, _sessions("b", 300))
    for i in range(0, 300, 7):
        _save(ws, f"b-{i:04d}", "x", ReviewStatus.SUBMITTED)


def test_an_older_workspace_upgrades_with_the_counts_filled_in(target: str) -> None:
    ws = init_workspace(target)
    _fill(ws)
    before = _draws(ws)
    assert all(d is not None for d in before)
    downgrade(ws, "0010")
    # written by the older app: nothing counts these
    store_sessions(ws, _sessions("c", 100))
    _save(ws, "c-0003", "x", ReviewStatus.SUBMITTED)
    ws.close()

    ws = open_existing(target)
    assert migrate.current_revision(ws) == migrate.head_revision()
    assert _kept(ws) == _recount(ws)
    assert sum(latest for latest, _ in _kept(ws).values()) == 400
    # the draw from the counts is the draw from the whole population
    spec = SPECS[0]
    from reviewer.domain.sampling import draw
    from reviewer.services.batches import population

    units = population(ws, spec)
    drawn = _draw_by_position(ws, spec)
    assert drawn is not None
    assert drawn[0] == draw(units, spec.size, seed=spec.seed, stratified=True)
    # and the counts keep following
    _save(ws, "c-0004", "x", ReviewStatus.SUBMITTED)
    assert _kept(ws) == _recount(ws)
    create_batch(ws, "after", spec)
    ws.close()


@pytest.mark.postgres
def test_reviewers_submitting_at_once_are_all_counted_once() -> None:
    # eight reviewers at once, every one over the same 40 sessions (one id range, three
    # strata): each session's first submitted review counts it, whichever commits first
    from concurrent.futures import ThreadPoolExecutor

    with postgres_url() as url:
        ws = init_workspace(url)
        store_sessions(ws, _sessions("d", 40))

        def reviewer(who: str) -> None:
            for i in range(40):
                _save(ws, f"d-{i:04d}", who, ReviewStatus.SUBMITTED)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(reviewer, [f"r{k}" for k in range(8)]))
        assert _kept(ws) == _recount(ws)
        assert sum(r for _, r in _kept(ws).values()) == 40
        ws.close()
