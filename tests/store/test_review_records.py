"""The review record is read with every field where ``ReviewRecord`` names it: a column put
in the wrong place (or under the wrong name) fails here, whichever way it is read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select, update

from reviewer.domain.batch import SamplingSpec
from reviewer.domain.filters import parse_where
from reviewer.domain.review_record import RECORD, RECORD_TIMES, ReviewRecord
from reviewer.export.columnar import RECORD_TYPES, review_columns
from reviewer.export.columns import LabelPlan
from reviewer.export.rows import ReviewShaper, iso
from reviewer.resources import default_rubric
from reviewer.services.batches import create_batch
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.store import review_records
from reviewer.store.review_records import Selection, reading
from reviewer.store.tables import BatchRow, ReviewRow, SessionRow
from reviewer.store.workspace import Workspace
from tests.export.conftest import WRONG, add_review, build
from tests.helpers.factories import T0, make_session

EVERYTHING = Selection(submitted_only=False, batch=None, spec=parse_where(""))


@pytest.fixture
def distinct(tmp_path: Path) -> Iterator[Workspace]:
    """The labelled workspace, plus one review whose every field holds a value of its own."""
    ws = init_workspace(tmp_path / "records.sqlite")
    build(ws)
    for text in ("first", "second", "third"):  # revision 3
        store_sessions(ws, [make_session("odd", text=text, version="9.9")])
    create_batch(ws, "week-2", SamplingSpec(size=1, seed=2, reviewers=["olga"]))
    add_review(ws, "odd", "olga", WRONG, minutes=30, failure_step=4, revision=3)
    with ws.write() as s:
        s.execute(
            update(SessionRow)
            .where(SessionRow.session_key == "odd")
            .values(agent_name="odd-agent", model="odd-model", started_at=T0 - timedelta(days=3))
        )
        s.execute(
            update(ReviewRow)
            .where(ReviewRow.reviewer == "olga")
            .values(
                batch_id=s.scalar(select(BatchRow.id).where(BatchRow.name == "week-2")),
                role="gold",
                status="flagged",
                status_reason="odd reason",
                started_at=T0 + timedelta(hours=1),
                submitted_at=T0 + timedelta(hours=2),
                updated_at=T0 + timedelta(hours=3),
                active_seconds=12.25,
                simulated=False,
                origin="pack:odd",
                conflict_of="odd-conflict",
            )
        )
    yield ws
    ws.close()


def _expected(ws: Workspace, uid: str) -> dict[str, Any]:
    """The record of review ``uid`` as the ORM reads it, field by field, by name."""
    with ws.read() as s:
        review = s.scalars(select(ReviewRow).where(ReviewRow.uid == uid)).one()
        session = s.get(SessionRow, review.session_id)
        assert session is not None
        return {
            "uid": review.uid,
            "session_key": session.session_key,
            "revision": session.revision,
            "batch_id": review.batch_id,
            "reviewer": review.reviewer,
            "role": review.role,
            "status": review.status,
            "status_reason": review.status_reason,
            "rubric_id": review.rubric_id,
            "values": review.values,
            "details": review.details,
            "failure_step": review.failure_step,
            "started_at": iso(review.started_at),
            "submitted_at": iso(review.submitted_at),
            "updated_at": iso(review.updated_at),
            "active_seconds": review.active_seconds,
            "simulated": int(review.simulated),
            "origin": review.origin,
            "conflict_of": review.conflict_of,
            "agent_name": session.agent_name,
            "agent_version": session.agent_version,
            "model": session.model,
            "session_started_at": iso(session.started_at),
            "source_format": session.source_format,
            "session_db_id": session.id,
        }


def _as_read(record: tuple[Any, ...]) -> dict[str, Any]:
    got = ReviewRecord._make(record)._asdict()
    for name in ("values", "details"):
        if isinstance(got[name], str | bytes):
            got[name] = orjson.loads(got[name])
    for name in RECORD_TIMES:
        got[name] = iso(got[name])
    got["simulated"] = int(got["simulated"])
    return got


def test_the_odd_review_tells_every_field_apart(distinct: Workspace) -> None:
    with reading(distinct, EVERYTHING) as reviews:
        (odd,) = [
            r for chunk in reviews.records() for r in chunk if r[RECORD.index("reviewer")] == "olga"
        ]
    got = _as_read(odd)
    assert got["revision"] == 3
    values = [v for v in got.values() if not isinstance(v, dict)]
    assert len({repr(v) for v in values}) == len(values), got  # else a swap could go unseen


def test_plain_records_hold_each_field_under_its_name(distinct: Workspace) -> None:
    with reading(distinct, EVERYTHING) as reviews:
        records = [r for chunk in reviews.records(fetch=4) for r in chunk]
    assert len(records) == 10
    for record in records:
        got = _as_read(record)
        assert got == _expected(distinct, got["uid"])


def test_records_read_as_lines_are_the_plain_records(distinct: Workspace) -> None:
    with reading(distinct, EVERYTHING) as reviews:
        plain = [_as_read(r) for chunk in reviews.records() for r in chunk]
        tables = [c.table() for c in reviews.record_lines(RECORD_TYPES, fetch=3)]
    assert tables[0].column_names == list(RECORD)
    lines = [_as_read(tuple(row.values())) for t in tables for row in t.to_pylist()]
    assert lines == plain


def test_labels_match_the_record(distinct: Workspace) -> None:
    columns = review_records.record_columns(sqlite=True)
    assert [c.name for c in columns] == list(RECORD)


def test_review_rows_put_each_record_field_in_its_column(distinct: Workspace) -> None:
    """The shaper (row by row, and column by column) reads the record by name too."""
    with reading(distinct, EVERYTHING) as reviews:
        records = [r for chunk in reviews.records() for r in chunk]
        tables = [c.table() for c in reviews.record_lines(RECORD_TYPES)]
        plan = LabelPlan.from_rubrics({rid: reviews.rubric(rid) for rid in reviews.per_rubric()})
        names = reviews.batch_names()
    shaper = ReviewShaper(plan, iso_times=True, batch_names=names)
    columns = [c.name for c in plan.review_columns()]
    by_columns = [cells for t in tables for cells in _columns(shaper, t)]
    for record, row, column_row in zip(records, shaper.rows(records), by_columns, strict=True):
        want = _expected(distinct, record[RECORD.index("uid")])
        cells = dict(zip(columns, row, strict=True))
        assert cells == dict(zip(columns, column_row, strict=True))
        assert cells["review_uid"] == want["uid"]
        assert cells["session_id"] == want["session_key"]
        assert cells["session_revision"] == want["revision"]
        assert cells["batch"] == names.get(want["batch_id"])
        for same in ("reviewer", "role", "status", "status_reason", "failure_step",
                     "started_at", "submitted_at", "updated_at", "active_seconds", "origin",
                     "conflict_of", "agent_name", "agent_version", "model",
                     "session_started_at", "source_format"):  # fmt: skip
            assert cells[same] == want[same], same
        assert cells["simulated"] is bool(want["simulated"])
        rubric = default_rubric()
        assert (cells["rubric_name"], cells["rubric_version"]) == (rubric.name, rubric.version)
        assert cells["label_quality"] == int(want["values"]["quality"])


def _columns(shaper: ReviewShaper, table: Any) -> list[tuple[Any, ...]]:
    import pyarrow as pa

    from reviewer.export.columnar import Coded

    cells = review_columns(shaper, table)
    lists = [
        [c.cells[i] for i in c.indices.to_pylist()] if isinstance(c, Coded)
        else (c.to_pylist() if isinstance(c, pa.Array | pa.ChunkedArray) else list(c))
        for c in cells
    ]  # fmt: skip
    return list(zip(*lists, strict=True))


def test_a_record_field_missing_from_the_store_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(review_records, "RECORD", (*RECORD, "extra"))
    with pytest.raises(AssertionError, match="extra"):
        review_records.record_columns(sqlite=True)
