"""connections to tracing systems: pull cursors, pulled sessions, labels pushed

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables only: correct whatever revision ran before this one.
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("project", sa.String(length=300), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint(
            "source", "url", "project", name=op.f("uq_connections_source_url_project")
        ),
    )
    for table, column, length in (
        ("connection_sessions", "session_key", 512),
        ("sent_labels", "item_key", 300),
    ):
        extra: list[sa.schema.SchemaItem] = (
            [
                sa.Column("digest", sa.String(length=64), nullable=False),
                sa.Column("session_key", sa.String(length=512), nullable=False),
                sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
            ]
            if table == "sent_labels"
            else []
        )
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("connection_id", sa.Integer(), nullable=False),
            sa.Column(column, sa.String(length=length), nullable=False),
            *extra,
            sa.ForeignKeyConstraint(
                ["connection_id"],
                ["connections.id"],
                name=op.f(f"fk_{table}_connection_id_connections"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint(
                "connection_id", column, name=op.f(f"uq_{table}_connection_id_{column}")
            ),
        )


def downgrade() -> None:
    op.drop_table("sent_labels")
    op.drop_table("connection_sessions")
    op.drop_table("connections")
