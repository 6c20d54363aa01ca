"""Turning a parsed ``--where`` filter into SQL over sessions, with bound parameters only."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, not_, select

from reviewer.domain.filters import Clause, FilterSpec, parse_when
from reviewer.domain.filters import parse_where as parse_where
from reviewer.store.tables import SessionRow, SessionScore, SessionTag

Q = TypeVar("Q", bound=Select[Any])

_COLUMNS: dict[str, Any] = {
    "agent": SessionRow.agent_name,
    "version": SessionRow.agent_version,
    "model": SessionRow.model,
    "feedback": SessionRow.user_feedback,
    "steps": SessionRow.step_count,
    "cost": SessionRow.cost_usd,
    "latency_ms": SessionRow.latency_ms,
    "started": SessionRow.started_at,
}


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "~":
        return column.contains(value, autoescape=True)
    if op == "range":
        lo, hi = value
        return and_(column >= lo, column <= hi)
    raise ValueError(op)


def condition(c: Clause) -> ColumnElement[bool]:
    """The SQL condition of one clause."""
    if c.op in ("flag", "not"):
        flag: ColumnElement[bool] = {
            "tool_error": SessionRow.has_tool_error.is_(True),
            "escalated": SessionRow.escalated.is_(True),
            "negative_feedback": SessionRow.user_feedback < 0,
        }[c.field]
        return flag if c.op == "flag" else not_(flag)
    if c.field == "tag":
        return exists().where(SessionTag.session_id == SessionRow.id, SessionTag.tag == c.value)
    if c.field.startswith("judge."):
        name = c.field.removeprefix("judge.")
        return exists().where(
            SessionScore.session_id == SessionRow.id,
            SessionScore.name == name,
            _compare(SessionScore.value, c.op, c.value),
        )
    if c.field == "started":
        assert isinstance(c.value, str)
        return _compare(SessionRow.started_at, c.op, parse_when(c.value))
    return _compare(_COLUMNS[c.field], c.op, c.value)


def apply_filter(q: Q, spec: FilterSpec) -> Q:
    """``q`` (a select involving ``sessions``) narrowed to the sessions ``spec`` lets through."""
    for c in spec.clauses:
        q = q.where(condition(c))
    return q


def latest_session_ids(spec: FilterSpec) -> Select[Any]:
    """Ids of the latest revision of every session matching ``spec``, in id order."""
    q = select(SessionRow.id).where(SessionRow.is_latest.is_(True)).order_by(SessionRow.id)
    return apply_filter(q, spec)
