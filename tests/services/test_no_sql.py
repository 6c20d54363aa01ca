"""Services are use cases: the modules below hold no SQL (their queries live in
``reviewer/store``), and the import workers beside the importers know nothing of the store."""

from __future__ import annotations

import pytest

from tests.test_layers import ROOT, _imports

USE_CASES = [
    "adjudication",
    "audit",
    "batches",
    "browse",
    "conflicts",
    "demo",
    "diagnostics",
    "importing",
    "pairwise",
    "preferences",
    "reviewing",
    "simulate",
    "simulate_pairs",
    "workspaces",
]


@pytest.mark.parametrize("name", USE_CASES)
def test_use_case_imports_no_sql(name: str) -> None:
    path = ROOT / "services" / f"{name}.py"
    assert "zlib" not in _imports(path)  # stored content is read by reviewer.store.content
    bad = [n for n in _imports(path) if n.startswith(("sqlalchemy", "reviewer.store.tables"))]
    assert bad == [], f"services/{name}.py imports {bad}"


def test_ingest_imports_nothing_of_the_store_or_services() -> None:
    for p in (ROOT / "ingest").rglob("*.py"):
        bad = [n for n in _imports(p) if n.startswith(("reviewer.store", "reviewer.services"))]
        assert bad == [], f"{p.relative_to(ROOT)} imports {bad}"
