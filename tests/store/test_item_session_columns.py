"""Batch items carry their session's agent version and start (revision 0012): copied by the
database whoever stores the item, kept when a session is corrected in place, filled in when
an older workspace upgrades — and the figures read from them are the figures read from the
sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from reviewer.domain.batch import SamplingSpec
from reviewer.resources import default_rubric
from reviewer.services.analytics import StatsQuery, compute_stats
from reviewer.services.batches import create_batch, get_batch
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store import migrate
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session
from tests.helpers.workspaces import BOTH, downgrade, sqlite_or_postgres
from tests.services.analytics_helpers import label


@pytest.fixture(params=BOTH)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from sqlite_or_postgres(request, tmp_path)


START = datetime(2026, 9, 1, 12, tzinfo=UTC)


def _sessions(prefix: str, n: int) -> list[Any]:
    return [
        make_session(f"{prefix}-{i:03d}", version=("1.0", "2.0", None)[i % 3]).model_copy(
            update={"started_at": START + timedelta(days=i % 40, hours=i % 5)}
        )
        for i in range(n)
    ]


def _mismatches(ws: Workspace) -> list[Any]:
    """Items whose copy differs from their session (NULL versions compared as equal)."""
    with ws.read() as s:
        return list(
            s.execute(
                text(
                    "SELECT i.id FROM batch_items i JOIN sessions s ON s.id = i.session_id"
                    " WHERE coalesce(i.agent_version, '-') <> coalesce(s.agent_version, '-')"
                    " OR (i.started_at IS NULL) <> (s.started_at IS NULL)"
                    " OR i.started_at <> s.started_at"
                )
            ).all()
        )


def _count_items(ws: Workspace, where: str = "1 = 1") -> int:
    with ws.read() as s:
        return int(s.execute(text(f"SELECT count(*) FROM batch_items WHERE {where}")).scalar_one())


def _by_hand(ws: Workspace, sql: str) -> None:
    """A change made in SQL, not through the app."""
    with ws.write() as s:
        s.execute(text(sql))


def _review_all(ws: Workspace, batch: str) -> None:
    for k, item in enumerate(get_batch(ws, batch).items):
        for who in item.reviewers:
            quality = str(1 + (k + len(who)) % 5)
            label(ws, default_rubric(), item.session_key, who, batch=batch, quality=quality)


def _stats(ws: Workspace) -> dict[str, Any]:
    report = compute_stats(ws, StatsQuery()).model_dump(mode="json")
    report.pop("generated_at")
    for row in [report["coverage"]["total"], *report["coverage"]["by_batch"]]:
        row.pop("reviews_per_hour", None)  # timing-dependent
    return report


SPEC = SamplingSpec(size=30, seed=5, stratify_by=["version"], reviewers=["ann", "bob"], overlap=0.5)


def test_every_stored_item_carries_its_session_version_and_start(target: str) -> None:
    ws = init_workspace(target)
    store_sessions(ws, _sessions("a", 90))
    create_batch(ws, "b1", SPEC)
    assert _count_items(ws) == 30
    assert _mismatches(ws) == []
    # a session corrected in place (by hand, in SQL): its items follow
    _by_hand(
        ws,
        "UPDATE sessions SET agent_version = '9.9' WHERE id IN"
        " (SELECT session_id FROM batch_items WHERE position < 4)",
    )
    assert _mismatches(ws) == []
    assert _count_items(ws, "agent_version = '9.9'") == 4
    # an item pointed at another session takes that one's
    _by_hand(
        ws,
        "UPDATE batch_items SET session_id = (SELECT max(id) FROM sessions WHERE id NOT IN"
        " (SELECT session_id FROM batch_items)) WHERE position = 5",
    )
    assert _mismatches(ws) == []
    ws.close()


def test_an_older_workspace_upgrades_with_the_copies_filled_in_and_the_same_figures(
    target: str,
) -> None:
    ws = init_workspace(target)
    store_sessions(ws, _sessions("a", 90))
    create_batch(ws, "b1", SPEC)
    _review_all(ws, "b1")
    before = _stats(ws)
    assert before["quality"]["versions"]  # figures per version: what the copies serve
    assert len(before["quality"]["over_time"]) > 1
    downgrade(ws, "0011")
    # an item stored by the older app: nothing copies for it
    create_batch(ws, "b2", SPEC.model_copy(update={"seed": 6}))
    ws.close()

    ws = open_existing(target)
    assert migrate.current_revision(ws) == migrate.head_revision()
    assert _count_items(ws) == 60
    assert _mismatches(ws) == []
    assert _count_items(ws, "started_at IS NULL") == 0
    # b2 has no reviews: the figures of the reviews are those before
    after = _stats(ws)
    assert after["quality"] == before["quality"]
    assert after["agreement"] == before["agreement"]
    ws.close()
