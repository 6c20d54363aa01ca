from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cli import main

SUBCOMMANDS = [
    "init",
    "import",
    "sample",
    "batch",
    "review",
    "stats",
    "report",
    "export",
    "pack",
    "merge",
    "demo",
    "generate",
]


def test_help_lists_every_subcommand() -> None:
    out = CliRunner().invoke(main, ["--help"]).output
    for name in SUBCOMMANDS:
        assert f"  {name} " in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_its_own_help(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    assert f"Usage: main {name}" in result.output or f"Usage: reviewer {name}" in result.output


def test_unavailable_commands_say_so_and_exit_2() -> None:
    available = {"init", "review", "demo", "generate"}
    for name in SUBCOMMANDS:
        if name in available:
            continue
        result = CliRunner().invoke(main, [name, "x"])
        if "not available yet" in result.output:
            assert result.exit_code == 2
            assert len(result.output.strip().splitlines()) == 1


def test_generate_writes_the_same_sessions_for_the_same_seed(tmp_path: Path) -> None:
    runs = []
    for name in ("a.jsonl", "b.jsonl"):
        out = tmp_path / name
        args = ["generate", "--sessions", "12", "--seed", "5", "--out", str(out)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert "wrote 12 sessions" in result.output
        runs.append(out.read_bytes())
    assert runs[0] == runs[1]
    lines = runs[0].splitlines()
    assert len(lines) == 12 and all(line.startswith(b'{"schema_version":1') for line in lines)
    other = tmp_path / "c.jsonl"
    CliRunner().invoke(main, ["generate", "--sessions", "12", "--seed", "6", "--out", str(other)])
    assert other.read_bytes() != runs[0]


def test_init_creates_a_workspace(tmp_path: Path) -> None:
    target = tmp_path / "w.sqlite"
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists()
    again = CliRunner().invoke(main, ["init", str(target)])
    assert again.exit_code == 2
    assert "already exists" in again.output


HEAVY = ("PySide6", "sqlalchemy", "alembic", "pandas", "pyarrow")


def _heavy_modules_loaded(code: str) -> list[str]:
    probe = f"{code}\nimport sys; print(sorted({{m.split('.')[0] for m in sys.modules}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip().splitlines()[-1]
    return [name for name in HEAVY if repr(name) in loaded]


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _heavy_modules_loaded("import reviewer.cli") == []


def test_help_and_version_load_no_heavy_library() -> None:
    for flag in ("--help", "--version"):
        code = (
            "from reviewer.cli import main\n"
            f"try:\n    main([{flag!r}], prog_name='reviewer')\nexcept SystemExit:\n    pass"
        )
        assert _heavy_modules_loaded(code) == [], flag


def test_help_lists_every_command_with_its_help_line() -> None:
    import importlib

    from reviewer.cli import COMMANDS

    shown = CliRunner().invoke(main, ["--help"], terminal_width=200).output
    for name, target in COMMANDS.items():
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        line = command.get_short_help_str(200 - 6 - len(max(COMMANDS, key=len)))
        assert line and f"{name}  " in shown and line in shown, name
    assert "Run SQLite's integrity_check and foreign_key_check on WORKSPACE" in shown


def test_an_error_naming_a_file_shows_its_name_as_typed(tmp_path: Path) -> None:
    """Names in error lines are plain text: markup in a file name is neither styled nor escaped."""
    pack = tmp_path / "[bold]alice[red].pack"
    pack.write_bytes(b"not a pack")
    result = CliRunner().invoke(main, ["pack", "open", str(pack), "--no-open"])
    assert result.exit_code != 0
    assert "[bold]alice[red].pack" in result.output
    assert "\\[" not in result.output
