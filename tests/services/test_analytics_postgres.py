"""The figures are the same on PostgreSQL (team mode) as on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.resources import default_rubric
from reviewer.services.adjudication import adjudicate, load_case
from reviewer.services.analytics import Selection, StatsQuery, compute_stats, matching_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace
from tests.services.analytics_helpers import batch, label, sessions
from tests.store.test_postgres import pg_url as pg_url  # the fixture, for this module


def _fill(ws: Workspace) -> None:
    rubric = default_rubric()
    sessions(ws, ["1.0", "1.1", "2.0"] * 8, judge=[(i % 10) / 10 for i in range(24)])
    b = batch(ws, "pg", size=18, stratify_by=["version"], allocation="equal",
              reviewers=["ann", "ben", "cy"], overlap=0.5, seed=4)  # fmt: skip
    for n, item in enumerate(b.items):
        for k, who in enumerate(item.reviewers):
            bad = (n + k) % 4 == 0
            label(ws, rubric, item.session_key, who, batch="pg", quality=str(1 + (n + k) % 5),
                  correctness="incorrect" if bad else "correct",
                  tags=["looped"] if bad else [], active=30.0 + 7 * n,
                  status="skipped" if n == 5 and k == 0 else "submitted")  # fmt: skip
    label(ws, rubric, "s-023", "ann", quality="2", tags=["unsafe", "looped"])  # outside any batch
    report = compute_stats(ws, StatsQuery(batch="pg"))
    first = report.agreement.disagreements[0]
    case = load_case(ws, first.batch, first.session_id)
    adjudicate(ws, case, "lead", {**case.proposal(), "correctness": "incorrect"})


@pytest.mark.postgres
def test_the_figures_are_the_same_on_postgres_and_sqlite(pg_url: str, tmp_path: Path) -> None:
    results = []
    for target in (str(tmp_path / "lite.sqlite"), pg_url):
        ws = init_workspace(target)
        _fill(ws)
        figures = []
        for query in (
            StatsQuery(),
            StatsQuery(batch="pg"),
            StatsQuery(batch="pg", where="version=1.0,2.0", baseline="2.0"),
        ):
            report = compute_stats(ws, query)
            figures.append(report.model_dump(mode="json", exclude={"generated_at"}))
        bars = [
            matching_sessions(ws, StatsQuery(batch="pg"), sel)
            for sel in (
                Selection("tag", "looped"),
                Selection("version", "1.1"),
                Selection("reviewer", "ben"),
                Selection("option", "incorrect", "correctness"),
            )
        ]
        results.append((figures, bars))
        ws.close()
    lite, pg = results
    assert lite[0][0]["coverage"]["total"]["assigned"] > 0
    assert lite[0][1]["agreement"]["disagreements_total"] > 0
    assert pg == lite
