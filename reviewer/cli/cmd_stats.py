"""`reviewer stats` and `reviewer report`: coverage, quality, agreement and judge figures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.cli.common import fail, open_ws, progress_bar
from reviewer.cli.lazy import gc_paused

if TYPE_CHECKING:
    from reviewer.domain.figures import StatsReport


def _scope_options(fn: click.decorators.FC) -> click.decorators.FC:
    fn = click.option(
        "--by",
        type=click.Choice(["auto", "day", "week", "month"]),
        default="auto",
        show_default=True,
        help="Period of the figures over time (auto: days over three weeks or less, else weeks).",
    )(fn)
    fn = click.option(
        "--baseline",
        default=None,
        help="Agent version the others are compared with (default: the lowest version).",
    )(fn)
    fn = click.option(
        "--where",
        default=None,
        help='Only sessions matching this filter, e.g. "version=2.0 and tool_error"'
        " (grammar in the README).",
    )(fn)
    fn = click.option("--batch", default=None, help="Only this batch (default: every review).")(fn)
    return click.argument("workspace")(fn)


def _compute(
    workspace: str,
    batch: str | None,
    where: str | None,
    baseline: str | None,
    listed: int,
    by: str = "auto",
) -> StatsReport:
    from reviewer.services.analytics import AnalyticsError, StatsQuery, start_reading

    ws = open_ws(workspace)
    try:
        with progress_bar("Computing figures") as progress:
            query = StatsQuery(
                batch=batch, where=where, baseline=baseline, disagreements=listed, by=by
            )
            # the reads run while the figures' modules (pandas) load
            with start_reading(ws, query) as reading, gc_paused():
                from reviewer.services.analytics import compute_stats

                return compute_stats(ws, query, progress, reading)
    except AnalyticsError as exc:
        fail(str(exc))
    finally:
        ws.close()


@click.command("stats")
@_scope_options
@click.option(
    "--disagreements",
    "listed",
    type=click.IntRange(0),
    default=100,
    show_default=True,
    help="How many disagreements to list (all are counted).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (schemas/stats.schema.json)."
)
def stats_cmd(
    workspace: str,
    batch: str | None,
    where: str | None,
    baseline: str | None,
    by: str,
    listed: int,
    as_json: bool,
) -> None:
    """Print review coverage, quality, agreement, gold accuracy and judge agreement.

    Failure rates and mean quality come with 95 % intervals (Wilson for proportions),
    weighted back to the population by 1/inclusion probability when one batch is shown.
    """
    report = _compute(workspace, batch, where, baseline, listed, by)
    if as_json:
        sys.stdout.write(report.model_dump_json() + "\n")
        return
    from reviewer.cli.stats_text import print_report

    print_report(report)


@click.command("report")
@_scope_options
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write (one self-contained file).",
)
def report_cmd(
    workspace: str,
    batch: str | None,
    where: str | None,
    baseline: str | None,
    by: str,
    out: Path,
) -> None:
    """Write a self-contained HTML report (charts and tables) for stakeholders."""
    from reviewer.services.reporting import write_report

    report = _compute(workspace, batch, where, baseline, 50, by)
    try:
        write_report(report, out)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"report written to {out}", err=True)
