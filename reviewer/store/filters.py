"""Turning a parsed ``--where`` filter into SQL over sessions, with bound parameters only.

Other features call the two public functions::

    spec = parse_where("version=2.0 and feedback<0")    # FilterError on bad text
    q = apply_filter(select(SessionRow.id), spec)        # latest revisions that match

Every value reaches the database as a bound parameter; no text of the filter is ever pasted
into SQL. The language itself is described in :mod:`reviewer.domain.filters`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)

from reviewer.domain.filters import Clause, FilterError, FilterSpec
from reviewer.domain.filters import parse_where as parse_where
from reviewer.store.tables import SessionRow, SessionScore, SessionTag

__all__ = ["FilterError", "FilterSpec", "apply_filter", "condition", "parse_where"]

Q = TypeVar("Q", bound=Select[Any])

_COLUMNS: dict[str, Any] = {
    "agent": SessionRow.agent_name,
    "version": SessionRow.agent_version,
    "model": SessionRow.model,
    "feedback": SessionRow.user_feedback,
    "steps": SessionRow.step_count,
    "tool_calls": SessionRow.tool_call_count,
    "cost": SessionRow.cost_usd,
    "latency_ms": SessionRow.latency_ms,
    "started": SessionRow.started_at,
}

_FLAGS: dict[str, ColumnElement[bool]] = {
    "tool_error": SessionRow.has_tool_error.is_(True),
    "escalated": SessionRow.escalated.is_(True),
    "negative_feedback": SessionRow.user_feedback < 0,
    "task_success": SessionRow.task_success.is_(True),
}


def _positive(column: Any, c: Clause) -> ColumnElement[bool]:
    """The condition on ``column`` for every op but the negated ones (!=, !~)."""
    op = c.op
    if op in ("=", "!="):
        return column == c.values[0] if len(c.values) == 1 else column.in_(c.values)
    if op in ("~", "!~"):
        return or_(*(column.icontains(v, autoescape=True) for v in c.values))
    if op in ("range", "between"):
        parts = []
        if c.low is not None:
            parts.append(column >= c.low)
        if c.high is not None:
            parts.append(column <= c.high if op == "range" else column < c.high)
        return and_(true(), *parts)
    (value,) = c.values
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    raise ValueError(f"operator {op!r} has no SQL form")


def condition(c: Clause) -> ColumnElement[bool]:
    """The SQL condition of one clause, over ``sessions`` (correlated where it needs to be)."""
    negated = c.op in ("!=", "!~", "not")
    if c.op in ("flag", "not"):
        met = _FLAGS[c.field]
    elif c.field == "tag":
        met = exists().where(SessionTag.session_id == SessionRow.id, _positive(SessionTag.tag, c))
    elif (judge := c.judge) is not None:
        met = exists().where(
            SessionScore.session_id == SessionRow.id,
            SessionScore.name == judge,
            _positive(SessionScore.value, c),
        )
    else:
        met = _positive(_COLUMNS[c.field], c)
    if not negated:
        return met
    # The opposite is exactly what ``met`` leaves out, sessions without the field included
    # (SQL's NOT would drop them: NOT NULL is NULL).
    return not_(func.coalesce(met, false(), type_=Boolean))


def apply_filter(q: Q, spec: FilterSpec, *, latest_only: bool = True) -> Q:
    """``q`` (a select involving ``sessions``) narrowed to the sessions ``spec`` lets through.

    Only the latest revision of each session passes unless ``latest_only`` is False.
    """
    if latest_only:
        q = q.where(SessionRow.is_latest.is_(True))
    for c in spec.clauses:
        q = q.where(condition(c))
    return q


def latest_session_ids(spec: FilterSpec) -> Select[Any]:
    """Ids of the latest revision of every session matching ``spec``, in id order."""
    return apply_filter(select(SessionRow.id), spec).order_by(SessionRow.id)
