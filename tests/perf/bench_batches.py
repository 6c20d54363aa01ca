"""Drawing batches and the New batch preview on a large workspace, against bare SQL reads.

The baseline is what any sampler must at least do: read the id and stratum of every session
that passes the filter with sqlite3, and pick n of them with ``random.sample``.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
from pathlib import Path

from reviewer.domain.batch import SamplingSpec
from reviewer.domain.sampling import assign
from reviewer.services.batches import create_batch, plan
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.synth.generator import generate_sessions
from tests.perf.harness import Figures, benchmark, timed

N = 50_000
WHERE = "started>=2026-10-05 and not escalated and steps=3.."


@benchmark("batches")
def draw_batches() -> Figures:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ws.sqlite"
        ws = init_workspace(path)
        store_sessions(ws, generate_sessions(N, seed=11), total=N)

        con = sqlite3.connect(path)
        with timed() as bare:
            rows = con.execute(
                "SELECT id, agent_version FROM sessions WHERE is_latest = 1"
                " AND started_at >= '2026-10-05' AND NOT coalesce(escalated, 0)"
                " AND step_count >= 3"
            ).fetchall()
            random.Random(0).sample(rows, 200)
        con.close()

        plain = SamplingSpec(size=200, seed=1)
        with timed() as simple:
            create_batch(ws, "simple", plain)
        full = SamplingSpec(
            size=200,
            seed=1,
            where=WHERE,
            stratify_by=["version", "model"],
            priority={"negative_feedback": 4, "low_judge": 2},
            reviewers=["alice", "bob", "carol", "dan"],
            overlap=0.2,
        )
        with timed() as stratified:
            batch = create_batch(ws, "full", full)
        previews = []
        for margin in (0.05, 0.03, 0.1):
            with timed() as t:
                plan(ws, full, margin=margin, confidence=0.95, size=200)
            previews.append(t.seconds)
        with timed() as big_assign:
            assign(list(range(20_000)), [f"r{i}" for i in range(12)], overlap=0.2, seed=3)
        ws.close()
    return {
        "sessions": N,
        "matching_filter": len(rows),
        "baseline_bare_sql_read_and_sample_s": round(bare.seconds, 3),
        "simple_batch_200_s": round(simple.seconds, 3),
        "filtered_stratified_priority_batch_200_s": round(stratified.seconds, 3),
        "ratio_full_batch_to_baseline": round(stratified.seconds / bare.seconds, 1),
        "strata": len(batch.strata),
        "preview_plan_s_max": round(max(previews), 3),
        "assign_20k_items_12_reviewers_s": round(big_assign.seconds, 3),
    }
