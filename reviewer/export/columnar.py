"""Review rows column by column: stored records as an Arrow table in, the plan's columns out.

The same cells as :meth:`ReviewShaper.rows <reviewer.export.rows.ReviewShaper.rows>`, made
without a Python object per cell: columns stored as they are written pass through as Arrow
arrays, and every column made from the labels (or mapped from ids) is worked out once per
distinct stored value, in Python with the shaper's own code, then spread over the rows by
index (:class:`Coded`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reviewer.domain.review_record import RECORD_KINDS
from reviewer.export.rows import ReviewShaper, text_cell

_ARROW = {"string": pa.string(), "int": pa.int64(), "float": pa.float64()}
RECORD_TYPES: dict[str, pa.DataType] = {n: _ARROW[k] for n, k in RECORD_KINDS.items()}
"""Arrow types of the record fields (see :data:`~reviewer.domain.review_record.RECORD_KINDS`)."""


@dataclass(frozen=True)
class Coded:
    """A column given as its distinct cells and, for each row, the index of its cell."""

    cells: list[Any]
    indices: pa.Array

    def __len__(self) -> int:
        return len(self.indices)

    def array(self, kind: pa.DataType, encode: Callable[[Any], Any] | None = None) -> pa.Array:
        """The column as an Arrow array of ``kind`` (each distinct cell ``encode``-d first)."""
        cells = self.cells if encode is None else [encode(c) for c in self.cells]
        return pa.array(cells, kind).take(self.indices)


Cells: TypeAlias = pa.Array | Coded


def text_bytes(values: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """A string array's offsets (one more than it has cells, from 0) and the bytes they
    point into, as numpy views: cell ``i`` is ``data[offsets[i]:offsets[i + 1]]``. A null
    cell's bytes are whatever they are (usually none)."""
    if not pa.types.is_string(values.type):  # large_string has 64-bit offsets
        raise TypeError(f"expected a string array, not {values.type}")
    offsets = np.frombuffer(
        values.buffers()[1], dtype=np.int32, count=len(values) + 1, offset=values.offset * 4
    )
    data = values.buffers()[2]
    start = int(offsets[0])
    stop = int(offsets[-1])
    if data is None or stop == start:
        return offsets - start, np.zeros(0, dtype=np.uint8)
    return offsets - start, np.frombuffer(data, dtype=np.uint8)[start:stop]


def _distinct(values: pa.Array) -> tuple[list[Any], pa.Array]:
    """The distinct values (None included) and each row's index into them."""
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    return encoded.dictionary.to_pylist(), encoded.indices


def review_columns(shaper: ReviewShaper, records: pa.Table) -> list[Cells]:
    """The cells of ``records`` (a table of :data:`RECORD` fields typed as
    :data:`RECORD_TYPES`) in ``plan.review_columns()`` order."""
    col: dict[str, pa.Array] = {
        name: records.column(name).combine_chunks() for name in records.column_names
    }
    rubric_ids, by_rubric = _distinct(col["rubric_id"])
    values, by_values = _distinct(col["values"])
    details, by_details = _distinct(col["details"])
    # One code per (rubric, values, details) combination present in this chunk.
    n_values, n_details = len(values), len(details)
    combined = pc.add(
        pc.multiply(
            pc.add(pc.multiply(by_rubric.cast(pa.int64()), n_details), by_details),
            n_values,
        ),
        by_values,
    )
    combos, by_combo = _distinct(combined)
    heads: list[tuple[Any, ...]] = []
    tails: list[tuple[Any, Any]] = []
    for code in combos:
        r, rest = divmod(code, n_details * n_values)
        d, v = divmod(rest, n_values)
        head, tail = shaper.shape(rubric_ids[r], values[v], details[d], remember=False)
        heads.append(head)
        tails.append(tail)
    shapers = [shaper.plan.shapers[rid] for rid in rubric_ids]
    batches, by_batch = _distinct(col["batch_id"])
    batch_name = shaper.batch_names.get
    reasons, by_reason = _distinct(col["status_reason"])
    redact = shaper.redact
    n_head = shaper.n_labels + shaper.n_details + 1  # label and detail cells, failure tags
    label_cells = [Coded([h[i] for h in heads], by_combo) for i in range(n_head)]
    simulated = pc.not_equal(col["simulated"], 0).fill_null(False)
    return [
        col["uid"],
        col["session_key"],
        col["revision"],
        Coded([batch_name(b) for b in batches], by_batch),
        col["reviewer"],
        col["role"],
        col["status"],
        Coded([text_cell(r, redact) if r is not None else None for r in reasons], by_reason),
        Coded([s.name for s in shapers], by_rubric),
        Coded([s.version for s in shapers], by_rubric),
        *label_cells,
        col["failure_step"],
        Coded([t[0] for t in tails], by_combo),
        Coded([t[1] for t in tails], by_combo),
        col["started_at"],
        col["submitted_at"],
        col["updated_at"],
        col["active_seconds"],
        simulated,
        col["origin"],
        col["conflict_of"],
        col["agent_name"],
        col["agent_version"],
        col["model"],
        col["session_started_at"],
        col["source_format"],
    ]
