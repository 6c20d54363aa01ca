"""The review record an export reads: a review with the facts of the session revision it is
about. Its field names label the columns the store selects (``store.review_records``), and
everything that reads a record by position takes the position from here.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class ReviewRecord(NamedTuple):
    """One stored review, laid out as the store reads it (plain tuples in this order).

    Times come as ISO-8601 text, as SQLite keeps them (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC)
    or as datetimes (PostgreSQL); ``values`` and ``details`` as JSON text or parsed.
    """

    uid: str
    session_key: str
    revision: int
    batch_id: int | None
    reviewer: str
    role: str
    status: str
    status_reason: str | None
    rubric_id: int
    values: Any
    details: Any
    failure_step: int | None
    started_at: Any
    submitted_at: Any
    updated_at: Any
    active_seconds: float
    simulated: int
    origin: str
    conflict_of: str | None
    agent_name: str | None
    agent_version: str | None
    model: str | None
    session_started_at: Any
    source_format: str
    session_db_id: int


RECORD: tuple[str, ...] = ReviewRecord._fields
"""The record's field names, in order."""
R: dict[str, int] = {name: i for i, name in enumerate(RECORD)}
"""Each field's position in a record."""
RECORD_KINDS: dict[str, str] = {name: "string" for name in RECORD} | {
    "revision": "int",
    "batch_id": "int",
    "rubric_id": "int",
    "failure_step": "int",
    "active_seconds": "float",
    "simulated": "int",
    "session_db_id": "int",
}
"""What each record field holds as stored: ``string`` (text, and times as ISO-8601
text), ``int`` (``simulated`` is 0 or 1) or ``float``."""
RECORD_TIMES = ("started_at", "submitted_at", "updated_at", "session_started_at")
"""The record fields that are times."""
