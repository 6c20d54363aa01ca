"""Batches, assignments and reviews for pack, merge and team tests, written directly as
rows (the batch sampler is not needed to test packs)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from reviewer.domain.review import Review, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Session
from reviewer.services.importing import store_sessions
from reviewer.services.reviewing import save
from reviewer.store.reviews import get_review
from reviewer.store.rubrics import find_rubric
from reviewer.store.tables import (
    AssignmentRow,
    BatchItemRow,
    BatchRow,
    ReviewRow,
    SessionRow,
)
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session

GOOD = {"quality": "4", "correctness": "correct", "policy": "compliant"}
BAD = {"quality": "2", "correctness": "incorrect", "policy": "compliant"}


def key(i: int) -> str:
    return f"s-{i:05d}"


def make_batch(
    ws: Workspace,
    name: str,
    assignments: Mapping[str, Iterable[int]],
    *,
    items: int,
    blind: bool = False,
    gold: Iterable[int] = (),
    texts: Mapping[int, str] | None = None,
    sessions: Sequence[Session] | None = None,
) -> dict[int, int]:
    """Sessions ``s-00000``… (stored when missing), a batch of the first ``items`` of them,
    and each reviewer assigned the given positions (``sessions`` stores those instead, under
    the same keys). Returns position → batch item id."""
    texts = texts or {}
    if sessions is not None:
        store_sessions(ws, [x.model_copy(update={"id": key(i)}) for i, x in enumerate(sessions)])
    else:
        store_sessions(
            ws, [make_session(key(i), text=texts.get(i, f"question {i}")) for i in range(items)]
        )
    gold = set(gold)
    with ws.write() as s:
        found = find_rubric(s, "default")
        assert found is not None
        batch = BatchRow(
            name=name,
            spec={"size": items, "seed": 0},
            rubric_id=found[0],
            blind=blind,
            created_at=datetime(2026, 10, 1, tzinfo=UTC),
            population=items,
        )
        s.add(batch)
        s.flush()
        ids = dict(
            s.execute(
                select(SessionRow.session_key, SessionRow.id).where(SessionRow.is_latest.is_(True))
            ).all()
        )
        out: dict[int, int] = {}
        for pos in range(items):
            item = BatchItemRow(
                batch_id=batch.id,
                session_id=ids[key(pos)],
                position=pos,
                inclusion_probability=0.5,
                is_gold=pos in gold,
            )
            s.add(item)
            s.flush()
            out[pos] = item.id
        for reviewer, positions in assignments.items():
            for pos in positions:
                s.add(AssignmentRow(item_id=out[pos], reviewer=reviewer))
    return out


def review_item(
    ws: Workspace,
    rubric: Rubric,
    pos: int,
    reviewer: str,
    *,
    batch: str | None = "b1",
    values: Mapping[str, Any] = GOOD,
    status: ReviewStatus = ReviewStatus.SUBMITTED,
    uid: str | None = None,
) -> Review:
    """Save a review of item ``pos`` (a new one, or a change to ``uid``)."""
    if uid is not None:
        with ws.read() as s:
            current = get_review(s, uid)
        assert current is not None
        review = current.model_copy(update={"values": dict(values), "status": status})
    else:
        review = Review(
            session_key=key(pos),
            batch=batch,
            reviewer=reviewer,
            rubric_name=rubric.name,
            rubric_version=rubric.version,
            values=dict(values),
            status=status,
        )
    return save(ws, review, rubric)


def reviews_state(ws: Workspace) -> list[tuple[Any, ...]]:
    """Every review row as comparable tuples (what a merge may change), in uid order."""
    with ws.read() as s:
        rows = s.scalars(select(ReviewRow).order_by(ReviewRow.uid)).all()
        return [
            (
                r.uid,
                r.reviewer,
                r.session_id,
                r.status,
                r.values,
                r.conflict_of,
                r.origin,
                r.version_id,
            )
            for r in rows
        ]


def contents(ws: Workspace) -> list[tuple[Any, ...]]:
    """Reviews by content, whatever their uid: (reviewer, session, status, values, flagged)."""
    with ws.read() as s:
        rows = s.scalars(select(ReviewRow)).all()
        return sorted(
            (
                r.reviewer,
                r.session_id,
                r.status,
                json.dumps(r.values, sort_keys=True),
                r.conflict_of is not None,
            )
            for r in rows
        )
