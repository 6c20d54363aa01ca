from __future__ import annotations

import pytest
from sqlalchemy import select

from reviewer.domain.review import Review, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.importing import store_sessions
from reviewer.store.reviews import ReviewStoreError, get_review, save_review
from reviewer.store.tables import AuditEntry, ReviewTag
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session


def _review(**kw: object) -> Review:
    base: dict[str, object] = dict(
        session_key="s-1",
        reviewer="ana",
        rubric_name="default",
        rubric_version=1,
        values={"quality": "2", "failure_categories": ["looped"]},
    )
    base.update(kw)
    return Review.model_validate(base)


def test_saving_the_same_review_twice_logs_once(workspace: Workspace, rubric: Rubric) -> None:
    store_sessions(workspace, [make_session()])
    r = _review()
    with workspace.write() as s:
        save_review(s, r, rubric)
    with workspace.write() as s:
        save_review(s, r, rubric)
    with workspace.read() as s:
        actions = s.scalars(select(AuditEntry.action)).all()
        assert actions == ["create"]
        assert s.scalars(select(ReviewTag.tag)).all() == ["looped"]


def test_submit_is_audited_with_before_and_after(workspace: Workspace, rubric: Rubric) -> None:
    store_sessions(workspace, [make_session()])
    r = _review()
    with workspace.write() as s:
        save_review(s, r, rubric)
    done = r.model_copy(
        update={"status": ReviewStatus.SUBMITTED, "values": {**r.values, "quality": "3"}}
    )
    with workspace.write() as s:
        save_review(s, done, rubric)
    with workspace.read() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last is not None and last.action == "submit"
        assert last.before is not None and last.before["values"]["quality"] == "2"
        assert last.after is not None and last.after["values"]["quality"] == "3"
        stored = get_review(s, r.uid)
        assert stored is not None and stored.submitted_at is not None


def test_values_outside_the_rubric_are_refused(workspace: Workspace, rubric: Rubric) -> None:
    store_sessions(workspace, [make_session()])
    with pytest.raises(ReviewStoreError, match="not one of"), workspace.write() as s:
        save_review(s, _review(values={"quality": "9"}), rubric)
