"""Exporting preferences of pairwise batches: ``--level pair`` tables and pair DPO lines.

Uses the export writers and the atomic write with its manifest of
:mod:`reviewer.services.exporting`; preferences are read by
:mod:`reviewer.store.preference_records`, ordered by batch, position, reviewer
and uid, so the same workspace and options give the same bytes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from reviewer.domain.pair_record import PairRecord
from reviewer.export.formats import get_format
from reviewer.export.manifest import (
    ColumnInfo,
    Counts,
    DataFile,
    ExportManifest,
    RubricVersion,
)
from reviewer.export.options import ExportOptions
from reviewer.export.pairs import PAIR_COLUMNS, dpo_line, langsmith_lines, pair_row
from reviewer.export.tables import CsvWriter
from reviewer.services.exporting import (
    ExportError,
    check_target,
    manifest_basics,
    publish,
    table_writer,
)
from reviewer.services.filters import FilterError, parse_where
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.store.preference_records import NotPairwise, preference_records
from reviewer.store.review_records import NoSuchBatch, load_sessions
from reviewer.store.workspace import Workspace

__all__ = ["export_pairs"]

CHUNK = 500
"""Preferences shaped (and, for DPO, sessions loaded) at a time."""


def _records(ws: Workspace, options: ExportOptions) -> tuple[list[PairRecord], list[RubricVersion]]:
    try:
        spec = parse_where(options.where) if options.where else None
    except FilterError as exc:
        raise ExportError(f"filter: {exc}") from None
    try:
        records, rubrics = preference_records(
            ws, submitted_only=options.status == "submitted", batch=options.batch, spec=spec
        )
    except NoSuchBatch:
        raise ExportError(f"no batch named {options.batch!r} in this workspace") from None
    except NotPairwise:
        raise ExportError(f"batch {options.batch!r} is not a pairwise batch") from None
    return records, [RubricVersion(name=n, version=v) for n, v in rubrics]


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
            writer = table_writer(fmt, f, PAIR_COLUMNS, options, level="pair")
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
            sessions = load_sessions(ws, {i for r in part for i in (r.left_id, r.right_id)})
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
            **manifest_basics(ws, fmt, options, "pair"),
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
