"""Shared pieces of the `reviewer` command: errors, progress bars, workspace opening."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from rich.console import Console
from rich.text import Text

from reviewer.secrets import mask_secrets
from reviewer.services.progress import Progress
from reviewer.services.workspaces import Workspace, WorkspaceError

err = Console(stderr=True, highlight=False)

EXIT_USAGE = 2


def error_line(message: str, *, bold: bool = False) -> None:
    """Print ``error: message`` to stderr: the message as plain text (names from files and
    servers are never read as markup), passwords masked."""
    label = "[bold red]error:[/] " if bold else "[red]error:[/] "
    err.print(label, Text(mask_secrets(message)), sep="", soft_wrap=True)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one clear line to stderr (passwords masked) and exit with ``code``."""
    error_line(message, bold=True)
    sys.exit(code)


def open_ws(target: str) -> Workspace:
    from reviewer.services.workspaces import open_existing

    try:
        return open_existing(target)
    except WorkspaceError as exc:
        fail(str(exc))


@contextmanager
def progress_bar(description: str, *, quiet: bool = False) -> Iterator[Progress]:
    """A rich progress bar on stderr, wired to a service :class:`Progress`."""
    if quiet or not err.is_terminal:
        yield Progress()
        return
    from rich.progress import (  # only for a terminal: output to a pipe or file needs none
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    with RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int | None, message: str) -> None:
            bar.update(task, completed=done, total=total)

        yield Progress(update)


@contextmanager
def workspace_job(
    workspace: str, description: str, *, quiet: bool, stopped: str
) -> Iterator[tuple[Workspace, Progress]]:
    """The open workspace and a progress bar for one long command (import, pull, push);
    the workspace is closed at the end. Ctrl-C prints ``stopped: {stopped}`` and exits
    with 130: the work commits in chunks, so what was committed stays."""
    ws = open_ws(workspace)
    try:
        with progress_bar(description, quiet=quiet) as progress:
            yield ws, progress
    except KeyboardInterrupt:
        err.print(f"stopped: {stopped}", soft_wrap=True)
        raise SystemExit(130) from None
    finally:
        ws.close()
