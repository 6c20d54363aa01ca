"""Offline review packs and their results: the versioned file formats (no I/O).

A pack and a results file are both zip archives holding ``manifest.json`` plus data entries.
The manifest lists the SHA-256 of every other entry and carries a ``checksum``: the SHA-256
of the manifest itself (sorted-key compact JSON, without the ``checksum`` key). The checksum
detects damage and hand edits; it is not a signature.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reviewer.domain.review import Review
from reviewer.domain.rubric import Rubric

PACK_FORMAT: Literal["agentops-reviewer-pack"] = "agentops-reviewer-pack"
RESULTS_FORMAT: Literal["agentops-reviewer-results"] = "agentops-reviewer-results"
FORMAT_VERSION: Literal[1] = 1

MANIFEST_ENTRY = "manifest.json"
REVIEWS_ENTRY = "reviews.jsonl"
AUDIT_ENTRY = "audit.jsonl"


def session_entry(position: int) -> str:
    """The archive entry holding the canonical session of a batch position."""
    return f"sessions/{position:06d}.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PackBatch(_Strict):
    """The batch the pack was cut from, as the lead's workspace has it."""

    name: str
    spec: dict[str, Any]
    blind: bool = False
    created_at: datetime
    population: int = 0
    strata: dict[str, Any] | None = None


class PackItem(_Strict):
    """One item of the reviewer's assignment, in batch order."""

    position: int
    session_key: str
    session_revision: int
    entry: str
    """Archive entry with the session's canonical JSON."""
    stratum: str | None = None
    inclusion_probability: float
    is_gold: bool = False
    claimed_at: datetime | None = None


class PackedReview(_Strict):
    """A review the reviewer already had when the pack was made (a line of reviews.jsonl)."""

    review: Review
    version: int
    """Its ``version_id`` in the lead's workspace."""
    sha256: str
    """Hash of its audited content: merging compares it to detect edits on both sides."""


class SealedManifest(_Strict):
    format: str
    format_version: Literal[1] = FORMAT_VERSION
    created_at: datetime
    app_version: str
    entries: dict[str, str] = Field(default_factory=dict)
    """Entry name → SHA-256 of its bytes, for every entry but the manifest."""
    checksum: str = ""
    """SHA-256 of this manifest without this key (sorted-key compact JSON)."""


class PackManifest(SealedManifest):
    """``manifest.json`` of a review pack."""

    format: Literal["agentops-reviewer-pack"] = PACK_FORMAT
    pack_id: str
    workspace_id: str
    """The lead's workspace: results merge back only into it."""
    reviewer: str
    batch: PackBatch
    rubric: Rubric
    """The batch's rubric, at its version."""
    other_rubrics: list[Rubric] = Field(default_factory=list)
    """Rubric versions of carried reviews that differ from the batch's."""
    items: list[PackItem]
    reviews: int = 0
    """How many lines reviews.jsonl holds."""


class ResultReview(_Strict):
    """One review in a results file (a line of reviews.jsonl)."""

    review: Review
    sha256: str
    """Hash of its audited content now."""
    base_sha256: str | None = None
    """Hash when the pack was made (None: reviewed for the first time offline)."""
    history: list[str] = Field(default_factory=list)
    """Hashes of every state it went through offline, oldest first."""


class AuditRecord(_Strict):
    """One entry of the audit trail, as exported and as carried by results files."""

    at: datetime
    actor: str
    action: str
    review_uid: str | None = None
    session_key: str | None = None
    session_revision: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class ResultsManifest(SealedManifest):
    """``manifest.json`` of a results file."""

    format: Literal["agentops-reviewer-results"] = RESULTS_FORMAT
    pack_id: str
    pack_checksum: str
    workspace_id: str
    reviewer: str
    batch: str
    reviews: int = 0
    audit_entries: int = 0
