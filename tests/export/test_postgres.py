"""The same export from PostgreSQL (team mode) as from SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reviewer.export.options import ExportOptions
from reviewer.services.exporting import export
from reviewer.services.workspaces import init_workspace
from tests.export.conftest import build, lines
from tests.store.test_postgres import pg_url as pg_url  # the fixture, for this module


def _without_uids(row: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in row.items() if k != "review_uid"}
    if "reviews" in row:
        row["reviews"] = [_without_uids(r) for r in row["reviews"]]
    return row


@pytest.mark.postgres
def test_postgres_exports_the_same_rows_and_lines(pg_url: str, tmp_path: Path) -> None:
    outputs: list[dict[str, Any]] = []
    for name, target in (("lite", str(tmp_path / "lite.sqlite")), ("pg", pg_url)):
        ws = init_workspace(target)
        build(ws)
        got: dict[str, Any] = {}
        for fmt, level in (("jsonl", "review"), ("jsonl", "session"), ("openai-sft", "review")):
            path = tmp_path / f"{name}-{fmt}-{level}.jsonl"
            export(ws, ExportOptions(format=fmt, level=level, status="all"), path)
            got[f"{fmt}-{level}"] = [_without_uids(r) for r in lines(path)]
        for fmt in ("csv", "parquet"):
            manifest = export(ws, ExportOptions(format=fmt), tmp_path / f"{name}.{fmt}")
            got[fmt] = manifest.counts.rows
        ws.close()
        outputs.append(got)
    assert outputs[0] == outputs[1]
