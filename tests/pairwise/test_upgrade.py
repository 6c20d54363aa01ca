"""An older workspace with a batch upgrades to pairwise batches (migration 0009)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from reviewer.domain.batch import SamplingSpec
from reviewer.services.batches import create_batch, get_batch
from reviewer.services.pairwise import create_pair_batch, pair_spec
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store import migrate
from tests.pairwise.helpers import fill_trials


def test_a_workspace_from_before_pairs_keeps_its_batch_and_can_draw_pairs(
    tmp_path: Path,
) -> None:
    p = tmp_path / "old.sqlite"
    ws = init_workspace(p)
    fill_trials(ws, tasks=4)
    before = create_batch(ws, "old", SamplingSpec(size=5, seed=1, reviewers=["ann"]))
    with ws.engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")  # to before 0009, whatever came after
    with ws.read() as s:
        cols = [r[1] for r in s.execute(text("PRAGMA table_info(batch_items)"))]
        assert "pair_session_id" not in cols
    ws.close()

    ws = open_existing(p)
    assert migrate.current_revision(ws) == migrate.head_revision()
    after = get_batch(ws, "old")
    assert after.model_dump() == before.model_dump(), [
        (a, b) for a, b in zip(after.items, before.items, strict=True) if a != b
    ]
    pairs = create_pair_batch(
        ws, "new", SamplingSpec(size=3, pairs=pair_spec("metadata.task_id", "version=1.0,2.0"))
    )
    assert all(i.pair is not None for i in pairs.items)
    with ws.read() as s:
        assert s.execute(text("SELECT count(*) FROM preference_reviews")).scalar() == 0
    ws.close()
