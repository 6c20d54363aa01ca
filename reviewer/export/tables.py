"""Writers of the label tables — CSV, JSON Lines, Parquet — onto a binary stream.

Rows arrive in chunks as tuples in the columns' order. CSV follows RFC 4180 (UTF-8, CRLF,
quotes where needed); lists and nested reviews are JSON text in CSV and real lists in JSON
Lines and Parquet; times are ISO-8601 UTC text in CSV and JSON Lines and
``timestamp[us, UTC]`` in Parquet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

import orjson

from reviewer.export.columns import Column, ColumnKind

if TYPE_CHECKING:
    from reviewer.export.columnar import Cells

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection)."""
SPREADSHEET_CELL_LIMIT = 32_767
"""The most characters a spreadsheet cell shows; longer cells are written whole."""


def neutralise(text: str) -> str:
    """A text cell made inert for spreadsheets: a leading quote when it starts like a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class TableWriter(Protocol):
    def write(self, rows: Sequence[tuple[Any, ...]]) -> None: ...

    def write_columns(self, columns: Sequence[Cells]) -> None: ...

    def close(self) -> None: ...


class CsvWriter:
    """RFC 4180 CSV through Arrow's CSV writer: text cells quoted, numbers and booleans
    (``true``/``false``) bare, an empty cell for no value, CRLF line ends."""

    def __init__(
        self, stream: BinaryIO, columns: Sequence[Column], *, neutralise_formulas: bool = True
    ) -> None:
        import pyarrow as pa
        import pyarrow.csv as pa_csv

        self._pa = pa
        self._columns = list(columns)
        self._types = [_csv_type(c.kind) for c in columns]
        self.schema = pa.schema(
            [pa.field(neutralise(c.name), t) for c, t in zip(columns, self._types, strict=True)]
        )
        self._checked = {
            i
            for i, c in enumerate(columns)
            if (c.kind == "string" and not c.safe) or c.kind in ("list", "reviews")
        }
        self._long = {i for i, c in enumerate(columns) if c.text or c.kind == "reviews"}
        """Columns whose cells can outgrow a spreadsheet cell (ids and names cannot)."""
        self._neutralise = neutralise_formulas
        self._writer = pa_csv.CSVWriter(
            stream, self.schema, write_options=pa_csv.WriteOptions(eol="\r\n")
        )
        self.long_cells = 0
        """Cells over :data:`SPREADSHEET_CELL_LIMIT` characters (written whole)."""

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        pa = self._pa
        arrays = []
        for i, (col, values) in enumerate(zip(self._columns, zip(*rows, strict=True), strict=True)):
            if col.kind in ("list", "reviews"):
                values = tuple(_json_text(v) for v in values)
            arrays.append(pa.array(values, self._types[i]))
        self._write_arrays(arrays)

    def write_columns(self, columns: Sequence[Cells]) -> None:
        """Write rows given column by column (see :mod:`reviewer.export.columnar`)."""
        from reviewer.export.columnar import Coded

        arrays = []
        for i, (col, cells) in enumerate(zip(self._columns, columns, strict=True)):
            kind = self._types[i]
            if isinstance(cells, Coded):
                encode = _json_text if col.kind in ("list", "reviews") else None
                arrays.append(cells.array(kind, encode))
            else:
                arrays.append(cells if cells.type == kind else cells.cast(kind))
        if arrays and len(arrays[0]):
            self._write_arrays(arrays)

    def _write_arrays(self, arrays: list[Any]) -> None:
        import numpy as np
        import pyarrow.compute as pc

        from reviewer.export.columnar import text_bytes

        pa = self._pa
        for i in self._checked:
            arr = arrays[i]
            # A look at the raw bytes first: cells' first bytes, and their lengths (a cell
            # has no more characters than bytes); the exact test runs only when it may hit.
            offsets, data = text_bytes(arr)
            lengths = np.diff(offsets)
            if self._neutralise and len(data):
                firsts = data[offsets[:-1][lengths > 0]]
                if np.isin(firsts, _FORMULA_BYTES).any():
                    risky = pc.match_substring_regex(arr, _FORMULA_PATTERN)
                    if pc.any(risky).as_py():
                        arr = pc.if_else(risky, pc.binary_join_element_wise("'", arr, ""), arr)
                        arrays[i] = arr
                        offsets, _ = text_bytes(arr)
                        lengths = np.diff(offsets)
            if len(lengths) and int(lengths.max()) > SPREADSHEET_CELL_LIMIT:
                self.long_cells += (
                    pc.sum(pc.greater(pc.utf8_length(arr), SPREADSHEET_CELL_LIMIT)).as_py() or 0
                )
        self._writer.write_batch(pa.record_batch(arrays, schema=self.schema))

    def close(self) -> None:
        self._writer.close()


def _json_text(value: Any) -> str | None:
    """A list (or nested reviews) as JSON text in a CSV cell."""
    return None if value is None else "[]" if value == [] else orjson.dumps(value).decode()


_FORMULA_PATTERN = "^[=+\\-@\t\r\n]"
_FORMULA_BYTES = [ord(c) for c in FORMULA_STARTS]


def _csv_type(kind: ColumnKind) -> Any:
    import pyarrow as pa

    return {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}.get(kind, pa.string())


class JsonlWriter:
    def __init__(self, stream: BinaryIO, columns: Sequence[Column]) -> None:
        self._stream = stream
        self._names = [c.name for c in columns]

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        names = self._names
        dumps = orjson.dumps
        self._stream.write(b"".join(dumps(dict(zip(names, r, strict=True))) + b"\n" for r in rows))

    def write_columns(self, columns: Sequence[Cells]) -> None:
        """The same bytes as :meth:`write` for the same rows, given column by column."""
        import pyarrow as pa

        from reviewer.export.columnar import Coded
        from reviewer.export.jsontext import json_lines, json_parts

        cells = [
            c.array(pa.string(), _json_cell) if isinstance(c, Coded) else json_parts(c)
            for c in columns
        ]
        if columns and len(columns[0]):
            self._stream.write(json_lines(self._names, cells))

    def close(self) -> None:
        self._stream.flush()


def _json_cell(value: Any) -> str:
    return orjson.dumps(value).decode()


def _arrow_type(kind: ColumnKind, nested: Sequence[Column] = ()) -> Any:
    import pyarrow as pa

    if kind == "reviews":
        return pa.list_(pa.struct([(c.name, _arrow_type(c.kind)) for c in nested]))
    return {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "list": pa.list_(pa.string()),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }[kind]


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


class ParquetWriter:
    """One row group per chunk written; the schema comes from the column plan."""

    def __init__(
        self,
        stream: BinaryIO,
        columns: Sequence[Column],
        nested: Sequence[Column] = (),
        metadata: dict[str, str] | None = None,
    ) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self._columns = list(columns)
        self._nested_times = [c.name for c in nested if c.kind == "timestamp"]
        self.schema = pa.schema(
            [pa.field(c.name, _arrow_type(c.kind, nested)) for c in columns],
            metadata={k.encode(): v.encode() for k, v in (metadata or {}).items()},
        )
        self._writer = pq.ParquetWriter(stream, self.schema, compression="zstd")

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        pa = self._pa
        arrays = []
        for col, values in zip(self._columns, zip(*rows, strict=True), strict=True):
            kind = col.kind
            field_type = self.schema.field(col.name).type
            if kind == "timestamp":
                arrays.append(pa.array(values, pa.string()).cast(field_type))
            elif kind == "reviews":
                if self._nested_times:
                    values = tuple(
                        [{**d, **{k: _when(d[k]) for k in self._nested_times}} for d in reviews]
                        for reviews in values
                    )
                arrays.append(pa.array(values, field_type))
            else:
                arrays.append(pa.array(values, field_type))
        self._writer.write_batch(pa.record_batch(arrays, schema=self.schema))

    def write_columns(self, columns: Sequence[Cells]) -> None:
        """Review rows given column by column (no nested reviews): one row group."""
        from reviewer.export.columnar import Coded

        arrays = []
        for field, cells in zip(self.schema, columns, strict=True):
            if isinstance(cells, Coded):
                arrays.append(cells.array(field.type))
            else:
                arrays.append(cells if cells.type == field.type else cells.cast(field.type))
        if arrays and len(arrays[0]):
            self._writer.write_batch(self._pa.record_batch(arrays, schema=self.schema))

    def close(self) -> None:
        self._writer.close()
