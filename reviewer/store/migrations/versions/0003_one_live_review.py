"""one live review per reviewer, item and role, enforced by the database

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

Two processes saving the same reviewer's first review of one item could each insert a
review (team mode on PostgreSQL): both were counted. Two partial unique indexes now refuse a
second *live* review (``conflict_of IS NULL``) of the same session revision by the same
reviewer in the same role and batch (one index for reviews in a batch, one for reviews
outside any batch, since a unique index treats NULLs as distinct).

Existing duplicates: nothing is deleted. In each group the first review stored (lowest id:
the one the database would have kept, and the one a merge treats as the main review) stays
live; every later one is kept aside exactly as a merge keeps a second review of the same
item (``conflict_of`` = the uid of the live one, an audited ``conflict`` entry), so it stops
counting in the figures and a lead settles it in Batch → Resolve conflicts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LIVE = "conflict_of IS NULL"
SNAPSHOT = ("status", "values", "details", "failure_step", "status_reason", "active_seconds")

reviews = sa.table(
    "reviews",
    sa.column("id", sa.Integer),
    sa.column("uid", sa.String),
    sa.column("session_id", sa.Integer),
    sa.column("batch_id", sa.Integer),
    sa.column("reviewer", sa.String),
    sa.column("role", sa.String),
    sa.column("conflict_of", sa.String),
    sa.column("status", sa.String),
    sa.column("values", sa.JSON),
    sa.column("details", sa.JSON),
    sa.column("failure_step", sa.Integer),
    sa.column("status_reason", sa.Text),
    sa.column("active_seconds", sa.Float),
)
audit = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("review_uid", sa.String),
    sa.column("session_id", sa.Integer),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)


def _keep_duplicates_aside(conn: sa.Connection) -> None:
    key = (reviews.c.session_id, reviews.c.reviewer, reviews.c.role, reviews.c.batch_id)
    live = reviews.c.conflict_of.is_(None)
    groups = conn.execute(
        sa.select(*key).where(live).group_by(*key).having(sa.func.count() > 1)
    ).all()
    now = datetime.now(UTC)
    for session_id, reviewer, role, batch_id in groups:
        same_batch = (
            reviews.c.batch_id.is_(None) if batch_id is None else reviews.c.batch_id == batch_id
        )
        rows = conn.execute(
            sa.select(reviews)
            .where(
                live,
                reviews.c.session_id == session_id,
                reviews.c.reviewer == reviewer,
                reviews.c.role == role,
                same_batch,
            )
            .order_by(reviews.c.id)
        ).all()
        main, *others = rows
        for row in others:
            conn.execute(
                sa.update(reviews).where(reviews.c.id == row.id).values(conflict_of=main.uid)
            )
            snapshot = {k: getattr(row, k) for k in SNAPSHOT}
            conn.execute(
                sa.insert(audit).values(
                    at=now,
                    actor=reviewer,
                    action="conflict",
                    review_uid=row.uid,
                    session_id=session_id,
                    before=snapshot,
                    after={
                        **snapshot,
                        "reason": "a second live review of the same item by this reviewer,"
                        " kept aside by the upgrade to one live review per reviewer and item",
                    },
                )
            )


def upgrade() -> None:
    _keep_duplicates_aside(op.get_bind())
    op.create_index(
        "uq_reviews_live_in_batch",
        "reviews",
        ["session_id", "reviewer", "role", "batch_id"],
        unique=True,
        sqlite_where=sa.text(f"{LIVE} AND batch_id IS NOT NULL"),
        postgresql_where=sa.text(f"{LIVE} AND batch_id IS NOT NULL"),
    )
    op.create_index(
        "uq_reviews_live_no_batch",
        "reviews",
        ["session_id", "reviewer", "role"],
        unique=True,
        sqlite_where=sa.text(f"{LIVE} AND batch_id IS NULL"),
        postgresql_where=sa.text(f"{LIVE} AND batch_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_reviews_live_no_batch", table_name="reviews")
    op.drop_index("uq_reviews_live_in_batch", table_name="reviews")
