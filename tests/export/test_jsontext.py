"""JSON Lines made from Arrow columns are byte for byte what orjson writes for each row."""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.export.jsontext import json_cells, json_lines

KINDS = {
    "float": (pa.float64(), st.floats(allow_nan=True, allow_infinity=True)),
    "int": (pa.int64(), st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    "text": (pa.string(), st.text()),
    "bool": (pa.bool_(), st.booleans()),
}


def _orjson_cells(values: list[Any]) -> list[str]:
    return [orjson.dumps(v).decode() for v in values]


@settings(max_examples=300)
@given(
    st.sampled_from(sorted(KINDS)).flatmap(
        lambda k: st.tuples(st.just(k), st.lists(st.none() | KINDS[k][1]))
    )
)
def test_each_cell_is_spelled_as_orjson_spells_it(case: tuple[str, list[Any]]) -> None:
    kind, values = case
    assert json_cells(pa.array(values, KINDS[kind][0])).to_pylist() == _orjson_cells(values)


def test_floats_in_every_notation_are_spelled_as_orjson_spells_them() -> None:
    values = [0.0, -0.0, 75.0, 54.6, 0.1 + 0.2, 1e-4, 9.99e-5, 1e-5, 1.5e-7, 5e-324, 1e15, 1e16,
              123456789012345.6, 1.7976931348623157e308, float("inf"), float("nan")]  # fmt: skip
    values += [x * 10.0**e for x in (1.0, 1.2345678901234567, -3.3) for e in range(-12, 24)]
    assert json_cells(pa.array(values, pa.float64())).to_pylist() == _orjson_cells(values)


def test_text_that_needs_escapes_is_spelled_as_orjson_spells_it() -> None:
    values = [
        'say "hi"',
        "back\\slash",
        "nul\x00",
        "\x1f\x7f",
        "é\u2028\u2029",
        "a\r\nb\t",
        "/",
        "",
    ]
    assert json_cells(pa.array(values, pa.string())).to_pylist() == _orjson_cells(values)


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(st.none() | st.text(), st.none() | st.integers(-(2**40), 2**40), st.floats()),
        min_size=1,
    )
)
def test_lines_are_the_rows_as_orjson_writes_them(rows: list[tuple[Any, Any, Any]]) -> None:
    names = ["text", 'quo"ted', "é"]
    kinds = (pa.string(), pa.int64(), pa.float64())
    columns = [pa.array(list(c), t) for c, t in zip(zip(*rows, strict=True), kinds, strict=True)]
    got = bytes(json_lines(names, [json_cells(c) for c in columns]))
    assert got == b"".join(orjson.dumps(dict(zip(names, r, strict=True))) + b"\n" for r in rows)
