"""JSON Lines from Arrow columns, byte for byte what ``orjson.dumps`` writes for each row.

Each column becomes its cells' JSON text with Arrow kernels; a cell whose text Arrow would
spell differently from orjson (a string with a quote, backslash or control character, a
float in exponent notation, very small, infinite or NaN) is spelled by orjson itself. The
lines are then joined column by column, and the joined buffer is the file's bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from reviewer.export.columnar import text_bytes

_NEEDS_ESCAPE = r'["\\\x00-\x1f]'
"""What orjson escapes in a string (nothing else: not ``/``, DEL or non-ASCII)."""
_NOT_PLAIN_FLOAT = "[eni]"
"""Arrow's float text in exponent notation, or ``nan``/``inf`` (orjson writes null)."""
SMALLEST_PLAIN_FLOAT = 1e-4
"""Below this magnitude orjson may write an exponent where Arrow writes digits."""

_NULL = pa.scalar("null", pa.string())


def _by_orjson(text: pa.Array, values: pa.Array, mask: pa.Array) -> pa.Array:
    """``text`` with the cells where ``mask`` is true spelled by orjson from ``values``."""
    mask = mask.fill_null(False)
    if not pc.any(mask).as_py():
        return text
    odd = values.filter(mask).to_pylist()
    spelled = pa.array([orjson.dumps(v).decode() for v in odd], pa.string())
    return pc.replace_with_mask(text, mask, spelled)


def _plain_text(values: pa.Array) -> bool:
    """Whether no cell of a string array holds a character orjson escapes."""
    _, b = text_bytes(values)
    return not bool(((b < 0x20) | (b == 0x22) | (b == 0x5C)).any())


Part: TypeAlias = str | pa.Array
"""A piece of JSON Lines: text the same in every line, or an array of each line's text."""


def json_parts(values: pa.Array) -> list[Part]:
    """The JSON text of each cell of ``values`` as pieces (see :func:`json_lines`): text
    without nulls or escapes goes as it is between two quotes, the rest as :func:`json_cells`."""
    if pa.types.is_string(values.type) and not values.null_count and _plain_text(values):
        return ['"', values, '"']
    return [json_cells(values)]


def json_cells(values: pa.Array) -> pa.Array:
    """Each cell of ``values`` as its JSON text, exactly as orjson writes that value."""
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        values = values.cast(pa.string())
        text = pc.binary_join_element_wise('"', values, '"', "")
        if not _plain_text(values):
            text = _by_orjson(text, values, pc.match_substring_regex(values, _NEEDS_ESCAPE))
    elif pa.types.is_integer(kind):
        text = values.cast(pa.string())
    elif pa.types.is_floating(kind):
        values = values.cast(pa.float64())
        digits = values.cast(pa.string())
        text = pc.if_else(
            pc.match_substring(digits, "."),
            digits,
            pc.binary_join_element_wise(digits, ".0", ""),
        )
        tiny = pc.and_(pc.not_equal(values, 0.0), pc.less(pc.abs(values), SMALLEST_PLAIN_FLOAT))
        odd = pc.or_(pc.match_substring_regex(digits, _NOT_PLAIN_FLOAT), tiny)
        text = _by_orjson(text, values, odd)
    elif pa.types.is_boolean(kind):
        text = pc.if_else(values, "true", "false")
    else:
        spelled = [orjson.dumps(v).decode() for v in values.to_pylist()]
        return pa.array(spelled, pa.string())
    return text.fill_null(_NULL)


def json_lines(names: Sequence[str], cells: Sequence[pa.Array | Sequence[Part]]) -> Any:
    """The JSON Lines text of the rows whose cells are given, one column per name, each as
    an array of JSON text or as pieces (:func:`json_parts`): ``{"name":cell,...}`` and a
    newline per row, as a buffer."""
    parts: list[Any] = []
    text = ""
    for i, (name, column) in enumerate(zip(names, cells, strict=True)):
        text += ("{" if i == 0 else ",") + orjson.dumps(name).decode() + ":"
        for part in [column] if isinstance(column, pa.Array) else column:
            if isinstance(part, str):
                text += part
            else:
                parts += [text, part] if text else [part]
                text = ""
    parts.append(text + "}\n")
    lines = pc.binary_join_element_wise(*parts, "")
    offsets = np.frombuffer(
        lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4
    )
    data = lines.buffers()[2]
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]
