"""recognise re-imported records by their raw bytes

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("record_hash", sa.String(32), nullable=True))
        batch.create_index("ix_sessions_record_hash", ["record_hash"])


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index("ix_sessions_record_hash")
        batch.drop_column("record_hash")
