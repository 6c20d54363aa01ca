"""One reviewer, one item, one live review: enforced by the database (migration 0003)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from reviewer.domain.review import ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.analytics import StatsQuery, compute_stats
from reviewer.services.importing import store_sessions
from reviewer.services.reviewing import QueueSpec, load_queue, open_item, store
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store import migrate
from reviewer.store.reviews import ConflictError, save_review
from reviewer.store.tables import AuditEntry, ReviewRow
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session
from tests.helpers.postgres import temporary_database
from tests.helpers.workspaces import BOTH, downgrade, sqlite_or_postgres
from tests.services.analytics_helpers import batch


@pytest.fixture(params=BOTH)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from sqlite_or_postgres(request, tmp_path)


def _team(url: str) -> None:
    ws = init_workspace(url)
    store_sessions(ws, [make_session(f"s-{i}") for i in range(3)])
    batch(ws, "b", size=3, reviewers=["ann"], seed=1)
    ws.close()


def _submitted(review_values: dict[str, object], item_review: object) -> object:
    return item_review.model_copy(  # type: ignore[attr-defined]
        update={"values": review_values, "status": ReviewStatus.SUBMITTED}
    )


def _live(ws: Workspace) -> list[tuple[str, str]]:
    with ws.read() as s:
        rows = s.execute(
            select(ReviewRow.reviewer, ReviewRow.status).where(ReviewRow.conflict_of.is_(None))
        )
        return [(r, st) for r, st in rows]


def test_the_same_reviewers_first_save_from_two_apps_keeps_one_review(
    url: str, rubric: Rubric
) -> None:
    """Two apps open the same item (no review yet) and both submit: the second gets a
    conflict showing the first, and *Keep mine* updates that one review."""
    _team(url)
    one, two = open_existing(url), open_existing(url)
    try:
        spec = QueueSpec(reviewer="ann", batch="b")
        q1, q2 = load_queue(one, spec), load_queue(two, spec)
        first = open_item(one, q1, q1.ids[0])
        second = open_item(two, q2, q2.ids[0])
        assert first.is_new and second.is_new
        mine = {"quality": "5", "correctness": "correct", "policy": "compliant"}
        theirs = {"quality": "1", "correctness": "incorrect", "policy": "compliant"}
        store(one, _submitted(mine, first.review), rubric)  # type: ignore[arg-type]
        with pytest.raises(ConflictError) as caught:
            store(two, _submitted(theirs, second.review), rubric)  # type: ignore[arg-type]
        conflict = caught.value
        assert conflict.stored is not None and conflict.stored.values["quality"] == "5"
        assert conflict.attempted.uid == first.review.uid
        assert _live(two) == [("ann", "submitted")]
        # Keep mine: saved over the stored version it was shown
        store(two, conflict.attempted, rubric, expected_version=conflict.stored_version)
        with two.read() as s:
            [row] = s.scalars(select(ReviewRow)).all()
            assert row.values["quality"] == "1"
    finally:
        one.close()
        two.close()


def test_the_database_refuses_a_second_live_review(url: str, rubric: Rubric) -> None:
    """Even a writer that skips the service's check cannot store a second live review."""
    _team(url)
    ws = open_existing(url)
    try:
        q = load_queue(ws, QueueSpec(reviewer="ann", batch="b"))
        item = open_item(ws, q, q.ids[0])
        store(ws, item.review, rubric)
        with ws.read() as s:
            row = s.scalars(select(ReviewRow)).one()
            columns = {
                c: getattr(row, c)
                for c in ("session_id", "batch_id", "reviewer", "role", "rubric_id", "status")
            }
        with pytest.raises(IntegrityError), ws.write() as s:
            s.add(ReviewRow(uid="x" * 32, values={}, updated_at=row.updated_at, **columns))
            s.flush()
        # a version kept aside (conflict_of set) and another batch's review are allowed
        with ws.write() as s:
            s.add(
                ReviewRow(
                    uid="y" * 32, values={}, updated_at=row.updated_at, conflict_of=row.uid,
                    **columns,
                )
            )  # fmt: skip
            s.add(
                ReviewRow(
                    uid="z" * 32, values={}, updated_at=row.updated_at,
                    **{**columns, "batch_id": None},
                )
            )  # fmt: skip
    finally:
        ws.close()


