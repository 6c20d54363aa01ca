"""Pieces the connection tests share."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from reviewer.domain.review import Review, ReviewStatus
from reviewer.domain.session import Session
from reviewer.resources import default_rubric
from reviewer.store.reviews import save_review
from reviewer.store.sessions import latest_sessions
from reviewer.store.workspace import Workspace


def latest(ws: Workspace, key: str) -> Session:
    """The latest revision of the session ``key``."""
    with ws.read() as s:
        return latest_sessions(s, [key])[key]


def revise(ws: Workspace, review: Review, **values: Any) -> Review:
    """``review`` saved again five minutes later with these values changed."""
    changed = review.model_copy(
        update={
            "values": {**review.values, **values},
            "updated_at": review.updated_at + timedelta(minutes=5),
        }
    )
    with ws.write() as s:
        save_review(s, changed, default_rubric())
    return changed


def reopen(ws: Workspace, review: Review) -> Review:
    """``review`` taken back to a draft (what reopening a submitted review does)."""
    draft = review.model_copy(
        update={
            "status": ReviewStatus.DRAFT,
            "submitted_at": None,
            "updated_at": review.updated_at + timedelta(minutes=10),
        }
    )
    with ws.write() as s:
        save_review(s, draft, default_rubric())
    return draft
