"""SQLAlchemy 2 typed ORM tables of a workspace.

Session content is stored compressed in its own table; the fields people filter on live in
indexed columns of ``sessions`` so that lists, filters and samplers never touch the content.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        from datetime import UTC

        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        from datetime import UTC

        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class WorkspaceMeta(Base):
    """Key/value facts about the workspace (its id, creation time, app version)."""

    __tablename__ = "workspace_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


OPTIONAL_INDEXED = ("input_tokens", "output_tokens", "cost_usd", "latency_ms")
"""Nullable ``sessions`` columns with an index over the rows that have a value."""


class SessionRow(Base):
    """One revision of an imported session (indexed summary; content lives elsewhere)."""

    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("session_key", "revision"),
        Index("ix_sessions_agent", "agent_name", "agent_version"),
        Index("ix_sessions_latest_started", "is_latest", "started_at"),
        # Columns the --where filter compares (tool_calls, cost, latency_ms) and the token
        # counts, after is_latest as the filter asks for it (with is_latest alone in an
        # index SQLite would take that one); the nullable ones only where set, which keeps
        # imports of sessions without them from paying for the index.
        Index("ix_sessions_latest_tool_call_count", "is_latest", "tool_call_count"),
        # What the analytics read of each session reviewed outside any batch, without
        # visiting the table (migration 0011; batch items carry their own copy since 0012).
        Index("ix_sessions_id_version_started", "id", "agent_version", "started_at"),
        *(
            Index(
                f"ix_sessions_latest_{name}",
                "is_latest",
                name,
                sqlite_where=text(f"{name} IS NOT NULL"),
                postgresql_where=text(f"{name} IS NOT NULL"),
            )
            for name in OPTIONAL_INDEXED
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_key: Mapped[str] = mapped_column(String(512), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime]
    source_format: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str | None] = mapped_column(Text)
    source_position: Mapped[str | None] = mapped_column(String(200))
    agent_name: Mapped[str | None] = mapped_column(String(200))
    agent_version: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200), index=True)
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    step_count: Mapped[int] = mapped_column(Integer, default=0, index=True)
    tool_call_count: Mapped[int] = mapped_column(Integer, default=0)
    has_tool_error: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    input_tokens: Mapped[int | None] = mapped_column(BigInteger)
    output_tokens: Mapped[int | None] = mapped_column(BigInteger)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    user_feedback: Mapped[float | None] = mapped_column(Float, index=True)
    escalated: Mapped[bool | None] = mapped_column(Boolean, index=True)
    task_success: Mapped[bool | None] = mapped_column(Boolean)
    first_user_text: Mapped[str | None] = mapped_column(String(300))
    """The start of the first user message, for lists and text search."""
    record_hash: Mapped[str | None] = mapped_column(String(32), index=True)
    """Hash of the raw record this revision was imported from (canonical JSON Lines), so a
    re-imported record is recognised before it is parsed."""


POPULATION_BLOCK = 256
"""Width, in session ids, of the id ranges ``population_counts`` counts by (range r: ids
r·256 … r·256 + 255)."""


class PopulationCount(Base):
    """How many latest sessions of one stratum lie in one id range, and how many of those
    have a submitted review: what a batch without ``--where`` is drawn from, counted on
    write by triggers on ``sessions`` and ``reviews`` (migration 0011) so that a draw reads
    these counts instead of every session.

    The columns of :data:`reviewer.store.batches.STRATUM_COLUMNS` make the stratum. A
    range and stratum may have several rows (two writers adding its first at once): its
    counts are their sums."""

    __tablename__ = "population_counts"
    __table_args__ = (Index("ix_population_counts_block", "block"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    block: Mapped[int] = mapped_column(Integer)
    """The session id range: id // :data:`POPULATION_BLOCK`."""
    agent_name: Mapped[str | None] = mapped_column(String(200))
    agent_version: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))
    has_tool_error: Mapped[bool] = mapped_column(Boolean)
    escalated: Mapped[bool | None] = mapped_column(Boolean)
    latest: Mapped[int] = mapped_column(Integer, default=0)
    """Latest revisions of sessions in the range and stratum."""
    reviewed: Mapped[int] = mapped_column(Integer, default=0)
    """Those of them with a submitted review."""


