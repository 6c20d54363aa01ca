"""Column plans of the label tables: fixed columns plus one per rubric dimension.

Every dimension becomes a ``label_<name>`` column except three that have columns of their
own: the taxonomy (the first multi-select) is ``failure_tags``, the first text dimension is
``rationale`` and the corrected-response dimension is ``corrected_response``. Choice
dimensions with a free-text detail get a ``detail_<name>`` column. The plan is the union
over every rubric version the exported reviews used, in the order the newest rubric lists
its dimensions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reviewer.domain.rubric import Dimension, DimensionKind, Rubric

ColumnKind = Literal["string", "int", "float", "bool", "list", "timestamp", "reviews"]

LABEL_PREFIX = "label_"
DETAIL_PREFIX = "detail_"


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    text: bool = False
    """Free text a reviewer wrote (redacted with --redact-pii)."""
    safe: bool = False
    """Text we generate ourselves that never starts like a spreadsheet formula (uids,
    names checked against a pattern, enumerations): CSV skips the check."""


@dataclass(frozen=True)
class LabelColumn:
    dimension: str
    kind: ColumnKind
    dim_kind: DimensionKind
    text: bool

    @property
    def name(self) -> str:
        return LABEL_PREFIX + self.dimension


REVIEW_HEAD = (
    Column("review_uid", "string", safe=True),
    Column("session_id", "string"),
    Column("session_revision", "int"),
    Column("batch", "string"),
    Column("reviewer", "string"),
    Column("role", "string", safe=True),
    Column("status", "string", safe=True),
    Column("status_reason", "string", text=True),
    Column("rubric_name", "string", safe=True),
    Column("rubric_version", "int"),
)
LABEL_TAIL = (
    Column("failure_tags", "list"),
    Column("failure_step", "int"),
    Column("rationale", "string", text=True),
    Column("corrected_response", "string", text=True),
)
SESSION_FACTS = (
    Column("agent_name", "string"),
    Column("agent_version", "string"),
    Column("model", "string"),
    Column("session_started_at", "timestamp"),
    Column("source_format", "string", safe=True),
)
"""What every review and session row tells of the session it is about."""
REVIEW_TAIL = (
    Column("started_at", "timestamp"),
    Column("submitted_at", "timestamp"),
    Column("updated_at", "timestamp"),
    Column("active_seconds", "float"),
    Column("simulated", "bool"),
    Column("origin", "string", safe=True),
    Column("conflict_of", "string", safe=True),
    *SESSION_FACTS,
)
SESSION_HEAD = (
    Column("session_id", "string"),
    Column("session_revision", "int"),
    Column("batches", "list"),
    *SESSION_FACTS,
    Column("rubric_name", "string", safe=True),
    Column("rubric_version", "int"),
    Column("label_source", "string", safe=True),
    Column("reviewer_count", "int"),
    Column("unanimous", "bool"),
)
SESSION_TAIL = (
    Column("last_submitted_at", "timestamp"),
    Column("reviews", "reviews"),
)
NESTED_HEAD = (
    Column("review_uid", "string", safe=True),
    Column("reviewer", "string"),
    Column("role", "string", safe=True),
    Column("status", "string", safe=True),
)
NESTED_TAIL = (Column("submitted_at", "timestamp"), Column("active_seconds", "float"))

_KIND_OF: dict[DimensionKind, ColumnKind] = {
    DimensionKind.CHOICE: "string",
    DimensionKind.BOOLEAN: "bool",
    DimensionKind.MULTI_SELECT: "list",
    DimensionKind.TEXT: "string",
}


def _ordinal_kind(dim: Dimension) -> ColumnKind:
    return "int" if all(float(o.value).is_integer() for o in dim.options) else "float"


def _merge(a: ColumnKind, b: ColumnKind) -> ColumnKind:
    if a == b:
        return a
    if {a, b} == {"int", "float"}:
        return "float"
    return "string"  # the same name meant different things in two rubric versions


def _number(value: Any, as_int: bool) -> int | float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None  # "inf", "NaN": no rubric value, and no number a table can hold
    return int(x) if as_int and x.is_integer() else x


def _converter(kind: ColumnKind) -> Callable[[Any], Any]:
    if kind == "int":
        return lambda v: _number(v, True)
    if kind == "float":
        return lambda v: _number(v, False)
    if kind == "bool":
        return lambda v: v if isinstance(v, bool) else None
    if kind == "list":
        return lambda v: [t for t in v if isinstance(t, str)] if isinstance(v, list) else None
    import orjson

    return lambda v: v if isinstance(v, str) else orjson.dumps(v).decode()


@dataclass(frozen=True)
class RubricShaper:
    """Turns one rubric version's stored values into the plan's label cells."""

    name: str
    version: int
    labels: tuple[tuple[int, str, Callable[[Any], Any]], ...]
    """(index in the plan's labels, dimension name, converter)"""
    details: tuple[tuple[int, str], ...]
    taxonomy: str | None
    rationale: str | None
    corrected: str | None


@dataclass
class LabelPlan:
    labels: list[LabelColumn] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    shapers: dict[int, RubricShaper] = field(default_factory=dict)

    @classmethod
    def from_rubrics(cls, rubrics: dict[int, Rubric]) -> LabelPlan:
        """The plan for reviews made with these rubric versions (keyed by rubric id)."""
        plan = cls()
        order = sorted(rubrics, key=lambda k: (rubrics[k].name, -rubrics[k].version))
        kinds: dict[str, ColumnKind] = {}
        dim_kinds: dict[str, DimensionKind] = {}
        special = {rid: _special(rubrics[rid]) for rid in order}
        for rid in order:
            for dim in rubrics[rid].dimensions:
                if dim.name in special[rid]:
                    continue
                kind = (
                    _ordinal_kind(dim) if dim.kind is DimensionKind.ORDINAL else _KIND_OF[dim.kind]
                )
                if dim.name not in kinds:
                    kinds[dim.name] = kind
                    dim_kinds[dim.name] = dim.kind
                else:
                    kinds[dim.name] = _merge(kinds[dim.name], kind)
                if dim.detail_label and dim.name not in plan.details:
                    plan.details.append(dim.name)
        plan.labels = [
            LabelColumn(n, kinds[n], dim_kinds[n], dim_kinds[n] is DimensionKind.TEXT)
            for n in kinds
        ]
        index = {c.dimension: i for i, c in enumerate(plan.labels)}
        dindex = {n: i for i, n in enumerate(plan.details)}
        for rid in order:
            rubric = rubrics[rid]
            taxonomy, rationale, corrected = _roles(rubric)
            plan.shapers[rid] = RubricShaper(
                name=rubric.name,
                version=rubric.version,
                labels=tuple(
                    (index[d.name], d.name, _converter(plan.labels[index[d.name]].kind))
                    for d in rubric.dimensions
                    if d.name in index
                ),
                details=tuple(
                    (dindex[d.name], d.name) for d in rubric.dimensions if d.name in dindex
                ),
                taxonomy=taxonomy,
                rationale=rationale,
                corrected=corrected,
            )
        return plan

    def label_columns(self) -> list[Column]:
        return [Column(c.name, c.kind, text=c.text) for c in self.labels] + [
            Column(DETAIL_PREFIX + n, "string", text=True) for n in self.details
        ]

    def review_columns(self) -> list[Column]:
        return [*REVIEW_HEAD, *self.label_columns(), *LABEL_TAIL, *REVIEW_TAIL]

    def nested_columns(self) -> list[Column]:
        return [*NESTED_HEAD, *self.label_columns(), *LABEL_TAIL, *NESTED_TAIL]

    def session_columns(self) -> list[Column]:
        return [*SESSION_HEAD, *self.label_columns(), *LABEL_TAIL, *SESSION_TAIL]

    def columns(self, level: str) -> list[Column]:
        return self.review_columns() if level == "review" else self.session_columns()


def _roles(rubric: Rubric) -> tuple[str | None, str | None, str | None]:
    taxonomy = rubric.taxonomy
    rationale = next((d for d in rubric.dimensions if d.kind is DimensionKind.TEXT), None)
    corrected = rubric.corrected_response
    return (
        taxonomy.name if taxonomy else None,
        rationale.name if rationale else None,
        corrected.name if corrected else None,
    )


def _special(rubric: Rubric) -> set[str]:
    return {n for n in _roles(rubric) if n is not None}


def sort_rubric_versions(rubrics: Sequence[Rubric]) -> list[tuple[str, int]]:
    return sorted({(r.name, r.version) for r in rubrics})
