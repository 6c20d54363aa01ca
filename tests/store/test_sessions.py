from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from reviewer.domain.session import Metrics
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.store.sessions import latest_id, load_session, sqlite_utc_text
from reviewer.store.tables import (
    SessionContent,
    SessionRow,
    SessionScore,
    SessionTag,
    UTCDateTime,
)
from reviewer.store.workspace import Workspace
from tests.helpers.factories import T0, make_session


def test_storing_twice_adds_nothing(workspace: Workspace) -> None:
    sessions = [make_session(f"s-{i}") for i in range(5)]
    first = store_sessions(workspace, sessions)
    again = store_sessions(workspace, sessions)
    assert (first.imported, first.duplicates) == (5, 0)
    assert (again.imported, again.duplicates, again.revised) == (0, 5, 0)
    with workspace.read() as s:
        assert s.scalar(select(func.count()).select_from(SessionRow)) == 5


def test_changed_content_becomes_a_new_revision(workspace: Workspace) -> None:
    store_sessions(workspace, [make_session("s", text="v1")])
    result = store_sessions(workspace, [make_session("s", text="v2")])
    assert result.revised == 1
    with workspace.read() as s:
        revs = s.execute(
            select(SessionRow.revision, SessionRow.is_latest)
            .where(SessionRow.session_key == "s")
            .order_by(SessionRow.revision)
        ).all()
        assert [tuple(r) for r in revs] == [(1, False), (2, True)]
        pk = latest_id(s, "s")
        assert pk is not None
        assert load_session(s, pk).steps[1].content == "v2"


def test_filter_fields_are_indexed_columns(workspace: Workspace) -> None:
    store_sessions(workspace, [make_session("e", tool_error=True, feedback=-1.0, tags=["billing"])])
    with workspace.read() as s:
        row = s.scalars(select(SessionRow)).one()
        assert (row.step_count, row.tool_call_count, row.has_tool_error) == (5, 1, True)
        assert row.user_feedback == -1.0 and row.agent_version == "1.0"
        assert row.first_user_text == "Where is my order 42?"
        assert s.scalars(select(SessionTag.tag)).all() == ["billing"]


def test_content_round_trips_exactly(workspace: Workspace) -> None:
    original = make_session("rt", text="<b>not html</b> \u202e and emoji 🙂")
    store_sessions(workspace, [original])
    with workspace.read() as s:
        pk = latest_id(s, "rt")
        assert pk is not None
        assert load_session(s, pk) == original


def test_one_id_twice_in_a_chunk_is_a_duplicate_or_a_revision(workspace: Workspace) -> None:
    same = make_session("d", text="one")
    result = store_sessions(
        workspace, [same, same.model_copy(), make_session("d", text="two"), make_session("x")]
    )
    assert (result.imported, result.duplicates, result.revised) == (2, 1, 1)
    with workspace.read() as s:
        pk = latest_id(s, "d")
        assert pk is not None and load_session(s, pk).steps[1].content == "two"


def test_bulk_rows_are_stored_exactly_as_sqlalchemy_stores_them(tmp_path: Path) -> None:
    # Bulk inserts go straight to the driver on SQLite; the stored text of every value
    # (datetimes without microseconds, booleans, NULLs) must be what SQLAlchemy writes.
    session = make_session(
        "t",
        tool_error=True,
        feedback=-1.0,
        tags=["a"],
        ended_at=T0,
        metrics=Metrics(latency_ms=1200, cost_usd=0.25, input_tokens=7),
    )
    session.signals.judge_scores["helpful"] = 1
    session.signals.escalated, session.signals.task_success = False, True
    ours = init_workspace(tmp_path / "ours.sqlite")
    store_sessions(ours, [session])
    theirs = init_workspace(tmp_path / "theirs.sqlite")
    tables = (SessionRow, SessionContent, SessionTag, SessionScore)
    with ours.read() as s:
        rows = {t: [dict(r) for r in s.execute(select(t.__table__)).mappings()] for t in tables}
    with theirs.write() as s:
        for t in tables:
            s.execute(insert(t), rows[t])
    for t in tables:
        name = t.__tablename__
        with (
            closing(sqlite3.connect(tmp_path / "ours.sqlite")) as a,
            closing(sqlite3.connect(tmp_path / "theirs.sqlite")) as b,
        ):
            query = f"SELECT * FROM {name} ORDER BY 1, 2"
            assert a.execute(query).fetchall() == b.execute(query).fetchall(), name
    ours.close()
    theirs.close()


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(timezones=st.timezones() | st.just(UTC)),
)
def test_datetimes_are_written_as_sqlalchemy_writes_them_on_sqlite(moment: datetime) -> None:
    # The bulk insert's one-step datetime text against SQLAlchemy's own two processors.
    dialect = sqlite_dialect()
    theirs = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert theirs is not None
    try:
        expected = theirs(moment)
    except (OverflowError, ValueError):  # out of range once in UTC: both refuse it
        with pytest.raises((OverflowError, ValueError)):
            sqlite_utc_text(moment)
        return
    assert sqlite_utc_text(moment) == expected


def test_a_naive_datetime_is_refused_as_sqlalchemy_refuses_it() -> None:
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_text(datetime(2026, 1, 1))
