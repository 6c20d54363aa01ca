"""`reviewer pull`: sessions from a running tracing system, through the file importers.

Incremental: the workspace keeps, per source, URL (without credentials) and project, the
system's position after the last pull; the next pull lists only spans (Langfuse:
traces and observations; LangSmith: runs) stored since, and fetches each trace they
belong to whole. A trace that grew becomes a new revision, one
that did not is a duplicate, as in file imports. Each batch of traces is committed with
the position after it, so a stop (Cancel, Ctrl-C, a lost connection) keeps what came in
and the next pull goes on from there.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from reviewer.connect.http import ConnectorError, HttpClient, safe_url
from reviewer.domain.session import Session
from reviewer.ingest.detect import by_name
from reviewer.ingest.pipeline import Reject, record_sessions
from reviewer.services.filters import apply_filter, parse_where
from reviewer.services.importing import KEEP_REJECTS, RejectedRecord
from reviewer.services.progress import NO_PROGRESS, Cancelled, Progress
from reviewer.store.connections import (
    Narrow,
    connection_id,
    get_cursor,
    set_cursor,
    store_pulled,
)
from reviewer.store.content import prepare_session
from reviewer.store.workspace import Workspace

SOURCES: tuple[str, ...] = ("phoenix", "mlflow", "langfuse", "langsmith")
BATCH = 200
"""Traces fetched, imported and committed (with the cursor after them) at a time, at most;
every page of listed spans (up to 1,000) is committed at its end too."""
LOOK_AHEAD = 50_000
"""Listed items read before the first fetch: when the listing ends within them, the number
of traces to fetch is known from the start, and progress shows the time left."""

Page = Sequence[tuple[str | None, str]]
"""A page of the listing: ``(position after the item, trace id)``; an empty trace id is
only a position (the listing's end)."""


class PullSummary(BaseModel):
    """The result of `reviewer pull` (printed as JSON with --json)."""

    source: str
    url: str
    project: str
    listed: int = 0
    """What the listing gave: Phoenix spans, MLflow traces, Langfuse traces and
    observations, LangSmith runs."""
    traces: int = 0
    """Traces fetched and imported (sampled-out ones not counted)."""
    sampled_out: int = 0
    filtered_out: int = 0
    """Sessions fetched that ``--where`` left out (not imported)."""
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
    where: str | None = None,
    limit: int | None = None,
    sample: float | None = None,
    seed: int = 0,
    progress: Progress = NO_PROGRESS,
) -> PullSummary:
    """Pull new traces of ``client``'s project into ``ws``; with ``where`` (the filter
    language of ``sample`` and ``export``), only the sessions it lets through are
    imported and the others counted. Connection errors end the pull with ``error`` set;
    what was committed before stays, with its cursor. Raises ``FilterError`` for a bad
    filter, before anything is read."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; sources: {', '.join(SOURCES)}")
    spec = parse_where(where) if where else None
    narrow: Narrow | None = None if spec is None else (lambda q: apply_filter(q, spec))
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
    total: int | None = limit

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
            result, left_out = store_pulled(s, conn, [prepare_session(x) for x in sessions], narrow)
            set_cursor(s, conn, upto)
        summary.traces += len(pending)
        summary.imported += result.imported
        summary.duplicates += result.duplicates
        summary.revised += result.revised
        summary.filtered_out += left_out
        pending.clear()
        progress.update(summary.traces, total, f"pulled {summary.traces:,} traces")

    try:
        progress.update(0, total, "listing new traces")
        listing = system.listing(client, cursor, since=since, until=until)
        pages, known = _look_ahead(listing, progress)
        if known is not None:
            total = _to_fetch(known, limit, sample, seed)
        for spans in pages:
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


def _look_ahead(
    pages: Iterable[Page], progress: Progress
) -> tuple[Iterator[Page], list[Page] | None]:
    """The listing's pages, and the first of them when the listing ended within
    :data:`LOOK_AHEAD` items (else None: how many will come is not known). A connection
    error while looking ahead comes after the pages read before it (they are kept)."""
    it = iter(pages)
    read: list[Page] = []
    items = 0
    try:
        for page in it:
            progress.check()
            read.append(page)
            items += len(page)
            if items >= LOOK_AHEAD:
                return itertools.chain(read, it), None
    except ConnectorError as exc:
        return itertools.chain(read, _raising(exc)), None
    return iter(read), read


def _raising(exc: Exception) -> Iterator[Page]:
    raise exc
    yield  # a generator: raises when the pages before it are done


def _to_fetch(pages: list[Page], limit: int | None, sample: float | None, seed: int) -> int:
    """How many traces a pull of these listed pages fetches."""
    traces = {trace: None for page in pages for _, trace in page if trace}
    n = sum(1 for t in traces if sampled(t, sample, seed)) if sample is not None else len(traces)
    return n if limit is None else min(n, limit)


def _reject(summary: PullSummary, record: RejectedRecord) -> None:
    summary.rejected += 1
    if len(summary.first_rejects) < KEEP_REJECTS:
        summary.first_rejects.append(record)
