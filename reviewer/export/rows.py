"""Review rows: one tuple per review in the plan's column order, from the stored record.

The store reads reviews as plain tuples laid out as
:class:`~reviewer.domain.review_record.ReviewRecord` (:data:`RECORD`); times come as
SQLite's text (``2026-10-01 09:00:00.000000``, UTC) or as datetimes (PostgreSQL) and leave
as ISO-8601 UTC text with microseconds (``2026-10-01T09:00:00.000000Z``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from reviewer.domain.review_record import RECORD, RECORD_KINDS, R
from reviewer.export.columns import LabelPlan
from reviewer.export.redact import redact_text

__all__ = ["RECORD", "RECORD_KINDS", "R", "ReviewShaper", "iso", "text_cell"]


def iso(value: Any) -> str | None:
    """A stored time as ISO-8601 UTC with microseconds, or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = str(value)
    if len(text) == 26 and text[10] == " ":
        return text[:10] + "T" + text[11:] + "Z"
    parsed = datetime.fromisoformat(text)
    return iso(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def _json(value: Any) -> Any:
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return value


def text_cell(value: Any, redact: bool) -> str | None:
    """Free text as written: None unless a non-blank string; masked when ``redact``."""
    if not isinstance(value, str) or not value.strip():
        return None
    return redact_text(value) if redact else value


class ReviewShaper:
    """Builds review rows (tuples in ``plan.review_columns()`` order).

    ``iso_times``: the record's times are ISO-8601 UTC text already (the SQLite query
    formats them in SQL); otherwise each is converted with :func:`iso`.
    """

    CACHE = 20_000
    """Distinct (rubric, values, details) shapes remembered: most reviews of a workspace
    repeat a few label combinations, and shaping them once is most of the work."""

    def __init__(
        self,
        plan: LabelPlan,
        *,
        redact: bool = False,
        iso_times: bool = False,
        batch_names: dict[int, str] | None = None,
    ) -> None:
        self.plan = plan
        self.batch_names = batch_names or {}
        self.redact = redact
        self.iso_times = iso_times
        self.n_labels = len(plan.labels)
        self.n_details = len(plan.details)
        self._text_labels = {i for i, c in enumerate(plan.labels) if c.text}
        self._cache: dict[tuple[Any, Any, Any], tuple[tuple[Any, ...], tuple[Any, Any]]] = {}

    def labels(
        self, rubric_id: int, values: dict[str, Any], details: dict[str, Any]
    ) -> tuple[tuple[Any, ...], tuple[Any, Any]]:
        """((label cells..., detail cells..., failure tags), (rationale, corrected response))."""
        shaper = self.plan.shapers[rubric_id]
        cells: list[Any] = [None] * self.n_labels
        text_labels = self._text_labels
        for i, name, convert in shaper.labels:
            v = values.get(name)
            if v is not None:
                v = convert(v)
                cells[i] = text_cell(v, self.redact) if i in text_labels else v
        dcells: list[Any] = [None] * self.n_details
        for i, name in shaper.details:
            dcells[i] = text_cell(details.get(name), self.redact)
        tags: list[str] = []
        if shaper.taxonomy is not None:
            raw = values.get(shaper.taxonomy)
            if isinstance(raw, list):
                tags = [t for t in raw if isinstance(t, str)]
        rationale = (
            text_cell(values.get(shaper.rationale), self.redact) if shaper.rationale else None
        )
        corrected = (
            text_cell(values.get(shaper.corrected), self.redact) if shaper.corrected else None
        )
        return (*cells, *dcells, tags), (rationale, corrected)

    def shape(
        self, rubric_id: int, values: Any, details: Any, *, remember: bool = True
    ) -> tuple[tuple[Any, ...], tuple[Any, Any]]:
        """:meth:`labels` of the stored values and details (JSON text, or parsed).

        ``remember``: keep the result for the next review with the same text (callers that
        see each distinct text once have nothing to gain from it).
        """
        if not remember:
            return self.labels(rubric_id, _json(values) or {}, _json(details) or {})
        hashable = not isinstance(values, dict) and not isinstance(details, dict)
        if hashable:
            key = (rubric_id, values, details)
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        shaped = self.labels(rubric_id, _json(values) or {}, _json(details) or {})
        if hashable:
            if len(self._cache) >= self.CACHE:
                self._cache.clear()
            self._cache[key] = shaped
        return shaped

    def rows(self, records: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Rows (never to be mutated: cells of equal labels are shared)."""
        out: list[tuple[Any, ...]] = []
        shapers = self.plan.shapers
        redact = self.redact
        cache = self._cache
        shape = self.shape
        iso_times = self.iso_times
        batch = self.batch_names.get
        # Each field's position in the record (ReviewRecord), looked up by name once.
        at = R
        uid, key, revision, batch_id = at["uid"], at["session_key"], at["revision"], at["batch_id"]
        reviewer, role, status, reason_at = (
            at["reviewer"],
            at["role"],
            at["status"],
            at["status_reason"],
        )
        rubric_id, values, details = at["rubric_id"], at["values"], at["details"]
        failure_step, active, simulated = at["failure_step"], at["active_seconds"], at["simulated"]
        started_at, submitted_at, updated_at = (
            at["started_at"],
            at["submitted_at"],
            at["updated_at"],
        )
        origin, conflict_of, model = at["origin"], at["conflict_of"], at["model"]
        agent_name, agent_version = at["agent_name"], at["agent_version"]
        session_started_at, source_format = at["session_started_at"], at["source_format"]
        for r in records:
            rid = r[rubric_id]
            shaper = shapers[rid]
            hit = cache.get((rid, r[values], r[details]))
            head, tail = hit if hit is not None else shape(rid, r[values], r[details])
            reason = r[reason_at]
            if iso_times:  # the hot path (SQLite): times are ISO text already
                started, submitted, updated, session_started = (
                    r[started_at],
                    r[submitted_at],
                    r[updated_at],
                    r[session_started_at],
                )
            else:
                started, submitted, updated, session_started = (
                    iso(r[started_at]),
                    iso(r[submitted_at]),
                    iso(r[updated_at]),
                    iso(r[session_started_at]),
                )
            out.append(
                (
                    r[uid],
                    r[key],
                    r[revision],
                    batch(r[batch_id]),
                    r[reviewer],
                    r[role],
                    r[status],
                    text_cell(reason, redact) if reason is not None else None,
                    shaper.name,
                    shaper.version,
                    *head,
                    r[failure_step],
                    *tail,
                    started,
                    submitted,
                    updated,
                    r[active],
                    bool(r[simulated]),
                    r[origin],
                    r[conflict_of],
                    r[agent_name],
                    r[agent_version],
                    r[model],
                    session_started,
                    r[source_format],
                )
            )
        return out
