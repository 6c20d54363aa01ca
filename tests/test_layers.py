"""The layer contracts (docs/ARCHITECTURE.md, issue #19), checked on the source's imports.

Every module under ``reviewer/`` belongs to exactly one layer (``LAYERS``); ``ALLOWED`` says
which layers each layer may import, and every pair of layers is checked. ``RESTRICTED`` names
what only some layers may import whatever the table says (Qt, SQL). Today's violations are
listed in ``layer_exceptions.txt`` beside this file, one line per (importing module, forbidden
target); the list can only shrink: an entry no longer needed fails too, so delete it when the
code is fixed.

Imports are read with ``ast`` (imports inside functions and ``TYPE_CHECKING`` blocks count:
a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import reviewer

ROOT = Path(reviewer.__file__).parent

# A module belongs to the layer of the prefix it equals or lies under ("reviewer" itself only
# by equality). A new top-level module or package fails test_every_module_has_one_layer until
# it is placed here and, if it is a new layer, in ALLOWED.
LAYERS: dict[str, tuple[str, ...]] = {
    "domain": ("reviewer.domain",),
    # Small leaf utilities anything but domain may use: the version, the atomic file writer,
    # logging setup and password masking.
    "base": ("reviewer", "reviewer.atomic", "reviewer.logs", "reviewer.secrets"),
    "store": ("reviewer.store",),
    "ingest": ("reviewer.ingest",),
    "export": ("reviewer.export",),
    "render": ("reviewer.render",),
    "packfile": ("reviewer.packfile",),
    "connect": ("reviewer.connect",),
    "synth": ("reviewer.synth",),
    "resources": ("reviewer.resources",),
    "services": ("reviewer.services",),
    "ui": ("reviewer.ui",),
    "cli": ("reviewer.cli", "reviewer.__main__"),
    # `python -m reviewer.schemas`: a developer tool writing schemas/ from the models.
    "tools": ("reviewer.schemas",),
}

_LOWER = {"domain", "base"}
_ADAPTERS = {"store", "ingest", "export", "render", "packfile", "connect", "synth", "resources"}

# Which layers each layer may import (itself included). Everything not listed is forbidden.
ALLOWED: dict[str, set[str]] = {
    "domain": {"domain"},
    "base": {"base"},
    "store": {"store"} | _LOWER,
    "ingest": {"ingest"} | _LOWER,
    "export": {"export"} | _LOWER,
    "render": {"render"} | _LOWER,
    "packfile": {"packfile", "ingest"} | _LOWER,  # pack archives are read by ingest.archive
    "connect": {"connect"} | _LOWER,
    "synth": {"synth"} | _LOWER,
    "resources": {"resources"} | _LOWER,
    "services": {"services"} | _ADAPTERS | _LOWER,
    "ui": {"ui", "services", "render"} | _LOWER,
    "cli": {"cli", "services", "ui"} | _LOWER,  # ui: only reviewer.ui.app, lazily (below)
    "tools": {"tools", "services", "export"} | _LOWER,
}

# Imports only these layers may make, whatever ALLOWED says (prefix -> layers).
RESTRICTED: dict[str, set[str]] = {
    "PySide6": {"ui"},
    "shiboken6": {"ui"},
    "sqlalchemy": {"store"},  # SQL lives in the store only
    "alembic": {"store"},
    "reviewer.store.tables": {"store"},
    # Stored session content is decompressed by store.content only; ingest and packfile read
    # compressed files and archives.
    "zlib": {"store", "ingest", "packfile"},
}

# Standard and third-party modules that do I/O; domain imports none of them.
IO_MODULES = {
    "alembic", "glob", "gzip", "http", "httpx", "importlib.resources", "io", "keyring",
    "logging", "os", "pathlib", "platformdirs", "shutil", "socket", "sqlalchemy", "sqlite3",
    "subprocess", "tarfile", "tempfile", "urllib", "zipfile", "PySide6",
}  # fmt: skip

# Today's violations, one per line: importing module, forbidden target (a layer's prefix or a
# RESTRICTED name), the issue that removes it, why it is still there. Only ever delete lines.
EXCEPTIONS = Path(__file__).with_name("layer_exceptions.txt")


@dataclass(frozen=True)
class Import:
    target: str
    line: int
    in_function: bool
    at_load: bool
    """Run when the module loads: neither in a function nor under ``if TYPE_CHECKING``."""


def _module_name(path: Path) -> str:
    parts = ("reviewer", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(
    node: ast.AST, in_function: bool = False, lazy: bool = False
) -> list[tuple[ast.AST, bool, bool]]:
    """Every node under ``node`` with (inside a function, not run at load time)."""
    found = []
    for child in ast.iter_child_nodes(node):
        inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        found.append((child, inner, lazy or inner))
        if _type_checking(child):
            assert isinstance(child, ast.If)
            for part in child.body:
                found.append((part, inner, True))
                found.extend(_walk(part, inner, True))
            for part in child.orelse:
                found.append((part, inner, lazy or inner))
                found.extend(_walk(part, inner, lazy or inner))
        else:
            found.extend(_walk(child, inner, lazy or inner))
    return found


def _read(path: Path, package: str) -> tuple[Import, ...]:
    found: list[Import] = []
    for node, in_function, lazy in _walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from reviewer.export import shapes` imports reviewer.export.shapes
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        else:
            continue
        found += [Import(n, node.lineno, in_function, not lazy) for n in names]
    return tuple(found)


@cache
def _module_imports(module: str) -> tuple[Import, ...]:
    path = _modules()[module]
    return _read(path, module if path.name == "__init__.py" else module.rpartition(".")[0])


def _imports(path: Path) -> set[str]:
    """Every module the file at ``path`` imports (at the top, in functions, for type
    checking); for narrower checks in other test modules."""
    return {imp.target for imp in _module_imports(_module_name(path))}


def _prefix_of(name: str) -> tuple[str, str] | None:
    """(layer, prefix) of a reviewer module name, None for anything else."""
    hits = [
        (layer, prefix)
        for layer, prefixes in LAYERS.items()
        for prefix in prefixes
        if name == prefix or (prefix != "reviewer" and name.startswith(prefix + "."))
    ]
    return hits[0] if len(hits) == 1 else None


def _layer(module: str) -> str:
    found = _prefix_of(module)
    assert found is not None, module
    return found[0]


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@cache
def _violations() -> dict[tuple[str, str], str]:
    """(importing module, forbidden target) -> where, for every broken rule."""
    broken: dict[tuple[str, str], str] = {}
    for module in _modules():
        placed = _prefix_of(module)
        if placed is None:
            continue  # test_every_module_has_one_layer names it
        layer = placed[0]
        for imp in _module_imports(module):
            where = f"{module}:{imp.line} imports {imp.target}"
            target = _prefix_of(imp.target) if _matches(imp.target, "reviewer") else None
            if target is not None and target[0] not in ALLOWED[layer]:
                broken.setdefault((module, target[1]), where)
            for name, layers in RESTRICTED.items():
                if _matches(imp.target, name) and layer not in layers:
                    broken.setdefault((module, name), where)
    return broken


_ENTRY = re.compile(r"^(?P<module>\S+)\s+(?P<target>\S+)\s+(?P<issue>#\d+)\s+(?P<reason>\S.*)$")


def _exceptions() -> dict[tuple[str, str], str]:
    entries: dict[tuple[str, str], str] = {}
    for line in EXCEPTIONS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENTRY.match(line.strip())
        assert match, f"not 'module target #issue reason': {line!r}"
        key = (match["module"], match["target"])
        assert key not in entries, f"listed twice: {line!r}"
        entries[key] = match["issue"]
    return entries


# ---------------------------------------------------------------------------------------------


def test_every_module_has_one_layer() -> None:
    unplaced = [m for m in _modules() if _prefix_of(m) is None]
    assert unplaced == [], f"place these in LAYERS (tests/test_layers.py): {unplaced}"


def test_the_table_covers_every_layer() -> None:
    assert set(ALLOWED) == set(LAYERS)
    for layer, allowed in ALLOWED.items():
        assert layer in allowed and allowed <= set(LAYERS), layer
    for restricted, layers in RESTRICTED.items():
        assert layers <= set(LAYERS), restricted


def test_lower_layers_never_import_higher_ones() -> None:
    """The table has no cycle between layers: it is a partial order, so "lower" is defined."""
    order: list[str] = []
    pending = {layer: allowed - {layer} for layer, allowed in ALLOWED.items()}
    while pending:
        ready = sorted(layer for layer, needs in pending.items() if needs <= set(order))
        assert ready, f"layers import each other: {sorted(pending)}"
        order += ready
        for layer in ready:
            del pending[layer]
    assert order[-1] in {"cli", "tools"}


@pytest.mark.parametrize("imported", sorted(LAYERS))
@pytest.mark.parametrize("importer", sorted(LAYERS))
def test_layer_pair(importer: str, imported: str) -> None:
    """One test per pair of layers: no import from ``importer`` into ``imported`` unless the
    table allows it or layer_exceptions.txt lists it."""
    if imported in ALLOWED[importer]:
        return
    excepted = _exceptions()
    bad = [
        where
        for (module, target), where in _violations().items()
        if _layer(module) == importer
        and _prefix_of(target) is not None
        and _layer(target) == imported
        and (module, target) not in excepted
    ]
    rule = f"{importer} may not import {imported} (see docs/ARCHITECTURE.md)"
    assert bad == [], rule + ":\n" + "\n".join(bad)


@pytest.mark.parametrize("name", sorted(RESTRICTED))
def test_restricted_imports(name: str) -> None:
    excepted = _exceptions()
    bad = [
        where
        for (module, target), where in _violations().items()
        if target == name and (module, target) not in excepted
    ]
    assert bad == [], f"only {sorted(RESTRICTED[name])} may import {name}:\n" + "\n".join(bad)


def test_exceptions_only_shrink() -> None:
    """Every listed exception is still needed; delete the line once the import is gone."""
    stale = sorted(set(_exceptions()) - set(_violations()))
    assert stale == [], f"no longer needed, delete from {EXCEPTIONS.name}: {stale}"


def test_domain_does_no_io() -> None:
    bad = []
    for module in _modules():
        if not _matches(module, "reviewer.domain"):
            continue
        tree = ast.parse(_modules()[module].read_text(encoding="utf-8"))
        bad += [
            f"{module}:{node.lineno} calls {node.func.id}()"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"open", "print", "input"}
        ]
        bad += [
            f"{module}:{imp.line} imports {imp.target}"
            for imp in _module_imports(module)
            if any(_matches(imp.target, io) for io in IO_MODULES)
        ]
    assert bad == []


def test_cli_opens_the_app_lazily() -> None:
    """`reviewer` commands reach ui only to open the app (reviewer.ui.app), from inside the
    command, so `import reviewer.cli` and the other commands never load Qt."""
    bad = [
        f"{module}:{imp.line} imports {imp.target}"
        for module in _modules()
        if any(_matches(module, prefix) for prefix in LAYERS["cli"])
        for imp in _module_imports(module)
        if _matches(imp.target, "reviewer.ui")
        and not (_matches(imp.target, "reviewer.ui.app") and imp.in_function)
    ]
    assert bad == []


def test_no_import_cycles_at_load_time() -> None:
    """No module imports, while loading, one that (directly or through others) imports it
    back while loading: such modules work only in one import order. Imports in functions or
    under ``if TYPE_CHECKING`` do not count."""
    loads = {
        module: {i.target for i in _module_imports(module) if i.at_load and i.target in _modules()}
        - {module}
        for module in _modules()
    }

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for nxt in loads[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    reached = {module: reach(module) for module in loads}
    cycles = sorted(
        f"{a} -> {b}" for a, targets in loads.items() for b in targets if a in reached[b]
    )
    assert cycles == []


def test_cli_commands_live_in_cli() -> None:
    from reviewer.cli import COMMANDS

    assert all(spec.startswith("reviewer.cli.") for spec in COMMANDS.values())


def test_ui_and_cli_do_not_touch_sql() -> None:
    for sub in ("ui", "cli"):
        for p in (ROOT / sub).rglob("*.py"):
            bad = [n for n in _imports(p) if n.startswith(("sqlalchemy", "reviewer.store.tables"))]
            assert bad == [], f"{p.relative_to(ROOT)} imports {bad}"
