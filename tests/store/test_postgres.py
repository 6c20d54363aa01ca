"""The same workspace code on PostgreSQL (team mode), where a server is reachable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reviewer.services import browse
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace, open_existing
from tests.helpers.factories import make_session
from tests.helpers.postgres import temporary_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on the local server, dropped afterwards."""
    with temporary_database() as url:
        if url is None:
            pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
        yield url


@pytest.mark.postgres
def test_workspace_on_postgres_stores_and_lists_sessions(pg_url: str) -> None:
    ws = init_workspace(pg_url)
    result = store_sessions(ws, [make_session(f"pg-{i}") for i in range(5)])
    assert result.imported == 5
    again = store_sessions(ws, [make_session("pg-0", text="changed")])
    assert again.revised == 1
    ws.close()
    ws = open_existing(pg_url)
    assert browse.count_sessions(ws) == 5
    [first] = browse.summaries(ws, browse.session_ids(ws)[:1])
    assert first.started_at is not None and first.started_at.tzinfo is not None
    ws.close()
