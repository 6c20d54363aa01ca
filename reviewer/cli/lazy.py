"""A click group that imports a subcommand's module only when that command runs.

`reviewer --help` lists every command with the first line of its docstring, read from the
module's source (no import), so the heavy libraries the commands use (SQLAlchemy, Alembic,
pandas, pyarrow) load only for the command that needs them.
"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import click


@contextmanager
def gc_paused() -> Iterator[None]:
    """Cyclic garbage collection paused (and resumed after, if it ran before): loading
    modules, and a command's one computation, make many objects and next to no cyclic
    garbage, and the collector's passes over them cost ``reviewer stats`` a tenth of its CPU
    time."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


@cache
def _docstrings(module: str) -> dict[str, str] | None:
    """Docstring of each function in MODULE's source, by name (None: no source to read, as in
    a frozen build)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    try:
        with open(spec.origin, encoding="utf-8") as f:
            tree = ast.parse(f.read(), spec.origin)
    except OSError:
        return None
    return {
        node.name: ast.get_docstring(node) or ""
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


class LazyGroup(click.Group):
    """COMMANDS maps a command name to "module:attribute"; the module loads on first use."""

    def __init__(self, *args: object, commands: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_commands = dict(commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module, _, attribute = self.lazy_commands[cmd_name].partition(":")
            with gc_paused():
                command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
                raise TypeError(f"{module}:{attribute} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def command_help_line(self, cmd_name: str, limit: int) -> str:
        """The help line `--help` shows for CMD_NAME, without importing its module."""
        if cmd_name in self.commands:
            return self.commands[cmd_name].get_short_help_str(limit)
        module, _, attribute = self.lazy_commands[cmd_name].partition(":")
        docs = _docstrings(module)
        if docs is None or attribute not in docs:
            return getattr(importlib.import_module(module), attribute).get_short_help_str(limit)
        return click.Command(cmd_name, help=docs[attribute]).get_short_help_str(limit)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self.command_help_line(name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
