"""The dependency rule: only reviewer/ui imports Qt; domain imports nothing of ours
but domain, and does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import reviewer

ROOT = Path(reviewer.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_ui_imports_qt() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if "ui" not in p.relative_to(ROOT).parts[:1]
        and any(n.startswith("PySide6") for n in _imports(p))
    ]
    assert offenders == []


def test_domain_imports_only_domain_and_no_io() -> None:
    io_modules = {"sqlalchemy", "sqlite3", "pathlib", "os", "shutil", "subprocess", "socket"}
    for p in (ROOT / "domain").rglob("*.py"):
        for name in _imports(p):
            top = name.split(".")[0]
            assert top not in io_modules, f"{p.name} imports {name}"
            if top == "reviewer":
                assert name.startswith("reviewer.domain"), f"{p.name} imports {name}"


def test_ui_and_cli_do_not_touch_sql() -> None:
    for sub in ("ui", "cli"):
        for p in (ROOT / sub).rglob("*.py"):
            bad = [n for n in _imports(p) if n.startswith(("sqlalchemy", "reviewer.store.tables"))]
            assert bad == [], f"{p.relative_to(ROOT)} imports {bad}"


def test_pack_merge_and_preference_use_cases_hold_no_sql_and_no_stored_format() -> None:
    """Packs, merging and preferences are use cases over the store (issue 19): their SQL
    lives in ``store/packs.py`` and ``store/preferences.py``, stored content is read by the
    store."""
    for name in ("packs.py", "merging.py", "preferences.py"):
        names = _imports(ROOT / "services" / name)
        bad = [n for n in names if n.startswith(("sqlalchemy", "reviewer.store.tables", "zlib"))]
        assert bad == [], f"services/{name} imports {bad}"