class SessionContent(Base):
    """The whole canonical session, zlib-compressed orjson."""

    __tablename__ = "session_content"
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class SessionTag(Base):
    __tablename__ = "session_tags"
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class SessionScore(Base):
    """Automated judge scores of a session, one row per judge."""

    __tablename__ = "session_scores"
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("ix_session_scores_name_value", "name", "value"),)


class RubricRow(Base):
    __tablename__ = "rubrics"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class BatchRow(Base):
    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    spec: Mapped[dict[str, Any]]
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id"))
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    population: Mapped[int] = mapped_column(Integer, default=0)
    """How many sessions matched the filter when the batch was drawn."""
    strata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Per stratum: population count and sample count, for weighting back."""


class BatchItemRow(Base):
    __tablename__ = "batch_items"
    __table_args__ = (
        UniqueConstraint("batch_id", "position"),
        UniqueConstraint("batch_id", "session_id"),
        # A reviewer's queue of a batch, read without visiting the table (migration 0011).
        Index("ix_batch_items_batch_item", "batch_id", "id", "position", "session_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    stratum: Mapped[str | None] = mapped_column(String(400))
    inclusion_probability: Mapped[float] = mapped_column(Float)
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    pair_session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    """A pair item (migration 0009): the session shown on the right; session_id is the left."""
    pair_left: Mapped[str | None] = mapped_column(String(1))
    """Which compared value ("A" or "B") the left session has; None on single items."""
    pair_key: Mapped[str | None] = mapped_column(String(400))
    """The task key both sessions of a pair share."""
    agent_version: Mapped[str | None] = mapped_column(String(200))
    """The session's agent version, copied by a trigger when the item is stored (migration
    0012: a session revision never changes it); the analytics group items by it."""
    started_at: Mapped[datetime | None]
    """The session's start time, copied alike (migration 0012)."""


class AssignmentRow(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "reviewer"),
        Index("ix_assignments_reviewer", "reviewer", "claimed_at"),
        Index("ix_assignments_reviewer_item", "reviewer", "item_id"),  # migration 0011
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("batch_items.id", ondelete="CASCADE"))
    reviewer: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]


LIVE_REVIEW = "conflict_of IS NULL"
"""A review in use, not a version a merge (or the upgrade to 0003) kept aside."""
LEAD_REVIEW = "role <> 'reviewer'"
"""A lead's review (a gold label or an adjudication): a query says it in these words to
use the index of those (SQLite uses a partial index only for its own condition)."""


