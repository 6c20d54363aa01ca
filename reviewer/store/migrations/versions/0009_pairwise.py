"""pairwise batches: a second session per batch item, and preference reviews

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
# Assigned id 0009 chains onto the head of this branch; the coordinator re-chains at merge.
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A pair item shows session_id on the left and pair_session_id on the right; pair_left
    # says which compared value ("A" or "B") is on the left; pair_key is the shared task key.
    # Every existing item is a single item: the new columns stay NULL.
    # On SQLite the columns are added in place, never by copying the table: dropping the old
    # batch_items (foreign keys are on) would cascade-delete every assignment.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE batch_items ADD COLUMN pair_session_id INTEGER"
            " CONSTRAINT fk_batch_items_pair_session_id_sessions REFERENCES sessions (id)"
        )
        op.execute("ALTER TABLE batch_items ADD COLUMN pair_left VARCHAR(1)")
        op.execute("ALTER TABLE batch_items ADD COLUMN pair_key VARCHAR(400)")
    else:
        op.add_column("batch_items", sa.Column("pair_session_id", sa.Integer(), nullable=True))
        op.add_column("batch_items", sa.Column("pair_left", sa.String(length=1), nullable=True))
        op.add_column("batch_items", sa.Column("pair_key", sa.String(length=400), nullable=True))
        op.create_foreign_key(
            op.f("fk_batch_items_pair_session_id_sessions"),
            "batch_items",
            "sessions",
            ["pair_session_id"],
            ["id"],
        )
    op.create_table(
        "preference_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("winner", sa.String(length=10), nullable=True),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active_seconds", sa.Float(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["batch_items.id"],
            name=op.f("fk_preference_reviews_item_id_batch_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preference_reviews")),
        sa.UniqueConstraint("uid", name=op.f("uq_preference_reviews_uid")),
        sa.UniqueConstraint(
            "item_id", "reviewer", name=op.f("uq_preference_reviews_item_id_reviewer")
        ),
    )


def downgrade() -> None:
    op.drop_table("preference_reviews")
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # the batch copy drops batch_items, which cascades to assignments: keep them
        op.execute("CREATE TEMP TABLE keep_assignments AS SELECT * FROM assignments")
    with op.batch_alter_table("batch_items") as batch:
        if not sqlite:  # SQLite's reflection does not name the column's constraint
            batch.drop_constraint(
                op.f("fk_batch_items_pair_session_id_sessions"), type_="foreignkey"
            )
        batch.drop_column("pair_key")
        batch.drop_column("pair_left")
        batch.drop_column("pair_session_id")
    if sqlite:
        op.execute("DELETE FROM assignments")
        op.execute("INSERT INTO assignments SELECT * FROM keep_assignments")
        op.execute("DROP TABLE keep_assignments")
