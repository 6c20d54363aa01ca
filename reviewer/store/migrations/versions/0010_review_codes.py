"""each review's categorical values as one integer and its failure flag, for the analytics

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

An index of the reviews of leads (gold labels, adjudications), which the analytics read
apart. ``reviews.option_codes`` and ``reviews.failed`` are what the analytics read instead of
extracting every review's values from JSON and looking up its tags (a tenth of the time at
200,000 reviews). Saving a review writes them; this revision fills them in for the reviews
already stored. The coding is copied here as it is at this revision (see
``reviewer.domain.option_codes``; tests/store/test_review_codes.py checks they agree): a
review whose values do not fit its rubric keeps none, and the analytics read its values.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_LIMIT = 1 << 49
_CHUNK = 5_000


def _coder(definition: Any) -> tuple[set[str], list[tuple[str, str, list[str]]]] | None:
    """The dimension names of a rubric definition and its coded dimensions (name, kind,
    options), or None when it cannot code (too many combinations)."""
    if isinstance(definition, str):
        definition = json.loads(definition)
    dims = definition.get("dimensions") or []
    coded = []
    weight = 1
    for d in dims:
        kind = d.get("kind")
        if kind == "boolean":
            options = ["false", "true"]
        elif kind in ("ordinal", "choice"):
            options = [o["value"] for o in d.get("options") or []]
        else:
            continue
        coded.append((d["name"], kind, options))
        weight *= len(options) + 1
    if weight > _LIMIT:
        return None
    return {d["name"] for d in dims}, coded


def _encode(coder: tuple[set[str], list[tuple[str, str, list[str]]]], values: Any) -> int | None:
    names, coded = coder
    if isinstance(values, str):
        values = json.loads(values)
    if not isinstance(values, dict) or any(k not in names for k in values):
        return None
    code, weight = 0, 1
    for name, kind, options in coded:
        v = values.get(name)
        if v is None:
            digit = 0
        elif kind == "boolean":
            if not isinstance(v, bool):
                return None
            digit = 2 if v else 1
        elif isinstance(v, str) and v in options:
            digit = 1 + options.index(v)
        else:
            return None
        code += weight * digit
        weight *= len(options) + 1
    return code


def upgrade() -> None:
    # plain ALTER TABLE, also on SQLite: a copy of the table (batch mode) would take the
    # failure tags with it (ON DELETE CASCADE while foreign keys are on)
    op.add_column("reviews", sa.Column("option_codes", sa.BigInteger(), nullable=True))
    op.add_column("reviews", sa.Column("failed", sa.Boolean(), nullable=True))
    # the few reviews of leads, which the analytics read apart
    lead = sa.text("role <> 'reviewer'")
    op.create_index(
        "ix_reviews_lead", "reviews", ["role"], sqlite_where=lead, postgresql_where=lead
    )
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE reviews SET failed = EXISTS"
            " (SELECT 1 FROM review_tags WHERE review_tags.review_id = reviews.id)"
        )
    )
    coders = {
        int(i): _coder(d) for i, d in conn.execute(sa.text("SELECT id, definition FROM rubrics"))
    }
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                'SELECT id, rubric_id, "values" FROM reviews WHERE id > :last ORDER BY id LIMIT :n'
            ),
            {"last": last, "n": _CHUNK},
        ).all()
        if not rows:
            return
        last = int(rows[-1][0])
        coded = []
        for review_id, rubric_id, values in rows:
            coder = coders.get(int(rubric_id))
            code = _encode(coder, values) if coder is not None else None
            if code is not None:
                coded.append({"id": int(review_id), "code": code})
        if coded:
            conn.execute(sa.text("UPDATE reviews SET option_codes = :code WHERE id = :id"), coded)


def downgrade() -> None:
    op.drop_index("ix_reviews_lead", table_name="reviews")
    op.drop_column("reviews", "failed")
    op.drop_column("reviews", "option_codes")
