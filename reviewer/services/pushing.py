"""`reviewer push`: submitted reviews as a tracing system's own human annotations.

The labels are shaped by the same code as the label exports (``reviewer.export.feedback``:
one export to a temporary file, drafts never included, ``--redact-pii`` as for exports).
Only sessions that came from that system are sent: for Phoenix, those pulled from the
same URL and project; for Langfuse and LangSmith, those imported from them (pulled or
from their files). The others are counted and named. Each item sent is remembered with
a digest: a second push sends nothing, and an item whose review changed is sent again
under the same key, which the system upserts (Phoenix: span, name and identifier;
MLflow: a PATCH of the assessment by its id; Langfuse: id and timestamp; LangSmith: a
PATCH by id), so it updates the label rather
than adding one. Each batch is recorded as sent once the system accepted it, so a stop leaves
the record true and the next push sends the rest. A label sent before that is no longer
among the labels (its review was withdrawn, reopened or deleted) is deleted from the
system and forgotten, once. Langfuse scores carry the score config of their rubric
dimension.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, Field

from reviewer.connect.http import ConnectorError, HttpClient, safe_url
from reviewer.export.formats import get_format
from reviewer.export.options import ExportOptions
from reviewer.services.exporting import export
from reviewer.services.progress import NO_PROGRESS, Cancelled, Progress
from reviewer.store.connections import (
    connection_id,
    find_connection,
    forget_sent,
    pulled_keys,
    record_sent,
    reviewed_not_from,
    sent_items,
)
from reviewer.store.rubrics import find_rubric
from reviewer.store.sessions import latest_sessions
from reviewer.store.workspace import Workspace

TARGETS: tuple[str, ...] = ("phoenix", "mlflow", "langfuse", "langsmith")
FORMAT = {
    "phoenix": "phoenix-annotations",
    "mlflow": "mlflow-assessments",
    "langfuse": "langfuse-scores",
    "langsmith": "langsmith-feedback",
}
PULLED_ONLY = {"phoenix": True, "mlflow": True, "langfuse": False, "langsmith": False}
"""Whether only sessions pulled from that URL and project are pushed (systems we pull
from), or every session imported from that system's files (push-only systems)."""
NAMED = 20
"""Sessions named (not from this system, refused) in a summary; the rest are counted."""


class PushSummary(BaseModel):
    """The result of `reviewer push` (printed as JSON with --json)."""

    target: str
    url: str
    project: str
    level: str
    dry_run: bool = False
    items: int = 0
    """Label items of sessions from this system."""
    sent: int = 0
    """Sent now (with --dry-run: would be sent)."""
    unchanged: int = 0
    """Sent before and not changed since: not sent again."""
    withdrawn: int = 0
    """Labels sent before whose review was withdrawn, reopened (a draft again) or deleted,
    or whose value was taken out: deleted from the system now (with --dry-run: would be).
    A push narrowed by --where or --batch withdraws only labels of sessions it covers;
    one at the other --level withdraws the labels sent at the first."""
    refused: int = 0
    refusals: list[str] = Field(default_factory=list)
    not_from_here: int = 0
    """Sessions with labels that did not come from this system (not sent)."""
    not_from_here_sessions: list[str] = Field(default_factory=list)
    left_out: dict[str, int] = Field(default_factory=dict)
    """Sessions the label shaping left out, by reason (as in an export manifest)."""
    cancelled: bool = False
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """As for import: 0 all sent, 3 some refused (or stopped by an error midway),
        2 nothing could be sent."""
        if self.error is not None:
            return 3 if self.sent else 2
        return 3 if self.refused else 0


def item_key(target: str, line: dict[str, Any]) -> str:
    """What the system upserts an item on."""
    if target == "phoenix":
        return f"{line['span_id']}/{line['name']}/{line['identifier']}"
    if target == "langsmith":
        return str(line["feedback_id"])
    if target == "mlflow":
        return str(line["assessment_id"])
    return str(line["id"])


def session_of(target: str, line: dict[str, Any]) -> str:
    meta = line["source_info"] if target == "langsmith" else line["metadata"]
    return str(meta["session_id"])


def digest(line: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(line, option=orjson.OPT_SORT_KEYS)).hexdigest()


