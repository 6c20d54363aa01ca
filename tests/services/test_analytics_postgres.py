"""The figures are the same on PostgreSQL (team mode) as on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.resources import default_rubric
from reviewer.services.adjudication import adjudicate, load_case
from reviewer.services.analytics import Selection, StatsQuery, compute_stats, matching_sessions
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session
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


@pytest.mark.parametrize("where", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sessions_without_an_agent_version_are_counted_apart_in_and_outside_batches(
    where: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # version and start come from each item (copied from its session) and, for reviews
    # outside any batch, from the sessions: both kinds count in the "(none)" row
    target = str(tmp_path / "ws.sqlite") if where == "sqlite" else request.getfixturevalue("pg_url")
    ws = init_workspace(target)
    rubric = default_rubric()
    made = [make_session(f"s-{i:03d}", version=None if i % 2 else "1.0") for i in range(12)]
    store_sessions(ws, made)
    b = batch(ws, "mixed", size=8, reviewers=["ann", "bob"], overlap=1.0, seed=2)
    for item in b.items:
        for who in item.reviewers:
            label(ws, rubric, item.session_key, who, batch="mixed")
    outside = sorted({f"s-{i:03d}" for i in range(12)} - {i.session_key for i in b.items})
    label(ws, rubric, outside[0], "cy")
    report = compute_stats(ws, StatsQuery())
    ws.close()
    rows = {r.version: r for r in report.quality.versions}
    assert set(rows) <= {"1.0", "(none)"}
    none_sessions = sum(1 for i in b.items if int(i.session_key[2:]) % 2) + int(
        int(outside[0][2:]) % 2
    )
    assert rows["(none)"].sessions == none_sessions
    assert sum(r.sessions for r in rows.values()) == 9  # eight items and one outside
    assert sum(r.reviews for r in rows.values()) == 17
    assert {r.key for r in report.coverage.by_version} == set(rows) - (
        set() if any(int(i.session_key[2:]) % 2 for i in b.items) else {"(none)"}
    )
    assert report.quality.over_time  # every item has its day
