"""Building workspaces with known review figures for the analytics tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reviewer.domain.batch import Batch, SamplingSpec
from reviewer.domain.review import Review, ReviewRole, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.batches import create_batch
from reviewer.services.importing import store_sessions
from reviewer.store.reviews import save_review
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session


def sessions(ws: Workspace, versions: Sequence[str], *, judge: Sequence[float] = ()) -> None:
    """Sessions s-000, s-001, … of the given agent versions (and helpfulness judge scores)."""
    made = []
    for i, v in enumerate(versions):
        s = make_session(f"s-{i:03d}", version=v, text=f"question {i}")
        if i < len(judge):
            s.signals.judge_scores = {"helpfulness": judge[i]}
        made.append(s)
    store_sessions(ws, made)


def batch(ws: Workspace, name: str, **spec: Any) -> Batch:
    return create_batch(ws, name, SamplingSpec(**spec))


def queue(b: Batch, reviewer: str) -> list[str]:
    """Session keys of ``reviewer``'s items, in batch order."""
    return [i.session_key for i in b.items if reviewer in i.reviewers]


def label(
    ws: Workspace,
    rubric: Rubric,
    key: str,
    reviewer: str,
    *,
    batch: str | None = None,
    status: str = "submitted",
    quality: str = "4",
    correctness: str = "correct",
    tags: Sequence[str] = (),
    active: float = 60.0,
    role: ReviewRole = ReviewRole.REVIEWER,
) -> None:
    values: dict[str, Any] = {
        "quality": quality,
        "correctness": correctness,
        "policy": "compliant",
        "failure_categories": list(tags),
    }
    with ws.write() as s:
        save_review(
            s,
            Review(
                session_key=key,
                batch=batch,
                reviewer=reviewer,
                role=role,
                rubric_name=rubric.name,
                rubric_version=rubric.version,
                values=values,
                status=ReviewStatus(status),
                status_reason=None if status in ("submitted", "draft") else "because",
                active_seconds=active,
            ),
            rubric,
        )
