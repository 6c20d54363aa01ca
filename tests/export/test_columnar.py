"""Review rows shaped column by column are the rows shaped one by one, in every table format."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.domain.rubric import Dimension, DimensionKind, Option
from reviewer.export.columnar import RECORD_TYPES, review_columns
from reviewer.export.columns import LabelPlan
from reviewer.export.rows import RECORD, ReviewShaper
from reviewer.export.tables import CsvWriter, JsonlWriter, ParquetWriter
from reviewer.resources import default_rubric

BASE = default_rubric()
NEWER = BASE.model_copy(
    update={
        "version": 2,
        "dimensions": [
            Dimension(
                name="tone",
                label="Tone",
                kind=DimensionKind.ORDINAL,
                options=[Option(value=v, label=v) for v in ("0.5", "1", "1.5")],
            ),
            *BASE.dimensions,
        ],
    }
)
PLAN = LabelPlan.from_rubrics({1: BASE, 2: NEWER})
NAMES = ["quality", "correctness", "policy", "failure_categories", "rationale",
         "corrected_response", "tone", "other"]  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
labels = st.dictionaries(
    st.sampled_from(NAMES),
    json_values | st.sampled_from(["5", "4.0", "correct", "0.5", "=1+1", "  "]),
)
texts = (
    st.none() | st.text() | st.sampled_from(["=cmd", "-1", "jane@example.com", "+44 20 7946 0958"])
)
times = st.none() | st.sampled_from(["2026-10-02T09:00:00.000000Z", "2026-10-20T10:47:00.123456Z"])


@st.composite
def records(draw: st.DrawFn) -> tuple[Any, ...]:
    fields = {
        "uid": draw(st.text(min_size=1)),
        "session_key": draw(st.text()),
        "revision": draw(st.integers(1, 3)),
        "batch_id": draw(st.none() | st.integers(1, 3)),
        "reviewer": draw(st.text()),
        "role": draw(st.sampled_from(["reviewer", "adjudicator"])),
        "status": draw(st.sampled_from(["submitted", "draft"])),
        "status_reason": draw(texts),
        "rubric_id": draw(st.sampled_from([1, 2])),
        "values": orjson.dumps(draw(labels)).decode(),
        "details": orjson.dumps(draw(st.dictionaries(st.sampled_from(NAMES), texts))).decode(),
        "failure_step": draw(st.none() | st.integers(0, 2**40)),
        "started_at": draw(times),
        "submitted_at": draw(times),
        "updated_at": draw(times),
        "active_seconds": draw(st.floats(allow_nan=False) | st.sampled_from([75.5, 0.1 + 0.2])),
        "simulated": draw(st.sampled_from([0, 1])),
        "origin": draw(st.sampled_from(["local", "pack:1"])),
        "conflict_of": draw(st.none() | st.text(max_size=4)),
        "agent_name": draw(texts),
        "agent_version": draw(texts),
        "model": draw(texts),
        "session_started_at": draw(times),
        "source_format": draw(st.sampled_from(["canonical", "otlp"])),
        "session_db_id": draw(st.integers(1, 10)),
    }
    return tuple(fields[name] for name in RECORD)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=12), st.booleans())
def test_columns_write_the_bytes_rows_write(recs: list[tuple[Any, ...]], redact: bool) -> None:
    batches = {1: "week-1", 2: "=week-2"}
    rows = ReviewShaper(PLAN, redact=redact, iso_times=True, batch_names=batches).rows(recs)
    table = pa.table(
        {n: pa.array([r[i] for r in recs], RECORD_TYPES[n]) for i, n in enumerate(RECORD)}
    )
    shaper = ReviewShaper(PLAN, redact=redact, iso_times=True, batch_names=batches)
    columns = review_columns(shaper, table)
    plan_columns = PLAN.review_columns()
    for make in (
        lambda f: CsvWriter(f, plan_columns),
        lambda f: CsvWriter(f, plan_columns, neutralise_formulas=False),
        lambda f: JsonlWriter(f, plan_columns),
        lambda f: ParquetWriter(f, plan_columns),
    ):
        by_rows = _outcome(make, lambda w: w.write(rows))
        by_columns = _outcome(make, lambda w: w.write_columns(columns))
        assert by_columns == by_rows, make(io.BytesIO()).__class__.__name__


def _outcome(make: Any, write: Any) -> tuple[Any, ...]:
    """The bytes written and the over-long cells counted, or the error raised (a label
    value too large for 64 bits fails either way: Arrow and orjson refuse it)."""
    out = io.BytesIO()
    writer = make(out)
    try:
        write(writer)
        writer.close()
    except (OverflowError, TypeError) as exc:
        return (type(exc),)
    return out.getvalue(), getattr(writer, "long_cells", None)
