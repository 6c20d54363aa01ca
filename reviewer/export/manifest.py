"""The manifest written beside every export: what was exported, from where, and a checksum."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_VERSION: Literal[1] = 1
MANIFEST_SUFFIX = ".manifest.json"


class RubricVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: int


class DataFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str
    """The data file's name (it sits beside the manifest)."""
    bytes: int
    sha256: str
    """SHA-256 of the data file's bytes: the same export gives the same digest."""


class Counts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: int
    """Rows (tables) or lines (every other format) written."""
    reviews: int
    """Reviews read that matched the filters."""
    sessions: int
    """Session revisions those reviews belong to."""


class ColumnInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    type: Literal["string", "int", "float", "bool", "list", "timestamp", "reviews"]


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_quality: float
    require: dict[str, str]


class ExportManifest(BaseModel):
    """``<data file>.manifest.json`` (schemas/export-manifest.schema.json)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    manifest_version: Literal[1] = MANIFEST_VERSION
    app_version: str
    created_at: datetime
    """When the export ran (the data file itself holds no export time)."""
    workspace: str
    """The workspace's file path, or its URL with any password masked."""
    workspace_id: str
    format: str
    format_version: int
    """Version of the row or line shape; its JSON Schema is ``schema``."""
    schema_file: str = Field(alias="schema")
    level: Literal["review", "session", "step", "pair"]
    status: Literal["submitted", "all"]
    where: str | None
    batch: str | None
    redact_pii: bool
    neutralise_formulas: bool | None = None
    """CSV only: cells starting like a formula were prefixed with a quote."""
    thresholds: Thresholds | None = None
    """Dataset formats only: when an uncorrected session counts as a good example."""
    rubrics: list[RubricVersion]
    counts: Counts
    left_out: dict[str, int] = Field(default_factory=dict)
    """Why sessions (or reviews) that matched were not written, with how many of each."""
    notes: list[str] = Field(default_factory=list)
    columns: list[ColumnInfo] | None = None
    """Tables only: the columns in order."""
    data: DataFile
