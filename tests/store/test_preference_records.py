"""Preferences are read with every field where ``PairRecord`` names it: a column put under
the wrong name (left for right, one time for another) fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from reviewer.domain.batch import SamplingSpec
from reviewer.domain.pair_record import PairRecord
from reviewer.domain.preference import Preference, Winner
from reviewer.services.pairwise import create_pair_batch, pair_spec
from reviewer.services.preferences import save_preference
from reviewer.services.workspaces import init_workspace
from reviewer.store.preference_records import preference_records
from reviewer.store.tables import BatchItemRow, BatchRow, PreferenceReviewRow, SessionRow
from reviewer.store.workspace import Workspace
from tests.pairwise.helpers import fill_trials


def _reviewed(tmp_path: Path) -> Workspace:
    ws = init_workspace(tmp_path / "pairs.sqlite")
    fill_trials(ws, tasks=3)
    spec = SamplingSpec(size=3, seed=2, pairs=pair_spec("metadata.task_id", "version=1.0,2.0"))
    create_pair_batch(ws, "cmp", spec)
    for pos in range(3):
        save_preference(
            ws,
            Preference(
                batch="cmp",
                position=pos,
                reviewer=f"r{pos}",
                winner=Winner.RIGHT,
                dimensions={"quality": Winner.LEFT},
                rationale=f"because {pos}",
                active_seconds=10.5 + pos,
            ),
            submit=True,
        )
    with ws.write() as s:  # every number its own: a swap shows
        right_ids = s.scalars(select(BatchItemRow.pair_session_id)).all()
        s.execute(update(SessionRow).where(SessionRow.id.in_(right_ids)).values(revision=7))
        s.execute(update(BatchItemRow).values(position=BatchItemRow.position + 40))
    return ws


def _expected(ws: Workspace, uid: str) -> dict[str, Any]:
    with ws.read() as s:
        p = s.scalars(select(PreferenceReviewRow).where(PreferenceReviewRow.uid == uid)).one()
        item = s.get(BatchItemRow, p.item_id)
        assert item is not None and item.pair_session_id is not None
        batch = s.get(BatchRow, item.batch_id)
        left, right = s.get(SessionRow, item.session_id), s.get(SessionRow, item.pair_session_id)
        assert batch is not None and left is not None and right is not None
        pairs = batch.spec["pairs"]
        return {
            "batch": batch.name,
            "position": item.position,
            "task_key": item.pair_key,
            "field": pairs["field"],
            "a": pairs["a"],
            "b": pairs["b"],
            "left_is": item.pair_left,
            "left_session": left.session_key,
            "left_revision": left.revision,
            "left_id": left.id,
            "right_session": right.session_key,
            "right_revision": right.revision,
            "right_id": right.id,
            "winner": p.winner,
            "dimensions": p.dimensions,
            "rationale": p.rationale,
            "reviewer": p.reviewer,
            "uid": p.uid,
            "status": p.status,
            "submitted_at": p.submitted_at,
            "active_seconds": p.active_seconds,
            "simulated": p.simulated,
        }


def test_each_preference_field_is_read_under_its_name(tmp_path: Path) -> None:
    ws = _reviewed(tmp_path)
    try:
        records, rubrics = preference_records(ws, submitted_only=True, batch="cmp", spec=None)
        assert len(records) == 3 and len(rubrics) == 1
        for r in records:
            assert isinstance(r, PairRecord)
            assert vars(r) == _expected(ws, r.uid)
            assert r.left_revision == 1 and r.right_revision == 7 and r.position >= 40
    finally:
        ws.close()
