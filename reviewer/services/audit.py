"""The audit trail: every change to a review, append-only, with who, when, before and after."""

from __future__ import annotations

from reviewer.domain.pack import AuditRecord
from reviewer.store.audit import audit_record as audit_record
from reviewer.store.audit import audit_records
from reviewer.store.sessions import session_key_known
from reviewer.store.workspace import Workspace


def audit_trail(
    ws: Workspace, *, session_key: str | None = None, review_uid: str | None = None
) -> list[AuditRecord]:
    """Entries oldest first; only those of one session (every revision) or one review."""
    with ws.read() as s:
        return audit_records(s, session_key=session_key, review_uid=review_uid)


def session_known(ws: Workspace, session_key: str) -> bool:
    with ws.read() as s:
        return session_key_known(s, session_key)


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
