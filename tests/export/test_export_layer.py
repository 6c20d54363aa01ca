"""reviewer/export shapes data only: no database, no Qt, no services."""

from __future__ import annotations

import ast
from pathlib import Path

import reviewer

EXPORT = Path(reviewer.__file__).parent / "export"


def test_export_modules_import_no_sql_qt_or_services() -> None:
    banned = ("sqlalchemy", "sqlite3", "PySide6", "reviewer.store", "reviewer.services",
              "reviewer.ui", "reviewer.cli")  # fmt: skip
    for path in EXPORT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad = [n for n in names if n.startswith(banned)]
            assert not bad, f"{path.name} imports {bad}"
