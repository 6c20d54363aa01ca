"""`reviewer pull` and `reviewer push`: sessions from, and labels to, a running tracing
system."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.cli.common import err, error_line, fail, workspace_job

if TYPE_CHECKING:
    from reviewer.services.connecting import HttpClient

SOURCES = ("phoenix", "mlflow", "langfuse", "langsmith")
TARGETS = ("phoenix", "mlflow", "langfuse", "langsmith")
"""As ``services.connecting.PULL_FROM`` / ``PUSH_TO`` (kept here: --help loads nothing)."""


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 time (2026-12-01T00:00)") from None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _client(source: str, url: str, project: str | None, ca_bundle: Path | None) -> HttpClient:
    from reviewer.services.connecting import ConnectorError, client_for

    try:
        return client_for(source, url, project, ca_bundle=str(ca_bundle) if ca_bundle else None)
    except ConnectorError as exc:
        fail(str(exc))


_url = click.option("--url", required=True, help="The system's base URL (http://127.0.0.1:6006).")
_project = click.option(
    "--project", default=None, help="Project name [default: the system's default project]."
)
_ca = click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM file of CA certificates to trust (TLS is always verified).",
)
_json = click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")


@click.command("pull")
@click.argument("source", type=click.Choice(SOURCES))
@click.argument("workspace")
@_url
@_project
@click.option("--since", default=None, help="Only spans that started at or after this time.")
@click.option("--until", default=None, help="Only spans that started before this time.")
@click.option(
    "--where",
    default=None,
    help="Only sessions matching this filter are imported (as sample and export); the others "
    "are counted.",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="At most N new traces.")
@click.option(
    "--sample",
    type=click.FloatRange(0, 1, min_open=True),
    default=None,
    help="Keep this fraction of new traces (the same ones every time for one --seed).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sample.")
@_ca
@_json
def pull_cmd(
    source: str,
    workspace: str,
    url: str,
    project: str | None,
    since: str | None,
    until: str | None,
    where: str | None,
    limit: int | None,
    sample: float | None,
    seed: int,
    ca_bundle: Path | None,
    as_json: bool,
) -> None:
    """Pull new sessions from a running SOURCE (Arize Phoenix, MLflow, Langfuse,
    LangSmith) into WORKSPACE.

    Traces go through the same importer as files (Phoenix: OTLP with OpenInference;
    MLflow: the experiment's traces with their spans (--project: the experiment name);
    Langfuse: trace with observations; LangSmith: the trace's runs), so they look exactly
    as imported ones. Incremental: the workspace remembers, per source, URL and project,
    where the last pull ended; a second pull fetches only what is new, and a trace that
    grew since becomes a new revision (Phoenix: new spans; Langfuse: new traces and
    observations; LangSmith: new runs; MLflow: traces newer than the last one). With
    --where only the sessions the filter lets through are imported (the others are
    counted). A stop (Ctrl-C, a lost connection) keeps the traces committed so far, and the
    next pull goes on from there.

    Keys come from the environment or else the OS keyring (service agentops-reviewer):
    PHOENIX_API_KEY; MLFLOW_TRACKING_TOKEN (or MLFLOW_TRACKING_USERNAME and
    MLFLOW_TRACKING_PASSWORD); LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY;
    LANGSMITH_API_KEY. Proxies come from HTTPS_PROXY / NO_PROXY.

    Exit status: 0 all pulled, 3 some traces rejected or stopped midway, 2 nothing could
    be pulled.
    """
    from reviewer.services.filters import FilterError, parse_where
    from reviewer.services.pulling import pull

    start, end = _when(since), _when(until)
    try:
        parse_where(where)  # a bad filter is told before anything is opened
    except FilterError as exc:
        fail(f"--where: {exc}")
    stopped = "the traces committed so far are kept; pull again to go on"
    with (
        _client(source, url, project, ca_bundle) as client,
        workspace_job(workspace, "pulling", quiet=as_json, stopped=stopped) as (ws, progress),
    ):
        summary = pull(
            ws,
            source,
            client,
            since=start,
            until=end,
            where=where,
            limit=limit,
            sample=sample,
            seed=seed,
            progress=progress,
        )
    if as_json:
        click.echo(summary.model_dump_json())
    else:
        if summary.error:
            error_line(summary.error)
        for r in summary.first_rejects:
            err.print(f"rejected trace {r.line}: {r.reason}", soft_wrap=True, markup=False)
        click.echo(
            f"{summary.url} ({summary.project}): {summary.traces} traces, "
            f"{summary.imported} imported, {summary.duplicates} duplicate, "
            f"{summary.revised} revised, {summary.rejected} rejected"
            + (f", {summary.sampled_out} left out by --sample" if summary.sampled_out else "")
            + (f", {summary.filtered_out} left out by --where" if summary.filtered_out else "")
        )
        if summary.limited:
            click.echo("stopped at --limit: pull again for the rest")
    raise SystemExit(summary.exit_code)


@click.command("push")
@click.argument("workspace")
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, help="The system.")
@_url
@_project
@click.option(
    "--level",
    type=click.Choice(["review", "session"]),
    default="review",
    show_default=True,
    help="review: every reviewer's label; session: the decided (consensus/adjudicated) one.",
)
@click.option("--where", default=None, help="Only sessions matching this filter (as export).")
@click.option("--batch", default=None, help="Only reviews of this review batch.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Labels per request.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be sent; send nothing.")
@click.option("--redact-pii", is_flag=True, help="Mask e-mails, phone numbers... in free text.")
@_ca
@_json
def push_cmd(
    workspace: str,
    target: str,
    url: str,
    project: str | None,
    level: str,
    where: str | None,
    batch: str | None,
    batch_size: int,
    dry_run: bool,
    redact_pii: bool,
    ca_bundle: Path | None,
    as_json: bool,
) -> None:
    """Push submitted reviews of WORKSPACE to a running system as its own human labels
    (Phoenix: span annotations, annotator HUMAN; MLflow: assessments, feedback from a
    HUMAN source and the correction as an expected_response expectation; Langfuse:
    scores; LangSmith: feedback).

    Labels are shaped as the label exports shape them (one item per dimension, tag and
    correction); drafts are never sent. Only sessions that came from that system are
    pushed (Phoenix, MLflow: pulled from that URL and project; Langfuse, LangSmith: pulled or
    imported from their files); the others are counted and named. Idempotent: a second
    push sends nothing; a changed review updates the label it sent before (never a
    duplicate); a label whose review was withdrawn, reopened or deleted since is deleted
    from the system (with --where or --batch: only of the sessions they select). Langfuse
    scores carry the score config of their rubric dimension (found by name, else created).

    Keys come from the environment or else the OS keyring (service agentops-reviewer):
    PHOENIX_API_KEY; MLFLOW_TRACKING_TOKEN (or MLFLOW_TRACKING_USERNAME and
    MLFLOW_TRACKING_PASSWORD); LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY;
    LANGSMITH_API_KEY.

    Exit status: 0 all sent, 3 some refused or stopped midway, 2 nothing could be sent.
    """
    from reviewer.services.exporting import ExportError
    from reviewer.services.pushing import push

    stopped = "labels accepted so far are recorded; push again to send the rest"
    with (
        _client(target, url, project, ca_bundle) as client,
        workspace_job(workspace, "pushing", quiet=as_json, stopped=stopped) as (ws, progress),
    ):
        try:
            summary = push(
                ws,
                target,
                client,
                level="session" if level == "session" else "review",
                where=where,
                batch=batch,
                batch_size=batch_size,
                dry_run=dry_run,
                redact_pii=redact_pii,
                progress=progress,
            )
        except ExportError as exc:
            fail(str(exc))
    if as_json:
        click.echo(summary.model_dump_json())
    else:
        if summary.error:
            error_line(summary.error)
        for r in summary.refusals:
            err.print(f"refused: {r}", soft_wrap=True, markup=False)
        verb = "would send" if dry_run else "sent"
        withdrew = "would withdraw" if dry_run else "withdrew"
        click.echo(
            f"{summary.url} ({summary.project}): {verb} {summary.sent}, "
            f"{summary.unchanged} unchanged, {summary.refused} refused"
            + (f", {withdrew} {summary.withdrawn}" if summary.withdrawn else "")
        )
        if summary.not_from_here:
            named = ", ".join(summary.not_from_here_sessions)
            more = summary.not_from_here - len(summary.not_from_here_sessions)
            click.echo(
                f"{summary.not_from_here} sessions not pulled from here, not sent: {named}"
                + (f" and {more} more" if more > 0 else "")
            )
        for reason, n in summary.left_out.items():
            click.echo(f"left out: {n} {reason}")
    raise SystemExit(summary.exit_code)
