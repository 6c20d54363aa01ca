"""Pairwise batches, preferences, figures and exports are the same on PostgreSQL (team mode)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.domain.batch import SamplingSpec
from reviewer.domain.preference import Preference, Winner
from reviewer.export.options import ExportOptions
from reviewer.services.analytics.pairwise import pairwise
from reviewer.services.exporting import export
from reviewer.services.pairwise import create_pair_batch, pair_spec
from reviewer.services.preferences import load_pair_queue, open_pair, save_preference
from reviewer.services.workspaces import init_workspace
from tests.pairwise.helpers import fill_trials
from tests.store.test_postgres import pg_url as pg_url  # the fixture, for this module


@pytest.mark.postgres
def test_a_pairwise_batch_reviewed_on_postgres_matches_sqlite(pg_url: str, tmp_path: Path) -> None:
    spec = SamplingSpec(
        size=8,
        seed=4,
        reviewers=["ann", "ben"],
        overlap=0.5,
        pairs=pair_spec("metadata.task_id", "version=1.0,2.0"),
    )
    results = []
    for n, target in enumerate((str(tmp_path / "lite.sqlite"), pg_url)):
        ws = init_workspace(target)
        fill_trials(ws, tasks=10)
        batch = create_pair_batch(ws, "cmp", spec)
        for reviewer in ("ann", "ben"):
            queue = load_pair_queue(ws, "cmp", reviewer)
            for e in queue.entries:
                item = open_pair(ws, queue, e.position)
                assert item.left.id == batch.items[e.position].session_key
                winner = (Winner.LEFT, Winner.RIGHT, Winner.TIE)[e.position % 3]
                pref = Preference(batch="cmp", position=e.position, reviewer=reviewer,
                                  winner=winner, dimensions={"quality": winner})  # fmt: skip
                save_preference(ws, pref, submit=True)
        figures = pairwise(ws, "cmp")
        out = tmp_path / f"rows-{n}.jsonl"
        manifest = export(ws, ExportOptions(format="jsonl", level="pair"), out)
        dpo = export(ws, ExportOptions(format="trl-pair-dpo"), tmp_path / f"dpo-{n}.jsonl")
        ws.close()
        assert figures is not None
        rows = [
            line.split('"review_uid"')[0] for line in out.read_text(encoding="utf-8").splitlines()
        ]
        results.append((batch.items, figures.model_dump(), rows, manifest.counts, dpo.left_out))
    assert results[0] == results[1]
