"""The audit trail: every change to a review, append-only, with who, when, before and after."""

from __future__ import annotations

from sqlalchemy import select

from reviewer.domain.pack import AuditRecord
from reviewer.store.audit import audit_record
from reviewer.store.tables import AuditEntry, SessionRow
from reviewer.store.workspace import Workspace


def audit_trail(
    ws: Workspace, *, session_key: str | None = None, review_uid: str | None = None
) -> list[AuditRecord]:
    """Entries oldest first; only those of one session (every revision) or one review."""
    q = (
        select(AuditEntry, SessionRow.session_key, SessionRow.revision)
        .outerjoin(SessionRow, SessionRow.id == AuditEntry.session_id)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    if session_key is not None:
        q = q.where(SessionRow.session_key == session_key)
    if review_uid is not None:
        q = q.where(AuditEntry.review_uid == review_uid)
    with ws.read() as s:
        return [audit_record(e, key, rev) for e, key, rev in s.execute(q)]


def session_known(ws: Workspace, session_key: str) -> bool:
    with ws.read() as s:
        return (
            s.scalar(select(SessionRow.id).where(SessionRow.session_key == session_key).limit(1))
            is not None
        )


def describe_change(record: AuditRecord) -> str:
    """One line saying what changed: the status move and the dimensions that differ."""
    before, after = record.before or {}, record.after or {}
    parts = []
    if before.get("status") != after.get("status"):
        parts.append(f"{before.get('status') or '—'} → {after.get('status') or '—'}")
    was, now = before.get("values") or {}, after.get("values") or {}
    changed = sorted(k for k in set(was) | set(now) if was.get(k) != now.get(k))
    if changed:
        parts.append("changed " + ", ".join(changed))
    if after.get("pack_id"):
        parts.append(f"from pack {str(after['pack_id'])[:8]}")
    return "; ".join(parts)
