"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("review_uid", sa.String(length=64), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_review_uid"), ["review_uid"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_session_id"), ["session_id"], unique=False)

    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=64), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("revised", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("resume_position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
    )
    op.create_table(
        "merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("results_sha256", sa.String(length=64), nullable=False),
        sa.Column("pack_id", sa.String(length=64), nullable=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merges")),
    )
    with op.batch_alter_table("merges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merges_results_sha256"), ["results_sha256"], unique=False
        )

    op.create_table(
        "rubrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubrics")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_rubrics_name_version")),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_key", sa.String(length=512), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_format", sa.String(length=64), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("source_position", sa.String(length=200), nullable=True),
        sa.Column("agent_name", sa.String(length=200), nullable=True),
        sa.Column("agent_version", sa.String(length=200), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.Column("tool_call_count", sa.Integer(), nullable=False),
        sa.Column("has_tool_error", sa.Boolean(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("output_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("user_feedback", sa.Float(), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=True),
        sa.Column("task_success", sa.Boolean(), nullable=True),
        sa.Column("first_user_text", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint(
            "session_key", "revision", name=op.f("uq_sessions_session_key_revision")
        ),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_agent", ["agent_name", "agent_version"], unique=False)
        batch_op.create_index(batch_op.f("ix_sessions_escalated"), ["escalated"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sessions_has_tool_error"), ["has_tool_error"], unique=False
        )
        batch_op.create_index(
            "ix_sessions_latest_started", ["is_latest", "started_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sessions_model"), ["model"], unique=False)
        batch_op.create_index(batch_op.f("ix_sessions_session_key"), ["session_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_sessions_started_at"), ["started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sessions_step_count"), ["step_count"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sessions_user_feedback"), ["user_feedback"], unique=False
        )

    op.create_table(
        "workspace_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_workspace_meta")),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("rubric_id", sa.Integer(), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("strata", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["rubric_id"], ["rubrics.id"], name=op.f("fk_batches_rubric_id_rubrics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("name", name=op.f("uq_batches_name")),
    )
    op.create_table(
        "session_content",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_content_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_content")),
    )
    op.create_table(
        "session_scores",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_scores_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "name", name=op.f("pk_session_scores")),
    )
    with op.batch_alter_table("session_scores", schema=None) as batch_op:
        batch_op.create_index("ix_session_scores_name_value", ["name", "value"], unique=False)

    op.create_table(
        "session_tags",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_tags_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "tag", name=op.f("pk_session_tags")),
    )
    with op.batch_alter_table("session_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "batch_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(length=400), nullable=True),
        sa.Column("inclusion_probability", sa.Float(), nullable=False),
        sa.Column("is_gold", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
            name=op.f("fk_batch_items_batch_id_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_batch_items_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_items")),
        sa.UniqueConstraint("batch_id", "position", name=op.f("uq_batch_items_batch_id_position")),
        sa.UniqueConstraint(
            "batch_id", "session_id", name=op.f("uq_batch_items_batch_id_session_id")
        ),
    )
    with op.batch_alter_table("batch_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_items_session_id"), ["session_id"], unique=False)

    op.create_table(
        "packs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_packs_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packs")),
        sa.UniqueConstraint("pack_id", name=op.f("uq_packs_pack_id")),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("rubric_id", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("failure_step", sa.Integer(), nullable=True),
        sa.Column("corrected_response", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active_seconds", sa.Float(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("conflict_of", sa.String(length=64), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_reviews_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["rubric_id"], ["rubrics.id"], name=op.f("fk_reviews_rubric_id_rubrics")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_reviews_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("uid", name=op.f("uq_reviews_uid")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reviews_batch_reviewer", ["batch_id", "reviewer", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reviews_conflict_of"), ["conflict_of"], unique=False)
        batch_op.create_index("ix_reviews_session", ["session_id", "status"], unique=False)
        batch_op.create_index("ix_reviews_submitted", ["submitted_at"], unique=False)

    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["batch_items.id"],
            name=op.f("fk_assignments_item_id_batch_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("item_id", "reviewer", name=op.f("uq_assignments_item_id_reviewer")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_reviewer", ["reviewer", "claimed_at"], unique=False)

    op.create_table(
        "review_tags",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_review_tags_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("review_id", "tag", name=op.f("pk_review_tags")),
    )
    with op.batch_alter_table("review_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_tags_tag"), ["tag"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("review_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_tags_tag"))

    op.drop_table("review_tags")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_reviewer")

    op.drop_table("assignments")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_submitted")
        batch_op.drop_index("ix_reviews_session")
        batch_op.drop_index(batch_op.f("ix_reviews_conflict_of"))
        batch_op.drop_index("ix_reviews_batch_reviewer")

    op.drop_table("reviews")
    op.drop_table("packs")
    with op.batch_alter_table("batch_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_items_session_id"))

    op.drop_table("batch_items")
    with op.batch_alter_table("session_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_tags_tag"))

    op.drop_table("session_tags")
    with op.batch_alter_table("session_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_session_scores_name_value")

    op.drop_table("session_scores")
    op.drop_table("session_content")
    op.drop_table("batches")
    op.drop_table("workspace_meta")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_user_feedback"))
        batch_op.drop_index(batch_op.f("ix_sessions_step_count"))
        batch_op.drop_index(batch_op.f("ix_sessions_started_at"))
        batch_op.drop_index(batch_op.f("ix_sessions_session_key"))
        batch_op.drop_index(batch_op.f("ix_sessions_model"))
        batch_op.drop_index("ix_sessions_latest_started")
        batch_op.drop_index(batch_op.f("ix_sessions_has_tool_error"))
        batch_op.drop_index(batch_op.f("ix_sessions_escalated"))
        batch_op.drop_index("ix_sessions_agent")

    op.drop_table("sessions")
    op.drop_table("rubrics")
    with op.batch_alter_table("merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merges_results_sha256"))

    op.drop_table("merges")
    op.drop_table("import_runs")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_session_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_review_uid"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