def push(
    ws: Workspace,
    target: str,
    client: HttpClient,
    *,
    level: Literal["review", "session"] = "review",
    where: str | None = None,
    batch: str | None = None,
    batch_size: int = 100,
    dry_run: bool = False,
    redact_pii: bool = False,
    progress: Progress = NO_PROGRESS,
) -> PushSummary:
    """Send what is new or changed since the last push to ``client``'s project.
    Raises ``ExportError`` for a bad filter or batch name."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; targets: {', '.join(TARGETS)}")
    url, project = safe_url(client.endpoint.url), client.endpoint.project
    summary = PushSummary(target=target, url=url, project=project, level=level, dry_run=dry_run)
    options = ExportOptions(
        format=FORMAT[target],
        level=level,
        status="submitted",  # drafts are never sent
        where=where,
        batch=batch,
        redact_pii=redact_pii,
    )
    with tempfile.TemporaryDirectory(prefix="reviewer-push-") as tmp:
        out = Path(tmp) / "labels.jsonl"
        manifest = export(ws, options, out)
        lines = [orjson.loads(raw) for raw in out.read_bytes().splitlines() if raw]
    summary.left_out = dict(manifest.left_out)
    with ws.read() as s:
        conn = find_connection(s, target, url, project)
        pulled = pulled_keys(s, conn) if conn is not None else set()
        before = sent_items(s, conn) if conn is not None else {}
    sent = {ik: d for ik, (d, _) in before.items()}
    foreign: dict[str, None] = {}
    todo: list[tuple[str, str, str, dict[str, Any]]] = []
    here: set[str] = set()
    for line in lines:
        key = session_of(target, line)
        if PULLED_ONLY[target] and key not in pulled:
            foreign[key] = None
            continue
        summary.items += 1
        ik, d = item_key(target, line), digest(line)
        here.add(ik)
        if sent.get(ik) == d:
            summary.unchanged += 1
        else:
            todo.append((ik, d, key, line))
    # sent before, no longer a label: its review was withdrawn, reopened or deleted (or a
    # value taken out). A narrowed push (--where, --batch) judges only sessions it covers.
    whole = where is None and batch is None
    sessions = {key for _, _, key, _ in todo} | {before[ik][1] for ik in here if ik in before}
    gone = sorted(
        (key, ik)
        for ik, (_, key) in before.items()
        if ik not in here and (whole or key in sessions)
    )
    source_format = get_format(FORMAT[target]).source or target
    other = summary.left_out.get(f"not_from_{source_format.replace('-', '_')}", 0)
    summary.not_from_here = len(foreign) + other
    with ws.read() as s:
        named = reviewed_not_from(s, source_format, NAMED) if other else []
    summary.not_from_here_sessions = sorted({*foreign, *named})[:NAMED]
    if dry_run or not (todo or gone):
        summary.sent, summary.withdrawn = len(todo), len(gone)
        return summary
    if conn is None:
        with ws.write() as s:
            conn = connection_id(s, target, url, project)
    total = len(todo) + len(gone)
    try:
        if target == "langfuse" and todo:
            todo = _with_score_configs(ws, client, todo)
        for i in range(0, len(todo), batch_size):
            chunk = todo[i : i + batch_size]
            accepted = _send(client, target, chunk, summary, sent)
            with ws.write() as s:
                record_sent(s, conn, ((ik, d, key) for ik, d, key, _ in accepted))
            summary.sent += len(accepted)
            progress.update(i + len(chunk), total, f"sent {summary.sent:,} labels")
        for i in range(0, len(gone), batch_size):
            deleted = _withdraw(ws, client, target, gone[i : i + batch_size])
            with ws.write() as s:
                forget_sent(s, conn, deleted)
            summary.withdrawn += len(deleted)
            done = len(todo) + i + batch_size
            progress.update(min(done, total), total, f"withdrew {summary.withdrawn:,} labels")
    except Cancelled:
        summary.cancelled = True
    except ConnectorError as exc:
        summary.error = str(exc)
    return summary


def _with_score_configs(
    ws: Workspace, client: HttpClient, todo: list[tuple[str, str, str, dict[str, Any]]]
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Langfuse: each score with the ``configId`` of its rubric dimension's score config."""
    from reviewer.connect import langfuse

    named = {str(line["metadata"].get("rubric")) for *_, line in todo}
    rubrics = {}
    with ws.read() as s:
        for spec in named:
            name, _, version = spec.rpartition("@")
            found = find_rubric(s, name, int(version)) if version.isdigit() else None
            if found is not None:
                rubrics[spec] = found[1]
    lines = langfuse.with_configs(client, [line for *_, line in todo], rubrics)
    return [(ik, d, key, line) for (ik, d, key, _), line in zip(todo, lines, strict=True)]


