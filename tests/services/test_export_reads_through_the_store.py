"""Exports are use cases: their SQL lives in the store (``store.review_records``,
``store.preference_records``, ``store.filters``), and stored content is decompressed only
by ``store.content``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import reviewer

ROOT = Path(reviewer.__file__).parent
EXPORT_SERVICES = ("exporting", "pair_export", "filters", "backups")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("name", EXPORT_SERVICES)
def test_export_services_hold_no_sql(name: str) -> None:
    bad = [
        n
        for n in _imports(ROOT / "services" / f"{name}.py")
        if n.split(".")[0] == "sqlalchemy" or n == "reviewer.store.tables"
    ]
    assert bad == []


def test_record_streaming_is_in_the_store() -> None:
    assert not (ROOT / "services" / "record_lines.py").exists()


@pytest.mark.parametrize("name", EXPORT_SERVICES)
def test_export_services_leave_decompressing_content_to_the_store(name: str) -> None:
    assert "zlib" not in (ROOT / "services" / f"{name}.py").read_text(encoding="utf-8")
