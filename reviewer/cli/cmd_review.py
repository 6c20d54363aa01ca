"""`reviewer review`: the workbench on a workspace."""

from __future__ import annotations

import click

from reviewer.cli.common import open_ws


@click.command("review")
@click.argument("workspace")
@click.option("--batch", default=None, help="Review this batch's queue.")
@click.option(
    "--reviewer",
    "reviewer_name",
    default=None,
    help="Review as this person (default: the name kept in settings).",
)
def review_cmd(workspace: str, batch: str | None, reviewer_name: str | None) -> None:
    """Open the review workbench on WORKSPACE (a file path or database URL)."""
    open_ws(workspace).close()  # clear errors here, before a window opens
    from reviewer.ui.app import run_app

    raise SystemExit(run_app(workspace, batch=batch, reviewer=reviewer_name))
