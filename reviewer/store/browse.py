"""Session lists for views: ids first (cheap even for a million rows), rows on demand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session as OrmSession

from reviewer.store.tables import AssignmentRow, BatchItemRow, SessionRow

Q = TypeVar("Q", bound=Select[Any])


@dataclass(frozen=True)
class SessionFilter:
    """What the session list shows; every field narrows it."""

    text: str | None = None
    agent_version: str | None = None
    model: str | None = None
    has_tool_error: bool | None = None
    negative_feedback: bool | None = None
    latest_only: bool = True


@dataclass(frozen=True)
class SessionSummary:
    """One row of the session list."""

    id: int
    key: str
    revision: int
    agent_name: str | None
    agent_version: str | None
    model: str | None
    started_at: datetime | None
    step_count: int
    tool_call_count: int
    has_tool_error: bool
    user_feedback: float | None
    first_user_text: str | None


_SUMMARY_COLUMNS = (
    SessionRow.id,
    SessionRow.session_key.label("key"),
    SessionRow.revision,
    SessionRow.agent_name,
    SessionRow.agent_version,
    SessionRow.model,
    SessionRow.started_at,
    SessionRow.step_count,
    SessionRow.tool_call_count,
    SessionRow.has_tool_error,
    SessionRow.user_feedback,
    SessionRow.first_user_text,
)


def narrow(q: Q, f: SessionFilter) -> Q:
    """``q`` narrowed to the sessions ``f`` lets through (bound parameters only)."""
    if f.latest_only:
        q = q.where(SessionRow.is_latest.is_(True))
    if f.text:
        like = f"%{f.text}%"
        q = q.where(SessionRow.session_key.ilike(like) | SessionRow.first_user_text.ilike(like))
    if f.agent_version is not None:
        q = q.where(SessionRow.agent_version == f.agent_version)
    if f.model is not None:
        q = q.where(SessionRow.model == f.model)
    if f.has_tool_error is not None:
        q = q.where(SessionRow.has_tool_error.is_(f.has_tool_error))
    if f.negative_feedback:
        q = q.where(SessionRow.user_feedback < 0)
    return q


def session_ids(s: OrmSession, f: SessionFilter) -> list[int]:
    """Ids of matching sessions, newest first."""
    q = narrow(select(SessionRow.id), f).order_by(
        SessionRow.started_at.desc(), SessionRow.id.desc()
    )
    return list(s.scalars(q))


def assigned_session_ids(
    s: OrmSession, batch_id: int, reviewer: str, f: SessionFilter
) -> list[int]:
    """Ids of the sessions of batch ``batch_id`` assigned to ``reviewer`` that ``f`` lets
    through, in batch order."""
    q = (
        select(BatchItemRow.session_id)
        .join(AssignmentRow, AssignmentRow.item_id == BatchItemRow.id)
        .where(BatchItemRow.batch_id == batch_id, AssignmentRow.reviewer == reviewer)
        .order_by(BatchItemRow.position)
    )
    if f != SessionFilter(latest_only=False):  # the sessions only when the filter asks
        q = narrow(q.join(SessionRow, SessionRow.id == BatchItemRow.session_id), f)
    return list(s.scalars(q))


def count_sessions(s: OrmSession, f: SessionFilter) -> int:
    return int(s.scalar(narrow(select(func.count(SessionRow.id)), f)) or 0)


def summaries(s: OrmSession, ids: Sequence[int]) -> list[SessionSummary]:
    """Rows for the given ids, in the given order (missing ids are left out)."""
    rows = s.execute(select(*_SUMMARY_COLUMNS).where(SessionRow.id.in_(list(ids)))).all()
    by_id = {r.id: SessionSummary(**r._asdict()) for r in rows}
    return [by_id[i] for i in ids if i in by_id]
