from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from reviewer.domain.review import Review, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.importing import store_sessions
from reviewer.services.reviewing import prepare_saving, store
from reviewer.services.workspaces import init_workspace
from reviewer.store.reviews import ConflictError, ReviewStoreError, get_review, save_review
from reviewer.store.tables import AuditEntry, ReviewRow, ReviewTag
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session
from tests.helpers.workspaces import BOTH, sqlite_or_postgres
from tests.services.analytics_helpers import batch


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


@pytest.fixture(params=BOTH)
def team_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from sqlite_or_postgres(request, tmp_path)


def test_readying_a_queue_for_saves_writes_nothing_and_saves_work_after(
    team_url: str, rubric: Rubric
) -> None:
    ws = init_workspace(team_url)
    try:
        store_sessions(ws, [make_session(f"s-{i}") for i in range(2)])
        batch(ws, "b", size=2, reviewers=["ana"], seed=1)
        draft = _review(session_key="s-0", batch="b")
        prepare_saving(ws, draft, rubric)
        with ws.read() as s:
            assert s.scalars(select(ReviewRow.uid)).all() == []
            assert s.scalars(select(AuditEntry.action)).all() == []

        first = store(ws, draft, rubric)
        submitted = first.review.model_copy(update={"status": ReviewStatus.SUBMITTED})
        second = store(ws, submitted, rubric, expected_version=first.version)
        assert (first.version, second.version) == (1, 2)
        with pytest.raises(ConflictError):  # a stale version is still refused
            store(
                ws,
                draft.model_copy(update={"values": {"quality": "1"}}),
                rubric,
                expected_version=1,
            )
        with ws.read() as s:
            assert s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all() == [
                "create",
                "submit",
            ]
            assert s.scalars(select(ReviewTag.tag)).all() == ["looped"]
    finally:
        ws.close()


def test_tags_follow_the_failure_categories_of_each_save(team_url: str, rubric: Rubric) -> None:
    ws = init_workspace(team_url)
    try:
        store_sessions(ws, [make_session()])
        review = _review(values={"quality": "2", "failure_categories": ["looped", "other"]})
        version = None
        for categories in (["looped", "other"], ["looped", "unsafe"], ["unsafe"], [], ["other"]):
            values = {"quality": "2", "failure_categories": categories}
            version = store(
                ws, review.model_copy(update={"values": values}), rubric, expected_version=version
            ).version
            with ws.read() as s:
                assert sorted(s.scalars(select(ReviewTag.tag)).all()) == sorted(categories)
        with ws.read() as s:
            assert len(s.scalars(select(AuditEntry.id)).all()) == 5
    finally:
        ws.close()
