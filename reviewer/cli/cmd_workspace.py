"""`reviewer init`, `reviewer generate` and `reviewer demo`."""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.cli.common import err, fail, progress_bar
from reviewer.services.progress import Cancelled
from reviewer.services.workspaces import WorkspaceError


@click.command("init")
@click.argument("target")
def init_cmd(target: str) -> None:
    """Create a workspace at TARGET: an SQLite file path or a postgresql:// URL.

    The workspace gets the default rubric; import sessions into it with `reviewer import`.
    """
    from reviewer.services.workspaces import init_workspace

    try:
        ws = init_workspace(target)
    except WorkspaceError as exc:
        fail(str(exc))
    click.echo(f"created workspace {ws.display_name}")
    ws.close()


@click.command("generate")
@click.option(
    "--sessions",
    "count",
    type=click.IntRange(1),
    default=1000,
    show_default=True,
    help="How many sessions to write.",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="Random seed; the same seed writes the same bytes.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="JSONL file to write (canonical session format).",
)
def generate_cmd(count: int, seed: int, out: Path) -> None:
    """Write realistic synthetic agent sessions in the canonical JSONL format.

    Sessions have tool calls, several agent versions and models, user feedback, judge
    scores and failures planted at known rates (recorded in each session's metadata as
    ground truth).
    """
    from reviewer.services.demo import write_generated_sessions

    with progress_bar("generating") as progress:
        size = write_generated_sessions(out, count, seed, progress)
    click.echo(f"wrote {count} sessions ({size / 1e6:.1f} MB) to {out}")


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to put the demo workspace (default: the user data folder).",
)
@click.option(
    "--sessions",
    "count",
    type=click.IntRange(1),
    default=2000,
    show_default=True,
    help="How many generated sessions it holds.",
)
@click.option("--rebuild", is_flag=True, help="Build it again even if it exists.")
@click.option("--no-open", is_flag=True, help="Build it, print its path, don't open the app.")
def demo_cmd(out: Path | None, count: int, rebuild: bool, no_open: bool) -> None:
    """Build a demo workspace of generated sessions and open it in the app."""
    from reviewer.services.demo import build_demo, default_demo_path

    path = out or default_demo_path()
    try:
        with progress_bar("building demo workspace") as progress:
            ws = build_demo(path, sessions=count, rebuild=rebuild, progress=progress)
    except (WorkspaceError, Cancelled) as exc:
        fail(str(exc) or "stopped")
    err.print(f"demo workspace: {ws.display_name}")
    ws.close()
    if no_open:
        click.echo(str(path))
        return
    from reviewer.services.demo import DEMO_BATCH
    from reviewer.ui.app import run_app

    # The demo opens as "alice", one of the three demo reviewers, on her part of the batch.
    raise SystemExit(run_app(str(path), batch=DEMO_BATCH, reviewer="alice"))
