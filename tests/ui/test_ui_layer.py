"""The UI's side of the layer contract: it goes through services, never below them."""

from __future__ import annotations

import ast
from pathlib import Path

import reviewer

UI = Path(reviewer.__file__).parent / "ui"
BELOW_SERVICES = ("reviewer.store", "sqlalchemy", "reviewer.export", "reviewer.ingest")


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top, in functions or for type checking."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _below(name: str) -> bool:
    return any(name == top or name.startswith(top + ".") for top in BELOW_SERVICES)


def test_ui_imports_no_store_sql_export_or_ingest() -> None:
    offenders = {
        f"{p.relative_to(UI)}: {name}"
        for p in UI.rglob("*.py")
        for name in _imports(p)
        if _below(name)
    }
    assert offenders == set()


def test_the_rule_sees_every_way_of_importing(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sqlalchemy.orm\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from reviewer.store.workspace import Workspace\n"
        "def f():\n    from reviewer.export import formats\n"
        "from reviewer.services.workspaces import Workspace\n"
        "import reviewer.exporting_is_not_export\n"
    )
    assert sorted(n for n in _imports(probe) if _below(n)) == [
        "reviewer.export",
        "reviewer.store.workspace",
        "sqlalchemy.orm",
    ]


def test_the_export_dialog_and_the_main_window_do_not_import_each_other() -> None:
    assert "reviewer.ui.export_dialog" in _imports(UI / "main_window.py")
    assert "reviewer.ui.main_window" not in _imports(UI / "export_dialog.py")
