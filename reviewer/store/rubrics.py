"""Rubric repository: rubrics are immutable once stored; editing makes a new version."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from reviewer.domain.rubric import Rubric
from reviewer.store.tables import RubricRow


def _definition(rubric: Rubric) -> dict[str, object]:
    return rubric.model_dump(mode="json")


def store_rubric(s: OrmSession, rubric: Rubric) -> tuple[int, Rubric]:
    """Store ``rubric``; return its row id and the rubric as stored.

    The same content as an existing version reuses that version. Different content under a
    name that exists becomes the next version, whatever version number the file carried.
    """
    rows = s.scalars(
        select(RubricRow).where(RubricRow.name == rubric.name).order_by(RubricRow.version)
    ).all()
    key = rubric.content_key()
    for row in rows:
        stored = Rubric.model_validate(row.definition)
        if stored.content_key() == key:
            return row.id, stored
    version = rows[-1].version + 1 if rows else rubric.version
    stored = rubric.model_copy(update={"version": version})
    row = RubricRow(
        name=stored.name,
        version=version,
        definition=_definition(stored),
        created_at=datetime.now(UTC),
    )
    s.add(row)
    s.flush()
    return row.id, stored


def get_rubric(s: OrmSession, rubric_id: int) -> Rubric:
    row = s.get(RubricRow, rubric_id)
    if row is None:
        raise KeyError(f"no rubric with id {rubric_id}")
    return Rubric.model_validate(row.definition)


def find_rubric(s: OrmSession, name: str, version: int | None = None) -> tuple[int, Rubric] | None:
    """A rubric by name and version (the latest version when none is given)."""
    q = select(RubricRow).where(RubricRow.name == name)
    if version is None:
        q = q.order_by(RubricRow.version.desc()).limit(1)
    else:
        q = q.where(RubricRow.version == version)
    row = s.scalars(q).first()
    return (row.id, Rubric.model_validate(row.definition)) if row else None
