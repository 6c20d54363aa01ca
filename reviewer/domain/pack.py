"""Offline review packs and their results: the versioned file formats (no I/O).

A pack and a results file are both zip archives holding ``manifest.json`` plus data entries.
The manifest lists the SHA-256 of every other entry and carries a ``checksum``: the SHA-256
of the manifest itself (sorted-key compact JSON, without the ``checksum`` key), which detects
damage, and a ``mac``: an HMAC-SHA256 of the manifest (without ``checksum`` and ``mac``) under
the pack's secret, which authenticates it. The lead's workspace keeps each pack's secret; the
pack carries it so that the reviewer's app can sign the results; results never carry it.

Every name that comes from these files and may reach a path (pack id, reviewer, batch, entry
names) is checked against a strict pattern when the manifest is read.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from reviewer.domain.preference import Preference
from reviewer.domain.review import Review
from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Agent, Session, Source

PACK_FORMAT: Literal["agentops-reviewer-pack"] = "agentops-reviewer-pack"
RESULTS_FORMAT: Literal["agentops-reviewer-results"] = "agentops-reviewer-results"
FORMAT_VERSION: Literal[3] = 3
"""3: packs may carry pair items (both sessions) and preferences; 2: manifests carry an HMAC
(``mac``) and packs their secret; 1 had a checksum only (refused)."""
OLDEST_FORMAT_VERSION: Literal[2] = 2
"""The oldest format still read: version 2 files are version 3 files without pairs."""

MANIFEST_ENTRY = "manifest.json"
REVIEWS_ENTRY = "reviews.jsonl"
PREFERENCES_ENTRY = "preferences.jsonl"
AUDIT_ENTRY = "audit.jsonl"


PACK_ID_PATTERN = r"^[0-9a-f]{32}$"
SECRET_PATTERN = r"^[0-9a-f]{64}$"
SAFE_NAME_PATTERN = r"^\w(?:[\w .@+,()'#-]{0,198}[\w@+,()'#-])?$"
"""Reviewer and batch names that may travel in a pack: letters and digits (any script),
spaces and ``. _ - @ + , ( ) ' #``, at most 200 characters, not ending in a space or dot: no
path separator, no ``..`` component, no control character."""
ENTRY_PATTERN = (
    r"^(?:manifest\.json|reviews\.jsonl|preferences\.jsonl|audit\.jsonl"
    r"|sessions/[0-9]{6,9}(?:-right)?\.json)$"
)
"""The only entry names a pack or results file may hold."""


def is_pack_id(value: str) -> bool:
    return re.fullmatch(PACK_ID_PATTERN, value) is not None


def is_safe_name(value: str) -> bool:
    return re.fullmatch(SAFE_NAME_PATTERN, value) is not None


def is_entry_name(value: str) -> bool:
    return re.fullmatch(ENTRY_PATTERN, value) is not None


def _pack_id(value: str) -> str:
    if not is_pack_id(value):
        raise ValueError(f"{value[:40]!r} is not a pack id (32 hex digits)")
    return value


def _secret(value: str) -> str:
    if re.fullmatch(SECRET_PATTERN, value) is None:
        raise ValueError("not a pack secret (64 hex digits)")
    return value


def _safe_name(value: str) -> str:
    if not is_safe_name(value):
        raise ValueError(
            f"{value[:40]!r} is not allowed in a pack (letters, digits, spaces and "
            ". _ - @ + , ( ) ' # only, at most 200, no trailing space or dot)"
        )
    return value


PackId = Annotated[
    str, AfterValidator(_pack_id), Field(json_schema_extra={"pattern": PACK_ID_PATTERN})
]
PackSecret = Annotated[
    str, AfterValidator(_secret), Field(json_schema_extra={"pattern": SECRET_PATTERN})
]
SafeName = Annotated[
    str, AfterValidator(_safe_name), Field(json_schema_extra={"pattern": SAFE_NAME_PATTERN})
]


def session_entry(position: int) -> str:
    """The archive entry holding the canonical session of a batch position."""
    return f"sessions/{position:06d}.json"


def pair_entry(position: int) -> str:
    """The archive entry holding the right-hand session of a pair item."""
    return f"sessions/{position:06d}-right.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PackBatch(_Strict):
    """The batch the pack was cut from, as the lead's workspace has it."""

    name: SafeName
    spec: dict[str, Any]
    blind: bool = False
    created_at: datetime
    population: int = 0
    strata: dict[str, Any] | None = None


class PackPair(_Strict):
    """The second session of a pair item (shown on the right; the item's own is the left)."""

    session_key: str
    session_revision: int
    entry: str
    """Archive entry with its canonical JSON (always ``pair_entry(position)``)."""
    left: Literal["A", "B"] | None = None
    """Which compared value the left session has; None in a blind batch's pack."""
    task_key: str | None = None
    """The task key both sessions share."""


