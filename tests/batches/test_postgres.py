"""Filters and batches give the same answers on PostgreSQL (team mode) as on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.domain.batch import SamplingSpec
from reviewer.services.batches import create_batch, plan
from reviewer.services.workspaces import init_workspace
from tests.batches.test_batches import _fill, drawn_by_position_and_in_full
from tests.batches.test_filters import CASES, _keys, _sessions
from tests.store.test_postgres import pg_url as pg_url  # the fixture, for this module


@pytest.mark.postgres
def test_filters_select_the_same_sessions_on_postgres(pg_url: str) -> None:
    ws = init_workspace(pg_url)
    _sessions(ws)
    wrong = [
        (where, keys, _keys(ws, where)) for where, keys in CASES if _keys(ws, where) != list(keys)
    ]
    ws.close()
    assert wrong == []


@pytest.mark.postgres
def test_a_batch_is_the_same_on_postgres_and_sqlite(pg_url: str, tmp_path: Path) -> None:
    spec = SamplingSpec(
        size=30,
        seed=9,
        where="not escalated and model~GPT and judge.helpfulness<0.95",
        stratify_by=["version", "tool_error"],
        priority={"low_judge": 3, "negative_feedback": 2},
        reviewers=["a", "b", "c"],
        overlap=0.2,
    )
    results = []
    for target in (str(tmp_path / "lite.sqlite"), pg_url):
        ws = init_workspace(target)
        _fill(ws)
        batch = create_batch(ws, "same", spec)
        results.append(
            (
                [
                    (i.session_key, i.stratum, round(i.inclusion_probability, 12), i.reviewers)
                    for i in batch.items
                ],
                batch.strata,
                plan(ws, spec, margin=0.05, confidence=0.95, size=30),
            )
        )
        ws.close()
    assert results[0] == results[1]


@pytest.mark.postgres
def test_a_batch_drawn_by_position_is_the_one_drawn_from_the_whole_population_on_postgres(
    pg_url: str,
) -> None:
    ws = init_workspace(pg_url)
    pairs = drawn_by_position_and_in_full(ws)
    ws.close()
    assert [a for a, _ in pairs] == [b for _, b in pairs]
