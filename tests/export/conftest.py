"""A small workspace with reviews of every kind, built through the services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reviewer.domain.batch import SamplingSpec
from reviewer.domain.review import Review, ReviewRole, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Session
from reviewer.resources import default_rubric
from reviewer.schemas import SCHEMA_DIR
from reviewer.services.batches import create_batch
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.store.reviews import save_review
from reviewer.store.workspace import Workspace
from tests.helpers.factories import T0, make_session

FINE = {"quality": "5", "correctness": "correct", "policy": "compliant", "failure_categories": []}
WRONG = {
    "quality": "2",
    "correctness": "incorrect",
    "policy": "compliant",
    "failure_categories": ["answered_incorrectly"],
    "rationale": "Said shipped; the tool said delayed.",
    "corrected_response": "Your order 42 is delayed; it should arrive on Friday.",
}


def add_review(
    ws: Workspace,
    key: str,
    reviewer: str,
    values: dict[str, Any],
    *,
    rubric: Rubric | None = None,
    role: ReviewRole = ReviewRole.REVIEWER,
    status: ReviewStatus = ReviewStatus.SUBMITTED,
    batch: str | None = None,
    minutes: int = 0,
    failure_step: int | None = None,
    details: dict[str, str] | None = None,
    revision: int = 1,
) -> Review:
    rubric = rubric or default_rubric()
    when = T0 + timedelta(days=1, minutes=minutes)
    review = Review(
        session_key=key,
        session_revision=revision,
        batch=batch,
        reviewer=reviewer,
        role=role,
        rubric_name=rubric.name,
        rubric_version=rubric.version,
        values=values,
        details=details or {},
        failure_step=failure_step,
        status=status,
        started_at=when - timedelta(seconds=90),
        updated_at=when,
        submitted_at=when if status is ReviewStatus.SUBMITTED else None,
        active_seconds=75.5,
    )
    with ws.write() as s:
        save_review(s, review, rubric)
    return review


def build(ws: Workspace, sessions: list[Session] | None = None) -> None:
    """Sessions s-1…s-6 and reviews: agreement, disagreement, adjudication, a draft."""
    sessions = sessions or [
        make_session(f"s-{i}", version="1.0" if i < 4 else "2.0") for i in range(1, 7)
    ]
    store_sessions(ws, sessions)
    create_batch(ws, "week-1", SamplingSpec(size=4, seed=1, reviewers=["alice", "bob"]))
    add_review(ws, "s-1", "alice", FINE, minutes=1, batch="week-1")
    add_review(ws, "s-1", "bob", {**FINE, "quality": "4"}, minutes=2, batch="week-1")
    add_review(ws, "s-2", "alice", WRONG, minutes=3, failure_step=4)
    add_review(ws, "s-2", "bob", {**WRONG, "quality": "1"}, minutes=4, failure_step=4)
    add_review(ws, "s-3", "alice", FINE, minutes=5)
    add_review(ws, "s-3", "bob", WRONG, minutes=6, failure_step=2)
    add_review(ws, "s-3", "lead", WRONG, minutes=7, role=ReviewRole.ADJUDICATOR, failure_step=4)
    add_review(ws, "s-4", "carol", FINE, minutes=8, status=ReviewStatus.DRAFT)
    add_review(
        ws,
        "s-5",
        "carol",
        {**FINE, "policy": "minor_violation", "rationale": '=HYPERLINK("http://x")'},
        minutes=9,
        details={"policy": "answer in the customer's language"},
    )


@pytest.fixture
def labelled(tmp_path: Path) -> Iterator[Workspace]:
    ws = init_workspace(tmp_path / "labels.sqlite")
    build(ws)
    yield ws
    ws.close()


def schema(name: str) -> jsonschema.protocols.Validator:
    data = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(data)
    cls.check_schema(data)
    return cls(data, format_checker=cls.FORMAT_CHECKER)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def check_lines(path: Path, schema_name: str) -> list[dict[str, Any]]:
    """Every line of ``path``, each checked against the schema (a failure names the line)."""
    validator = schema(schema_name)
    out = lines(path)
    for n, line in enumerate(out, 1):
        errors = sorted(validator.iter_errors(line), key=lambda e: list(e.path))
        assert not errors, f"line {n}: {errors[0].message} at {list(errors[0].path)}"
    return out