class ReviewRow(Base):
    """A reviewer's label for one session revision (drafts included)."""

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_session", "session_id", "status"),
        Index("ix_reviews_batch_reviewer", "batch_id", "reviewer", "status"),
        Index("ix_reviews_submitted", "submitted_at"),
        # The few reviews of leads (gold labels, adjudications) without a scan: migration 0010.
        Index(
            "ix_reviews_lead",
            "role",
            sqlite_where=text(LEAD_REVIEW),
            postgresql_where=text(LEAD_REVIEW),
        ),
        # One live review (not a version a merge kept aside) per reviewer, role and item
        # (session revision in a batch, or outside any): migration 0003.
        Index(
            "uq_reviews_live_in_batch",
            "session_id",
            "reviewer",
            "role",
            "batch_id",
            unique=True,
            sqlite_where=text(f"{LIVE_REVIEW} AND batch_id IS NOT NULL"),
            postgresql_where=text(f"{LIVE_REVIEW} AND batch_id IS NOT NULL"),
        ),
        Index(
            "uq_reviews_live_no_batch",
            "session_id",
            "reviewer",
            "role",
            unique=True,
            sqlite_where=text(f"{LIVE_REVIEW} AND batch_id IS NULL"),
            postgresql_where=text(f"{LIVE_REVIEW} AND batch_id IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    reviewer: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="reviewer")
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id"))
    values: Mapped[dict[str, Any]]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    failure_step: Mapped[int | None] = mapped_column(Integer)
    corrected_response: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    status_reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    active_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[str] = mapped_column(String(200), default="local")
    """Where the review was made: "local", or "pack:<id>" when merged from a review pack."""
    conflict_of: Mapped[str | None] = mapped_column(String(64), index=True)
    """Set on a version kept aside by a merge: the uid of the review it conflicts with."""
    resolved_at: Mapped[datetime | None]
    """When a lead settled the conflict of this kept-aside version (None: still open)."""
    steps: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Per step index: verdict, error type and correction (see
    :class:`reviewer.domain.review.StepLabel`); null before revision 0005."""
    suggestions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Per dimension: the judge's suggestion shown and what became of it (see
    :class:`reviewer.domain.suggestions.SuggestionRecord`); null before revision 0005."""
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    option_codes: Mapped[int | None] = mapped_column(BigInteger)
    """The categorical values as one integer (:mod:`reviewer.domain.option_codes`), for the
    analytics; null where they do not fit the rubric, or were not coded (revision 0010)."""
    failed: Mapped[bool | None] = mapped_column(Boolean)
    """Whether the review has a failure tag (a row in ``review_tags``), for the analytics;
    null when not known (then it is looked up)."""

    __mapper_args__ = {"version_id_col": version_id}


class PreferenceReviewRow(Base):
    """A reviewer's preference between the two sessions of a pair item (drafts included)."""

    __tablename__ = "preference_reviews"
    __table_args__ = (UniqueConstraint("item_id", "reviewer"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("batch_items.id", ondelete="CASCADE"))
    reviewer: Mapped[str] = mapped_column(String(200))
    winner: Mapped[str | None] = mapped_column(String(10))
    """left, right, tie or both_bad (None while a draft has none)."""
    dimensions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Per rubric dimension, the same four choices."""
    rationale: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    started_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    active_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)


class ReviewTag(Base):
    """Failure tags of a review, one row each, for failure analytics in SQL."""

    __tablename__ = "review_tags"
    review_id: Mapped[int] = mapped_column(
        ForeignKey("reviews.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class AuditEntry(Base):
    """Append-only log of every change to a review."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    review_uid: Mapped[str | None] = mapped_column(String(64), index=True)
    session_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ImportRun(Base):
    """One run of the importer over one file, with its counts."""

    __tablename__ = "import_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    path: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(64))
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    revised: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    resume_position: Mapped[int] = mapped_column(BigInteger, default=0)
    """Records committed so far, so an interrupted import resumes."""


class PackRow(Base):
    """An offline review pack written from this workspace."""

    __tablename__ = "packs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_id: Mapped[str] = mapped_column(String(64), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    reviewer: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    checksum: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str | None] = mapped_column(String(64))
    """The pack's HMAC key (hex), which its results must be signed with. None for packs made
    before packs were authenticated: their results are refused."""
    rubric_id: Mapped[int | None] = mapped_column(ForeignKey("rubrics.id"))
    """The batch's rubric version when the pack was made."""


class PackItemRow(Base):
    """One item a pack carried, as recorded when it was made: its results may only review
    these session revisions."""

    __tablename__ = "pack_items"
    __table_args__ = (UniqueConstraint("pack_row_id", "session_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_row_id: Mapped[int] = mapped_column(ForeignKey("packs.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))


class MergeRow(Base):
    """One results file merged into this workspace (merging it again changes nothing)."""

    __tablename__ = "merges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    results_sha256: Mapped[str] = mapped_column(String(64), index=True)
    pack_id: Mapped[str | None] = mapped_column(String(64))
    merged_at: Mapped[datetime]
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)


class ConnectionRow(Base):
    """A tracing system this workspace pulls from or pushes to: one per source, URL
    (without credentials) and project, with where the last pull ended."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("source", "url", "project"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(1000))
    project: Mapped[str] = mapped_column(String(300))
    cursor: Mapped[str | None] = mapped_column(Text)
    """The system's own position after the last pull (opaque to us), None before the first."""
    pulled_at: Mapped[datetime | None]
    pushed_at: Mapped[datetime | None]


class ConnectionSession(Base):
    """A session (all its revisions) that came from a connection: only these are pushed."""

    __tablename__ = "connection_sessions"
    __table_args__ = (UniqueConstraint("connection_id", "session_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    session_key: Mapped[str] = mapped_column(String(512))


class SentLabel(Base):
    """One label item pushed to a connection, with a digest of what was sent: a push sends
    only items that are new or changed since."""

    __tablename__ = "sent_labels"
    __table_args__ = (UniqueConstraint("connection_id", "item_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(300))
    """The system's key of the item (its id, or span/name/identifier for Phoenix)."""
    digest: Mapped[str] = mapped_column(String(64))
    session_key: Mapped[str] = mapped_column(String(512))
    sent_at: Mapped[datetime]
