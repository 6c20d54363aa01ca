"""The same workspace code on PostgreSQL (team mode), where a server is reachable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from reviewer.services import browse
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace, open_existing
from tests.helpers.factories import make_session

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on the local server, dropped afterwards."""
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    name = f"reviewer_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"no PostgreSQL server reachable at 127.0.0.1:5432 ({type(exc).__name__})")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
