"""Audit entries as records (what results files carry and ``reviewer audit`` prints)."""

from __future__ import annotations

from sqlalchemy import select
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


def audit_records_except(s: OrmSession, action: str) -> list[AuditRecord]:
    """Every audit entry but those of ``action``, in the order they were written."""
    rows = s.execute(
        select(AuditEntry, SessionRow.session_key, SessionRow.revision)
        .outerjoin(SessionRow, SessionRow.id == AuditEntry.session_id)
        .where(AuditEntry.action != action)
        .order_by(AuditEntry.id)
    ).all()
    return [audit_record(e, key, rev) for e, key, rev in rows]