class PackItem(_Strict):
    """One item of the reviewer's assignment, in batch order."""

    position: int = Field(ge=0, le=999_999_999)
    session_key: str
    session_revision: int
    entry: str
    """Archive entry with the session's canonical JSON (always ``session_entry(position)``)."""
    stratum: str | None = None
    inclusion_probability: float
    is_gold: bool = False
    claimed_at: datetime | None = None
    pair: PackPair | None = None
    """Set on the item of a pairwise batch (format version 3)."""

    @model_validator(mode="after")
    def _entry_of_its_position(self) -> PackItem:
        if self.entry != session_entry(self.position):
            raise ValueError(
                f"entry {self.entry[:60]!r} is not the session file of position {self.position}"
            )
        if self.pair is not None and self.pair.entry != pair_entry(self.position):
            raise ValueError(
                f"entry {self.pair.entry[:60]!r} is not the right-hand session file of "
                f"position {self.position}"
            )
        return self


class PackedReview(_Strict):
    """A review the reviewer already had when the pack was made (a line of reviews.jsonl)."""

    review: Review
    version: int
    """Its ``version_id`` in the lead's workspace."""
    sha256: str
    """Hash of its audited content: merging compares it to detect edits on both sides."""


class PackedPreference(_Strict):
    """A preference the reviewer already had when the pack was made (a line of
    preferences.jsonl)."""

    preference: Preference
    sha256: str
    """Hash of its audited content (see ``store.preferences.preference_sha256``)."""


class SealedManifest(_Strict):
    format: str
    format_version: Literal[2, 3] = FORMAT_VERSION
    created_at: datetime
    app_version: str
    entries: dict[str, str] = Field(default_factory=dict)
    """Entry name → SHA-256 of its bytes, for every entry but the manifest."""
    checksum: str = ""
    """SHA-256 of this manifest without this key (sorted-key compact JSON)."""
    mac: str = ""
    """HMAC-SHA256 under the pack's secret of this manifest without ``checksum`` and ``mac``."""


class PackManifest(SealedManifest):
    """``manifest.json`` of a review pack."""

    format: Literal["agentops-reviewer-pack"] = PACK_FORMAT
    pack_id: PackId
    secret: PackSecret
    """The pack's HMAC key (hex): the reviewer's app signs the results with it."""
    workspace_id: str
    """The lead's workspace: results merge back only into it."""
    reviewer: SafeName
    batch: PackBatch
    rubric: Rubric
    """The batch's rubric, at its version."""
    other_rubrics: list[Rubric] = Field(default_factory=list)
    """Rubric versions of carried reviews that differ from the batch's."""
    items: list[PackItem]
    reviews: int = 0
    """How many lines reviews.jsonl holds."""
    preferences: int = 0
    """How many lines preferences.jsonl holds (pairwise batches)."""


class ResultReview(_Strict):
    """One review in a results file (a line of reviews.jsonl)."""

    review: Review
    sha256: str
    """Hash of its audited content now."""
    base_sha256: str | None = None
    """Hash when the pack was made (None: reviewed for the first time offline)."""
    history: list[str] = Field(default_factory=list)
    """Hashes of every state it went through offline, oldest first."""


class ResultPreference(_Strict):
    """One preference in a results file (a line of preferences.jsonl)."""

    preference: Preference
    sha256: str
    """Hash of its audited content now."""
    base_sha256: str | None = None
    """Hash when the pack was made (None: given for the first time offline)."""
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
    pack_id: PackId
    pack_checksum: str
    workspace_id: str
    reviewer: SafeName
    batch: SafeName
    reviews: int = 0
    preferences: int = 0
    audit_entries: int = 0


def blind_session(session: Session, compared: str, key: str) -> Session:
    """A session as a blind pairwise batch's pack carries it, under the neutral id ``key``
    (:func:`blind_key`): without the agent's name and version, the model, its provenance or
    the compared ``metadata.NAME`` field, so the file does not tell which side is which."""
    metadata = dict(session.metadata)
    if compared.startswith("metadata."):
        metadata.pop(compared[len("metadata.") :], None)
    return session.model_copy(
        update={
            "id": key,
            "source": Source(),
            "agent": Agent(),
            "model": None,
            "metadata": metadata,
        }
    )


def blind_key(position: int, side: Literal["left", "right"]) -> str:
    """The id a session of a blind pairwise batch's pack goes under (session ids often name
    the version that ran them)."""
    return f"pair-{position:06d}-{side}"


def blind_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A blind pairwise batch's spec as its pack carries it: the compared values unnamed."""
    pairs = spec.get("pairs")
    if not isinstance(pairs, dict):
        return spec
    return {**spec, "pairs": {**pairs, "a": "A", "b": "B"}}