@pytest.mark.postgres
def test_two_connections_racing_to_insert_get_one_review_and_a_conflict(
    rubric: Rubric,
) -> None:
    """Both saves pass the check (neither sees the other's uncommitted review); the unique
    index makes the second wait for the first and then refuse it: a ConflictError."""
    with temporary_database() as pg:
        if pg is None:
            pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
        _team(pg)
        one, two = open_existing(pg), open_existing(pg)
        try:
            spec = QueueSpec(reviewer="ann", batch="b")
            q = load_queue(one, spec)
            a = open_item(one, q, q.ids[0]).review
            b = open_item(two, load_queue(two, spec), q.ids[0]).review
            outcome: list[BaseException | None] = []

            def second() -> None:
                try:
                    store(two, b, rubric)
                    outcome.append(None)
                except BaseException as exc:
                    outcome.append(exc)

            with one.write() as s:
                save_review(s, a, rubric)
                s.flush()  # a's row is inserted, not committed
                racer = threading.Thread(target=second)
                racer.start()
                deadline = time.monotonic() + 10
                with one.engine.connect() as watch:
                    while time.monotonic() < deadline:  # until b waits on a's index entry
                        waiting = watch.execute(
                            text(
                                "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                                " current_database() AND wait_event_type = 'Lock'"
                            )
                        ).scalar()
                        if waiting or outcome:
                            break
                        time.sleep(0.01)
            racer.join(10)
            assert len(outcome) == 1 and isinstance(outcome[0], ConflictError), outcome
            assert outcome[0].stored is not None and outcome[0].stored.uid == a.uid
            assert _live(one) == [("ann", "draft")]
        finally:
            one.close()
            two.close()


def test_an_older_workspace_with_duplicates_upgrades_keeping_them_aside(
    tmp_path: Path, rubric: Rubric
) -> None:
    """A workspace at 0002 holding two live reviews of one item by one reviewer (as two
    racing saves left them): after the upgrade the first stays live and the second is kept
    aside (audited), nothing deleted; the figures count one."""

    path = tmp_path / "old.sqlite"
    _team(str(path))
    ws = open_existing(path)
    q = load_queue(ws, QueueSpec(reviewer="ann", batch="b"))
    first = _submitted({"quality": "5"}, open_item(ws, q, q.ids[0]).review)
    with ws.write() as s:
        save_review(s, first, rubric)  # type: ignore[arg-type]
    downgrade(ws, "0002")
    ws.close()
    # The twin is written as the 0002 schema stands (the ORM knows only the newest one).
    with closing(sqlite3.connect(path)) as con, con:
        columns = [
            r[1]
            for r in con.execute("PRAGMA table_info(reviews)")
            if r[1] not in ("id", "uid", "values")
        ]
        listed = ", ".join(f'"{c}"' for c in columns)
        con.execute(
            f'INSERT INTO reviews (uid, "values", {listed}) '
            f"SELECT 'second', ?, {listed} FROM reviews WHERE uid = ?",
            ('{"quality": "1"}', first.uid),
        )
    with closing(sqlite3.connect(path)) as con:
        live = con.execute("SELECT count(*) FROM reviews WHERE conflict_of IS NULL").fetchone()
        assert live[0] == 2
    ws = open_existing(path)
    try:
        assert migrate.current_revision(ws) == migrate.head_revision()
        with ws.read() as s:
            rows = {r.uid: r for r in s.scalars(select(ReviewRow))}
            assert len(rows) == 2
            assert rows[first.uid].conflict_of is None  # type: ignore[attr-defined]
            assert rows["second"].conflict_of == first.uid  # type: ignore[attr-defined]
            entry = s.scalars(select(AuditEntry).where(AuditEntry.review_uid == "second")).one()
            assert entry.action == "conflict" and entry.after is not None
            assert entry.after["values"] == {"quality": "1"}
        figures = compute_stats(ws, StatsQuery(batch="b"))
        assert figures.coverage.total.submitted == 1
    finally:
        ws.close()


def test_a_lead_adjudicating_again_after_another_lead_updates_their_own_label(
    workspace: Workspace, rubric: Rubric
) -> None:
    from reviewer.services.adjudication import adjudicate, load_case
    from tests.services.analytics_helpers import label

    store_sessions(workspace, [make_session("s-1")])
    batch(workspace, "b", size=1, reviewers=["ann", "bo"], overlap=1.0, seed=1)
    label(workspace, rubric, "s-1", "ann", batch="b", quality="2")
    label(workspace, rubric, "s-1", "bo", batch="b", quality="4")
    with workspace.read() as s:
        session_id = s.scalars(select(ReviewRow.session_id)).first()
    assert session_id is not None
    final = {"quality": "3", "correctness": "correct", "policy": "compliant"}
    adjudicate(workspace, load_case(workspace, "b", session_id), "lea", final)
    adjudicate(workspace, load_case(workspace, "b", session_id), "max", final)
    again = {**final, "quality": "5"}
    adjudicate(workspace, load_case(workspace, "b", session_id), "lea", again)
    with workspace.read() as s:
        finals = {
            r.reviewer: r.values["quality"]
            for r in s.scalars(select(ReviewRow).where(ReviewRow.role == "adjudicator"))
        }
    assert finals == {"lea": "5", "max": "3"}
