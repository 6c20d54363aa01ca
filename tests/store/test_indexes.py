"""The columns the --where filter compares are indexed, in new workspaces and in older ones
once upgraded (migration 0006), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.dialects import sqlite

from reviewer.domain.filters import parse_where
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.filters import apply_filter
from reviewer.store.tables import SessionRow
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session
from tests.helpers.workspaces import downgrade, postgres_url

INDEXED = {
    "tool_calls>3": "ix_sessions_latest_tool_call_count",
    "cost>0.5": "ix_sessions_latest_cost_usd",
    "latency_ms=100..2000": "ix_sessions_latest_latency_ms",
}
NEW_INDEXES = {
    "ix_sessions_record_hash",
    "ix_sessions_latest_tool_call_count",
    "ix_sessions_latest_input_tokens",
    "ix_sessions_latest_output_tokens",
    "ix_sessions_latest_cost_usd",
    "ix_sessions_latest_latency_ms",
}


def _plan(ws: Workspace, where: str) -> str:
    q = apply_filter(select(SessionRow.id), parse_where(where))
    sql = str(q.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with ws.read() as s:
        rows = s.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    return " ".join(str(r[-1]) for r in rows)


def _indexes(ws: Workspace) -> set[str]:
    with ws.engine.connect() as conn:
        return {str(ix["name"]) for ix in inspect(conn).get_indexes("sessions")}


def test_filters_on_numbers_are_served_by_indexes_after_an_upgrade(tmp_path: Path) -> None:
    p = tmp_path / "old.sqlite"
    ws = init_workspace(p)
    store_sessions(ws, [make_session("kept")])
    downgrade(ws, "0002")
    assert not NEW_INDEXES & _indexes(ws)
    ws.close()
    ws = open_existing(p)
    assert _indexes(ws) >= NEW_INDEXES
    for where, index in INDEXED.items():
        assert f"INDEX {index} (is_latest=? AND" in _plan(ws, where), where
    with ws.read() as s:
        assert s.execute(text("SELECT count(*) FROM sessions WHERE cost_usd > -1")).scalar() == 0
    ws.close()


@pytest.mark.postgres
def test_new_postgres_workspaces_have_the_indexes() -> None:
    with postgres_url() as url:
        ws = init_workspace(url)
        try:
            assert _indexes(ws) >= NEW_INDEXES
        finally:
            ws.close()
