"""`reviewer review`: the workbench on a workspace (or on a review pack, as `pack open`)."""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.cli.common import err, open_ws


@click.command("review")
@click.argument("workspace")
@click.option("--batch", default=None, help="Review this batch's queue.")
@click.option(
    "--reviewer",
    "reviewer_name",
    default=None,
    help="Review as this person (default: the name kept in settings).",
)
@click.pass_context
def review_cmd(
    ctx: click.Context, workspace: str, batch: str | None, reviewer_name: str | None
) -> None:
    """Open the review workbench on WORKSPACE (a file path or database URL).

    A review pack (.reviewpack) given as WORKSPACE opens as `reviewer pack open` opens it.
    """
    from reviewer.services.workspaces import is_sealed_file

    if is_sealed_file(workspace):
        from reviewer.cli.cmd_packs import pack_open_cmd

        if batch or reviewer_name:
            err.print("a review pack holds its own batch and reviewer: --batch/--reviewer ignored")
        ctx.invoke(pack_open_cmd, pack=Path(workspace), no_open=False)
        return
    open_ws(workspace).close()  # clear errors here, before a window opens
    from reviewer.ui.app import run_app

    raise SystemExit(run_app(workspace, batch=batch, reviewer=reviewer_name))
