"""Audit entries as records (what results files carry and ``reviewer audit`` prints)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.pack import AuditRecord
from reviewer.store.tables import AuditEntry, SessionRow


def audit_record(entry: AuditEntry, session_key: str | None, revision: int | None) -> AuditRecord:
    return AuditRecord(
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        review_uid=entry.review_uid,
        session_key=session_key,
        session_revision=revision,
        before=entry.before,
        after=entry.after,
    )


def _entries() -> Select[AuditEntry, str, int]:
    """Audit entries with the key and revision of their session (None for none)."""
    return select(AuditEntry, SessionRow.session_key, SessionRow.revision).outerjoin(
        SessionRow, SessionRow.id == AuditEntry.session_id
    )


def audit_records_except(s: OrmSession, action: str) -> list[AuditRecord]:
    """Every audit entry but those of ``action``, in the order they were written."""
    rows = s.execute(_entries().where(AuditEntry.action != action).order_by(AuditEntry.id)).all()
    return [audit_record(e, key, rev) for e, key, rev in rows]


def audit_records(
    s: OrmSession, *, session_key: str | None = None, review_uid: str | None = None
) -> list[AuditRecord]:
    """Entries oldest first; only those of one session (every revision) or one review."""
    q = _entries().order_by(AuditEntry.at, AuditEntry.id)
    if session_key is not None:
        q = q.where(SessionRow.session_key == session_key)
    if review_uid is not None:
        q = q.where(AuditEntry.review_uid == review_uid)
    return [audit_record(e, key, rev) for e, key, rev in s.execute(q)]
