"""recognise re-imported records by their raw bytes; index the columns filters compare

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPTIONAL_INDEXED = ("input_tokens", "output_tokens", "cost_usd", "latency_ms")
"""Nullable columns indexed over the rows that have a value (as in reviewer.store.tables,
copied: a migration keeps the schema of its day)."""


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("record_hash", sa.String(32), nullable=True))
        batch.create_index("ix_sessions_record_hash", ["record_hash"])
        batch.create_index("ix_sessions_latest_tool_call_count", ["is_latest", "tool_call_count"])
    for name in OPTIONAL_INDEXED:
        op.create_index(
            f"ix_sessions_latest_{name}",
            "sessions",
            ["is_latest", name],
            sqlite_where=sa.text(f"{name} IS NOT NULL"),
            postgresql_where=sa.text(f"{name} IS NOT NULL"),
        )


def downgrade() -> None:
    for name in OPTIONAL_INDEXED:
        op.drop_index(f"ix_sessions_latest_{name}", "sessions")
    op.drop_index("ix_sessions_latest_tool_call_count", "sessions")
    op.drop_index("ix_sessions_record_hash", "sessions")
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: recreating `sessions`
    # would drop a table other tables' foreign keys point at.
    op.drop_column("sessions", "record_hash")
