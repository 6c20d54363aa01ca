"""Review records read from SQLite as one line of text each, turned into columns by Arrow.

Python's sqlite3 makes a Python object of every cell it hands out, holding the GIL: for an
export of hundreds of thousands of reviews that was most of the reading. Here SQLite writes
each record as one line instead — ``printf`` with ``%Q`` for every field (text in single
quotes with quotes doubled, NULL bare) and ``quote()`` for floats (digits that read back
as the same double) — and Arrow's CSV reader makes typed columns of a chunk of lines. Both
run without the GIL, so they overlap with shaping and writing the chunk before.

``%Q`` stops at a NUL character, so every line ends with a flag set when one of its text
fields holds one. A chunk with a flag set, or with a cell that does not read as its
field's type (a value the app never stores), raises :class:`PlainReadNeeded`: the caller
then reads the plain way.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import LargeBinary, Select, bindparam, cast, func, literal, or_, select
from sqlalchemy.engine import Connection

__all__ = ["LineReader", "PlainReadNeeded", "line_of"]

NULS = "nuls"
"""The name of the extra last field: 1 when a text field of the line holds a NUL."""
ROW_ID = "row_id"
"""The name of the field before it: the id the chunk's lines were asked for by."""


class PlainReadNeeded(Exception):
    """These records cannot travel as lines exactly; read them as plain rows."""


class LineChunk:
    """The lines of a chunk of records, as read; :meth:`table` parses them."""

    def __init__(self, reader: LineReader, data: bytes, ids: list[int]) -> None:
        self.reader = reader
        self.data = data
        self.ids = ids
        self.sessions = 0
        """Sessions whose first record is in this chunk (the caller counts them)."""

    def __len__(self) -> int:
        return len(self.ids)

    def table(self) -> Any:
        """The records as an Arrow table, in the order their ids were asked for."""
        return self.reader.parse(self.data, self.ids)


def line_of(fields: Sequence[Any], kinds: Sequence[str]) -> Any:
    """One SQL expression: the record whose field expressions and kinds (``string``,
    ``int`` or ``float``) are given, as a line of text ending with the NUL flag."""
    specs: list[str] = []
    args: list[Any] = []
    nuls: list[Any] = []
    for field, kind in zip(fields, kinds, strict=True):
        if kind == "float":
            specs.append("%s")
            args.append(func.quote(field))
        else:
            specs.append("%Q")
            args.append(field)
        if kind == "string":
            nuls.append(func.instr(field, func.char(0)))
    specs.append("%d")
    # OR, not +: a NULL field makes a sum NULL, but leaves OR true when another field is.
    args.append(func.coalesce(or_(*nuls), 0) if nuls else literal(0))
    return func.printf(",".join(specs), *args)


class LineReader:
    """Reads the records of a chunk of ids, as lines, into an Arrow table in ids order.

    ``source(query, ids)`` gives ``query`` the FROM of ``fields``, starting with the
    table of the chunk's ids (column ``value``) joined to ``row_id``, the id column the
    chunks are asked by; ``times`` are text fields stored as SQLite keeps UTC
    (``YYYY-MM-DD HH:MM:SS.ffffff``), handed out as ISO-8601 (``…T…Z``).
    """

    def __init__(
        self,
        fields: Sequence[Any],
        names: Sequence[str],
        kinds: dict[str, str],
        types: dict[str, Any],
        *,
        source: Callable[[Select[Any], Any], Select[Any]],
        row_id: Any,
        times: Sequence[str] = (),
    ) -> None:
        self.names = [*names, ROW_ID, NULS]
        ids = func.json_each(bindparam("ids")).table_valued("value")
        line = line_of([*fields, row_id], [*(kinds[n] for n in names), "int"])
        # All the chunk's lines in one value: SQLite makes them in one step, without the
        # GIL, instead of handing back (and taking the GIL for) one row at a time. Driven by
        # the ids, they come in their order; parse() checks, and puts them in it if not.
        lines = cast(func.group_concat(line, func.char(10)), LargeBinary)
        self.query = source(select(lines), ids)
        import pyarrow as pa

        self.types = {**types, ROW_ID: pa.int64(), NULS: pa.int64()}
        self.times = list(times)

    def bind(self, conn: Connection) -> Callable[[list[int]], LineChunk]:
        """The reader of chunks on ``conn`` (its DBAPI connection, in its transaction)."""
        compiled = self.query.compile(dialect=conn.dialect)
        sql = str(compiled)
        order = compiled.positiontup or []
        fixed = compiled.params
        dbapi = conn.connection.driver_connection
        assert dbapi is not None

        def read(ids: list[int]) -> LineChunk:
            # Text, not bytes: SQLite 3.45+ reads a BLOB given to json_each() as JSONB.
            params = [orjson.dumps(ids).decode() if n == "ids" else fixed[n] for n in order]
            try:
                (data,) = dbapi.execute(sql, params).fetchone()
            except sqlite3.DataError as exc:  # more than SQLite puts in one value
                raise PlainReadNeeded(str(exc)) from None
            return LineChunk(self, data or b"", ids)

        return read

    def parse(self, data: bytes, ids: list[int]) -> Any:
        """The table of the lines in ``data`` in the order of ``ids`` (their ``row_id``s)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pa_csv

        try:
            table = pa_csv.read_csv(
                io.BytesIO(data),
                read_options=pa_csv.ReadOptions(
                    column_names=self.names, use_threads=False, block_size=len(data) + 1
                ),
                parse_options=pa_csv.ParseOptions(
                    quote_char="'", double_quote=True, escape_char=False, newlines_in_values=True
                ),
                convert_options=pa_csv.ConvertOptions(
                    column_types=self.types,
                    null_values=["NULL"],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as exc:
            raise PlainReadNeeded(str(exc)) from None
        if table.num_rows != len(ids):
            raise PlainReadNeeded(f"{table.num_rows} records read for {len(ids)} ids")
        if pc.any(pc.not_equal(table.column(NULS), 0)).as_py():
            raise PlainReadNeeded("text with a NUL character")
        wanted = pa.array(ids, pa.int64())
        got = table.column(ROW_ID).combine_chunks()
        if not got.equals(wanted):
            where = pc.index_in(wanted, value_set=got)
            if where.null_count:
                raise PlainReadNeeded("a record asked for was not read")
            table = table.take(where)
        for name in self.times:
            i = table.column_names.index(name)
            iso = pc.binary_join_element_wise(
                pc.replace_substring(table.column(i), " ", "T"), "Z", ""
            )
            table = table.set_column(i, name, iso)
        return table.drop_columns([ROW_ID, NULS])
