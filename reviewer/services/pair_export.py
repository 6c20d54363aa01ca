"""Exporting preferences of pairwise batches: ``--level pair`` tables and pair DPO lines.

Uses the export writers and the atomic write with its manifest of
:mod:`reviewer.services.exporting`; preferences come ordered by batch, position, reviewer
and uid, so the same workspace and options give the same bytes.
"""

from __future__ import annotations

import zlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from reviewer import __version__
from reviewer.domain.session import Session
from reviewer.export.formats import FORMAT_VERSION, get_format, row_schema
from reviewer.export.manifest import (
    ColumnInfo,
    Counts,
    DataFile,
    ExportManifest,
    RubricVersion,
)
from reviewer.export.options import ExportOptions
from reviewer.export.pairs import PAIR_COLUMNS, PairRecord, dpo_line, langsmith_lines, pair_row
from reviewer.export.tables import CsvWriter, JsonlWriter, ParquetWriter, TableWriter
from reviewer.services.exporting import ExportError, check_target, publish
from reviewer.services.filters import FilterError, apply_filter, parse_where
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.store.tables import (
    BatchItemRow,
    BatchRow,
    PreferenceReviewRow,
    RubricRow,
    SessionContent,
    SessionRow,
)
from reviewer.store.workspace import Workspace

__all__ = ["export_pairs"]

CHUNK = 500
"""Preferences shaped (and, for DPO, sessions loaded) at a time."""


def _records(ws: Workspace, options: ExportOptions) -> tuple[list[PairRecord], list[RubricVersion]]:
    left, right = aliased(SessionRow), aliased(SessionRow)
    q = (
        select(
            PreferenceReviewRow, BatchRow.name, BatchRow.spec, BatchItemRow.position,
            BatchItemRow.pair_key, BatchItemRow.pair_left, left.session_key, left.revision,
            left.id, right.session_key, right.revision, right.id, RubricRow.name,
            RubricRow.version,
        )
        .join(BatchItemRow, BatchItemRow.id == PreferenceReviewRow.item_id)
        .join(BatchRow, BatchRow.id == BatchItemRow.batch_id)
        .join(RubricRow, RubricRow.id == BatchRow.rubric_id)
        .join(left, left.id == BatchItemRow.session_id)
        .join(right, right.id == BatchItemRow.pair_session_id)
        .order_by(BatchRow.name, BatchItemRow.position, PreferenceReviewRow.reviewer,
                  PreferenceReviewRow.uid)
    )  # fmt: skip
    if options.status == "submitted":
        q = q.where(PreferenceReviewRow.status == "submitted")
    if options.where:  # a pair is kept when either of its sessions matches
        try:
            wanted = parse_where(options.where)
        except FilterError as exc:
            raise ExportError(f"filter: {exc}") from None
        matching = apply_filter(select(SessionRow.id), wanted, latest_only=False)
        q = q.where(left.id.in_(matching) | right.id.in_(matching))
    with ws.read() as s:
        if options.batch is not None:
            found = s.scalar(select(BatchRow.spec).where(BatchRow.name == options.batch))
            if found is None:
                raise ExportError(f"no batch named {options.batch!r} in this workspace")
            if not found.get("pairs"):
                raise ExportError(f"batch {options.batch!r} is not a pairwise batch")
            q = q.where(BatchRow.name == options.batch)
        out = []
        rubrics = set()
        for row in s.execute(q):
            p: PreferenceReviewRow = row[0]
            spec = row[2].get("pairs") or {}
            rubrics.add((row[12], row[13]))
            out.append(
                PairRecord(
                    batch=row[1], position=row[3], task_key=row[4],
                    field=str(spec.get("field", "")), a=str(spec.get("a", "")),
                    b=str(spec.get("b", "")), left_is=row[5] or "A",
                    left_session=row[6], left_revision=row[7], left_id=row[8],
                    right_session=row[9], right_revision=row[10], right_id=row[11],
                    winner=p.winner, dimensions=dict(p.dimensions or {}), rationale=p.rationale,
                    reviewer=p.reviewer, uid=p.uid, status=p.status,
                    submitted_at=p.submitted_at, active_seconds=p.active_seconds,
                    simulated=p.simulated,
                )
            )  # fmt: skip
    return out, [RubricVersion(name=n, version=v) for n, v in sorted(rubrics)]


