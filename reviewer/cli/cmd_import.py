"""`reviewer import`: bring agent sessions from files into a workspace."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.text import Text

from reviewer.cli.common import err, error_line, fail, workspace_job
from reviewer.services.importing import DEFAULT_MAX_RECORD_BYTES, KNOWN_FORMATS


@click.command("import")
@click.argument("workspace")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *KNOWN_FORMATS]),
    default="auto",
    show_default=True,
    help="Input format; auto detects it from the content.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the rejected records here (JSON Lines: file, line, reason; the first 1,000 "
    "in full, then counts by reason).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the summary as one JSON object (schemas/import-summary.schema.json).",
)
@click.option(
    "--max-record-mb",
    type=click.FloatRange(0.001),
    default=DEFAULT_MAX_RECORD_BYTES / 1e6,
    show_default=True,
    help="Records larger than this are rejected unread.",
)
@click.option(
    "--workers",
    type=click.IntRange(0),
    default=None,
    help="Processes that parse JSON Lines records [default: one per CPU up to 3, for files of "
    "32 MB and more; 0: parse in this process].",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read and report (sessions, steps, tool calls, what was not understood) without "
    "writing to the workspace.",
)
def import_cmd(
    workspace: str,
    paths: tuple[Path, ...],
    fmt: str,
    report: Path | None,
    as_json: bool,
    max_record_mb: float,
    workers: int | None,
    dry_run: bool,
) -> None:
    """Import sessions from PATHS (plain or .gz; `-` reads standard input) into WORKSPACE.

    The format is detected from each file's content. Bad records are skipped and reported
    with file, line and reason; the rest goes in. Importing the same file again adds
    nothing; a session whose content changed becomes a new revision.

    Exit status: 0 everything imported, 3 some records rejected, 2 nothing could be read.
    """
    with _stdin_spooled(paths) as (files, spooled):
        _import(workspace, files, fmt, report, as_json, max_record_mb, workers, spooled, dry_run)


@contextmanager
def _stdin_spooled(paths: tuple[Path, ...]) -> Iterator[tuple[list[Path], str | None]]:
    """The paths, with `-` (standard input, at most once) spooled to a temporary file, and
    that file's name (None without `-`)."""
    from reviewer.services.input_files import STDIN, InputError, spool_stdin

    if sum(str(p) == STDIN for p in paths) > 1:
        fail("`-` (standard input) can be given only once")
    if not any(str(p) == STDIN for p in paths):
        yield list(paths), None
        return
    with tempfile.TemporaryDirectory(prefix="reviewer-stdin-") as folder:
        try:
            spooled = spool_stdin(Path(folder))
        except InputError as exc:
            fail(str(exc))
        yield [spooled if str(p) == STDIN else p for p in paths], str(spooled)


def _import(
    workspace: str,
    paths: list[Path],
    fmt: str,
    report: Path | None,
    as_json: bool,
    max_record_mb: float,
    workers: int | None,
    spooled: str | None,
    dry_run: bool,
) -> None:
    from reviewer.services.importing import import_paths

    def named(text: str) -> str:  # standard input is called `-`, not its temporary file
        return text.replace(spooled, "-") if spooled else text

    stopped = "the chunks committed so far are kept; run it again to finish"
    with workspace_job(workspace, "importing", quiet=as_json, stopped=stopped) as (ws, progress):
        summary = import_paths(
            ws,
            paths,
            fmt=fmt,
            progress=progress,
            max_record_bytes=int(max_record_mb * 1e6),
            report=report,
            workers=workers,
            dry_run=dry_run,
        )
    if as_json:
        click.echo(summary.model_dump_json())
    else:
        for f in summary.files:
            if f.error:
                error_line(named(f.error))
            elif dry_run:
                click.echo(f"{named(f.path)} ({f.format}): {f.rejected} rejected")
            else:
                click.echo(
                    f"{named(f.path)} ({f.format}): {f.imported} imported, {f.duplicates} "
                    f"duplicate, {f.revised} revised, {f.rejected} rejected"
                )
            if not f.error:
                click.echo(f"  {f.counts_text()}")
        if dry_run:
            click.echo("dry run: nothing was written to the workspace")
        click.echo(
            f"total: {summary.imported} imported, {summary.duplicates} duplicate, "
            f"{summary.revised} revised, {summary.rejected} rejected"
        )
        if summary.rejected and report is None:
            click.echo("rerun with --report FILE to see the rejected records", err=True)
    if summary.report_problem:
        err.print(Text(f"warning: {summary.report_problem}"), soft_wrap=True)
    raise SystemExit(summary.exit_code)
