"""Open pool batches (drawn for nobody) for the team-mode tests, written as rows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from reviewer.services.importing import store_sessions
from reviewer.store.rubrics import find_rubric
from reviewer.store.tables import BatchItemRow, BatchRow, SessionRow
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session
from tests.packs.helpers import key, make_batch


def make_pool(ws: Workspace, name: str, items: int, *, copies: int | None = None) -> None:
    """A batch of sessions ``s-00000``… whose spec names no reviewers: an open pool."""
    make_batch(ws, name, {}, items=items)
    spec: dict[str, object] = {"size": items, "seed": 0, "reviewers": []}
    if copies is not None:
        spec["pool_copies"] = copies
    with ws.write() as s:
        s.execute(update(BatchRow).where(BatchRow.name == name).values(spec=spec))


def make_pair_pool(ws: Workspace, name: str, pairs: int) -> None:
    """An open pool of ``pairs`` pair items: session ``2i`` on the left, ``2i+1`` right."""
    store_sessions(ws, [make_session(key(i), text=f"question {i // 2}") for i in range(2 * pairs)])
    with ws.write() as s:
        found = find_rubric(s, "default")
        assert found is not None
        batch = BatchRow(
            name=name,
            spec={"size": pairs, "seed": 0, "reviewers": [], "pairs": {"key": "k"}},
            rubric_id=found[0],
            created_at=datetime(2026, 10, 1, tzinfo=UTC),
            population=2 * pairs,
        )
        s.add(batch)
        s.flush()
        ids = dict(s.execute(select(SessionRow.session_key, SessionRow.id)).all())
        for pos in range(pairs):
            s.add(
                BatchItemRow(
                    batch_id=batch.id,
                    session_id=ids[key(2 * pos)],
                    pair_session_id=ids[key(2 * pos + 1)],
                    pair_left="A",
                    pair_key=f"task-{pos}",
                    position=pos,
                    inclusion_probability=1.0,
                )
            )
