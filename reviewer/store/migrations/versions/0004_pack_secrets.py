"""packs carry an HMAC secret, their rubric version and the items they were made with

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Packs made before this revision keep no secret (NULL): their results are refused
    # with a message saying to make the reviewer a new pack.
    with op.batch_alter_table("packs") as batch:
        batch.add_column(sa.Column("secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("rubric_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_packs_rubric_id_rubrics"), "rubrics", ["rubric_id"], ["id"]
        )
    op.create_table(
        "pack_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack_row_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack_row_id"],
            ["packs.id"],
            name=op.f("fk_pack_items_pack_row_id_packs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_pack_items_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_items")),
        sa.UniqueConstraint(
            "pack_row_id", "session_id", name=op.f("uq_pack_items_pack_row_id_session_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("pack_items")
    with op.batch_alter_table("packs") as batch:
        batch.drop_constraint(op.f("fk_packs_rubric_id_rubrics"), type_="foreignkey")
        batch.drop_column("rubric_id")
        batch.drop_column("secret")