def _sessions(ws: Workspace, ids: set[int]) -> dict[int, Session]:
    with ws.read() as s:
        rows = s.execute(
            select(SessionContent.session_id, SessionContent.data).where(
                SessionContent.session_id.in_(sorted(ids))
            )
        )
        return {sid: Session.model_validate_json(zlib.decompress(data)) for sid, data in rows}


def _writer(fmt: str, f: Any, options: ExportOptions) -> TableWriter:
    if fmt == "csv":
        return CsvWriter(f, PAIR_COLUMNS, neutralise_formulas=options.neutralise_formulas)
    if fmt == "jsonl":
        return JsonlWriter(f, PAIR_COLUMNS)
    return ParquetWriter(
        f,
        PAIR_COLUMNS,
        metadata={
            "agentops_reviewer.format": "pair-rows",
            "agentops_reviewer.format_version": str(FORMAT_VERSION),
        },
    )


def export_pairs(
    ws: Workspace, options: ExportOptions, out: Path, *, progress: Progress = NO_PROGRESS
) -> ExportManifest:
    """Export the preferences the options select: ``--level pair`` rows for the table
    formats, or pair DPO lines; the manifest counts what was left out and why."""
    fmt = get_format(options.format)
    if fmt.kind != "table" and not fmt.pairs:
        raise ExportError(f"--level pair goes with csv, jsonl or parquet, not {fmt.name}")
    out = check_target(out)
    records, rubrics = _records(ws, options)
    left_out: Counter[str] = Counter()
    notes: list[str] = []
    rows = 0
    total = len(records)
    progress.update(0, total, "exporting")

    def write(f: Any) -> None:
        nonlocal rows
        if fmt.kind == "table":
            writer = _writer(fmt.name, f, options)
            for start in range(0, total, CHUNK):
                part = records[start : start + CHUNK]
                writer.write([pair_row(r, redact=options.redact_pii) for r in part])
                rows += len(part)
                progress.update(start + len(part), total, "exporting")
            writer.close()
            if isinstance(writer, CsvWriter) and writer.long_cells:
                notes.append(f"{writer.long_cells} cells are longer than a spreadsheet shows")
            return
        import orjson

        style = "openai" if fmt.name.startswith("openai") else "trl"
        langsmith = fmt.name == "langsmith-pairwise"
        for start in range(0, total, CHUNK):
            part = records[start : start + CHUNK]
            sessions = _sessions(ws, {i for r in part for i in (r.left_id, r.right_id)})
            lines = []
            for r in part:
                left, right = sessions[r.left_id], sessions[r.right_id]
                got = (
                    langsmith_lines(r, left, right, redact=options.redact_pii)
                    if langsmith
                    else dpo_line(style, r, left, right, redact=options.redact_pii)
                )
                if isinstance(got, str):
                    left_out[got] += 1
                    continue
                for line in got if isinstance(got, list) else [got]:
                    lines.append(orjson.dumps(line) + b"\n")
            f.write(b"".join(lines))
            rows += len(lines)
            progress.update(start + len(part), total, "exporting")

    def describe(data: DataFile) -> ExportManifest:
        return ExportManifest(
            app_version=__version__,
            created_at=datetime.now(UTC),
            workspace=ws.display_name,
            workspace_id=ws.workspace_id,
            format=fmt.name,
            format_version=FORMAT_VERSION,
            schema_file=row_schema(fmt, "pair"),
            level="pair",
            status=options.status,
            where=options.where,
            batch=options.batch,
            redact_pii=options.redact_pii,
            neutralise_formulas=options.neutralise_formulas if fmt.name == "csv" else None,
            rubrics=rubrics,
            counts=Counts(
                rows=rows,
                reviews=total,
                sessions=len({i for r in records for i in (r.left_id, r.right_id)}),
            ),
            left_out=dict(sorted(left_out.items())),
            notes=notes,
            columns=[ColumnInfo(name=c.name, type=c.kind) for c in PAIR_COLUMNS]
            if fmt.kind == "table"
            else None,
            data=data,
        )

    return publish(out, write, describe)
