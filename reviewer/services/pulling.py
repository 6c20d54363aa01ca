"""`reviewer pull`: sessions from a running tracing system, through the file importers.

Incremental: the workspace keeps, per source, URL (without credentials) and project, the
system's position after the last pull; the next pull lists only spans stored since, and
fetches each trace they belong to whole. A trace that grew becomes a new revision, one
that did not is a duplicate, as in file imports. Each batch of traces is committed with
the position after it, so a stop (Cancel, Ctrl-C, a lost connection) keeps what came in
and the next pull goes on from there.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from reviewer.connect.http import ConnectorError, HttpClient, safe_url
from reviewer.domain.session import Session
from reviewer.ingest.detect import by_name
from reviewer.ingest.pipeline import Reject, record_sessions
from reviewer.services.importing import KEEP_REJECTS, RejectedRecord
from reviewer.services.progress import NO_PROGRESS, Cancelled, Progress
from reviewer.store.connections import add_sessions, connection_id, get_cursor, set_cursor
from reviewer.store.content import prepare_session
from reviewer.store.sessions import upsert_prepared
from reviewer.store.workspace import Workspace

SOURCES: tuple[str, ...] = ("phoenix", "mlflow", "langfuse", "langsmith")
BATCH = 200
"""Traces fetched, imported and committed (with the cursor after them) at a time, at most;
every page of listed spans (up to 1,000) is committed at its end too."""


class PullSummary(BaseModel):
    """The result of `reviewer pull` (printed as JSON with --json)."""

    source: str
    url: str
    project: str
    listed: int = 0
    """What the listing gave: Phoenix spans, MLflow traces, Langfuse traces, LangSmith
    root runs."""
    traces: int = 0
    """Traces fetched and imported (sampled-out ones not counted)."""
    sampled_out: int = 0
    imported: int = 0
    duplicates: int = 0
    revised: int = 0
    rejected: int = 0
    first_rejects: list[RejectedRecord] = Field(default_factory=list)
    limited: bool = False
    """Stopped at ``--limit``: the next pull goes on from there."""
    cancelled: bool = False
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """As for import: 0 all in, 3 some rejected (or stopped by an error midway),
        2 nothing could be pulled."""
        if self.error is not None:
            return 3 if self.traces else 2
        return 3 if self.rejected else 0


def sampled(trace_id: str, fraction: float | None, seed: int) -> bool:
    """Whether a trace is in a ``fraction`` sample: the same answer every pull."""
    if fraction is None or fraction >= 1:
        return True
    h = hashlib.sha256(f"{seed}:{trace_id}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < fraction


def pull(
    ws: Workspace,
    source: str,
    client: HttpClient,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    sample: float | None = None,
    seed: int = 0,
    progress: Progress = NO_PROGRESS,
) -> PullSummary:
    """Pull new traces of ``client``'s project into ``ws``. Connection errors end the pull
    with ``error`` set; what was committed before stays, with its cursor."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; sources: {', '.join(SOURCES)}")
    from reviewer.connect import langfuse, langsmith, mlflow, phoenix

    system: Any = {
        "phoenix": phoenix,
        "mlflow": mlflow,
        "langfuse": langfuse,
        "langsmith": langsmith,
    }[source]
    url, project = safe_url(client.endpoint.url), client.endpoint.project
    summary = PullSummary(source=source, url=url, project=project)
    with ws.write() as s:
        conn = connection_id(s, source, url, project)
        cursor = get_cursor(s, conn)
    fmt = by_name(system.IMPORTER)
    file = f"{source}:{url}#{project}"
    pending: list[str] = []
    seen: set[str] = set()
    position = cursor

    def commit(upto: str | None) -> None:
        fetched = system.records(client, pending) if pending else {}
        sessions: list[Session] = []
        for n, trace in enumerate(pending, start=summary.traces + 1):
            record = fetched.get(trace)
            if record is None:
                continue  # gone from the system since it was listed
            for got in record_sessions(fmt, file, n, record):
                if isinstance(got, Reject):
                    _reject(summary, RejectedRecord(file=file, line=trace, reason=got.reason))
                else:
                    sessions.append(got)
        with ws.write(bulk=True) as s:
            result = upsert_prepared(s, [prepare_session(x) for x in sessions])
            add_sessions(s, conn, (x.id for x in sessions))
            set_cursor(s, conn, upto)
        summary.traces += len(pending)
        summary.imported += result.imported
        summary.duplicates += result.duplicates
        summary.revised += result.revised
        pending.clear()
        progress.update(summary.traces, limit, f"pulled {summary.traces} traces")

    try:
        progress.update(0, limit, "listing new spans")
        for spans in system.listing(client, cursor, since=since, until=until):
            for gid, trace in spans:
                if not trace:  # only a position: the listing's end
                    position = gid
                    continue
                if trace not in seen:
                    if limit is not None and summary.traces + len(pending) >= limit:
                        summary.limited = True
                        break
                    seen.add(trace)
                    if sampled(trace, sample, seed):
                        pending.append(trace)
                    else:
                        summary.sampled_out += 1
                summary.listed += 1
                if gid is not None:  # None: the listing moves the position at its end
                    position = gid
                if len(pending) >= BATCH:
                    commit(position)
            commit(position)  # each page: a failure on the next keeps this one
            if summary.limited:
                break
    except Cancelled:
        summary.cancelled = True
    except ConnectorError as exc:
        summary.error = str(exc)
    return summary


def _reject(summary: PullSummary, record: RejectedRecord) -> None:
    summary.rejected += 1
    if len(summary.first_rejects) < KEEP_REJECTS:
        summary.first_rejects.append(record)