def _withdraw(
    ws: Workspace, client: HttpClient, target: str, gone: list[tuple[str, str]]
) -> list[str]:
    """Delete labels sent before (``(session key, item key)``) from the system; returns
    the item keys it no longer holds (deleted now, or gone already)."""
    from reviewer.connect import langfuse, langsmith, mlflow, phoenix

    if target == "langfuse":
        for _, ik in gone:
            langfuse.delete_score(client, ik)
    elif target == "langsmith":
        for _, ik in gone:
            langsmith.delete_feedback(client, ik)
    else:
        with ws.read() as s:
            sessions = latest_sessions(s, sorted({key for key, _ in gone}))
        ids = {key: x.source.ids for key, x in sessions.items()}
        if target == "mlflow":
            for key, ik in gone:
                trace = ids.get(key, {}).get("trace_id")
                if trace:
                    mlflow.delete_assessment(client, trace, ik)
        else:
            phoenix.delete_annotations(client, [ik for _, ik in gone])
    return [ik for _, ik in gone]


def _send(
    client: HttpClient,
    target: str,
    chunk: list[tuple[str, str, str, dict[str, Any]]],
    summary: PushSummary,
    sent: dict[str, str],
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Send a batch; return what the system accepted. Phoenix: when it refuses the batch
    for a missing span (404), its items are sent one by one and the refused ones counted.
    Langfuse: a 207 does not say which scores it refused, so none of the batch is recorded
    as sent (the next push sends it again, an update for those it took). LangSmith: each
    item is created, or updated by its id when it was sent before."""
    from reviewer.connect import langfuse, langsmith, phoenix

    if target == "mlflow":
        return _send_mlflow(client, chunk, summary, sent)
    if target == "langsmith":  # one request per item; a changed one is a PATCH
        for ik, _, _, line in chunk:
            langsmith.send_feedback(client, line, sent_before=ik in sent)
        return chunk
    if target == "langfuse":
        refused = langfuse.send_scores(client, [line for *_, line in chunk])
        for reason in refused:
            _refuse(summary, "langfuse", reason)
        return [] if refused else chunk

    try:
        phoenix.send_annotations(client, [line for *_, line in chunk])
        return chunk
    except ConnectorError as exc:
        if exc.status != 404 or len(chunk) == 1:
            if exc.status == 404:
                _refuse(summary, chunk[0][2], str(exc))
                return []
            raise
    accepted = []
    for item in chunk:
        try:
            phoenix.send_annotations(client, [item[3]])
            accepted.append(item)
        except ConnectorError as exc:
            if exc.status != 404:
                raise
            _refuse(summary, item[2], str(exc))
    return accepted


def _send_mlflow(
    client: HttpClient,
    chunk: list[tuple[str, str, str, dict[str, Any]]],
    summary: PushSummary,
    sent: dict[str, str],
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """MLflow: an assessment sent before is updated by its id; for the others, the trace's
    assessments are read once (which of our ids MLflow already has: update, not
    duplicate), then each is created or updated. A trace MLflow does not have is refused."""
    from reviewer.connect import mlflow

    accepted = []
    known: dict[str, set[str] | None] = {}
    for item in chunk:
        ik, _, key, line = item
        exists = ik in sent
        if not exists:
            trace = line["trace_id"]
            if trace not in known:
                found = mlflow.trace_assessments(client, trace)
                known[trace] = None if found is None else {a["assessment_id"] for a in found}
            ids = known[trace]
            if ids is None:
                _refuse(summary, key, f"MLflow has no trace {trace} (404)")
                continue
            exists = ik in ids
        try:
            mlflow.send_assessment(client, line, exists=exists)
        except ConnectorError as exc:
            if exc.status != 404:
                raise
            _refuse(summary, key, str(exc))
            continue
        accepted.append(item)
    return accepted


def _refuse(summary: PushSummary, session_key: str, reason: str) -> None:
    summary.refused += 1
    if len(summary.refusals) < NAMED:
        summary.refusals.append(f"{session_key}: {reason}")
