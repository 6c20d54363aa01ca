"""Review batches: draw a reproducible sample, assign it, store it with its full spec."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import exists, insert, select

from reviewer import __version__
from reviewer.domain.batch import Batch, BatchItem, SamplingSpec
from reviewer.domain.filters import FilterError, parse_where
from reviewer.domain.rubric import Rubric
from reviewer.domain.sampling import SamplingError, Unit, assign, draw, sample_size
from reviewer.services.filters import latest_session_ids
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.store.rubrics import find_rubric, store_rubric
from reviewer.store.tables import (
    AssignmentRow,
    BatchItemRow,
    BatchRow,
    ReviewRow,
    SessionRow,
    SessionScore,
)
from reviewer.store.workspace import Workspace

STRATUM_FIELDS: dict[str, Any] = {
    "agent": SessionRow.agent_name,
    "version": SessionRow.agent_version,
    "model": SessionRow.model,
    "tool_error": SessionRow.has_tool_error,
    "escalated": SessionRow.escalated,
}
PRIORITY_SIGNALS = ("negative_feedback", "escalated", "low_judge", "tool_error")
"""Signals priority sampling can favour: each is 0…1 per session."""


class BatchError(Exception):
    """The batch cannot be made or found as asked; the message says why."""


class StratumPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stratum: str
    population: int
    needed: int


class Plan(BaseModel):
    """How many sessions each stratum needs to estimate a failure rate within the margin."""

    model_config = ConfigDict(extra="forbid")

    margin: float
    confidence: float
    population: int
    strata: list[StratumPlan]
    total: int


def _parse(spec: SamplingSpec) -> Any:
    try:
        return parse_where(spec.where)
    except FilterError as exc:
        raise BatchError(f"--where: {exc}") from None


def _check_fields(spec: SamplingSpec) -> None:
    unknown = [f for f in spec.stratify_by if f not in STRATUM_FIELDS]
    if unknown:
        raise BatchError(
            f"cannot stratify by {', '.join(unknown)}; fields: {', '.join(STRATUM_FIELDS)}"
        )
    bad = [p for p in spec.priority if p not in PRIORITY_SIGNALS]
    if bad:
        raise BatchError(
            f"unknown priority signal {', '.join(bad)}; signals: {', '.join(PRIORITY_SIGNALS)}"
        )


def _label(fields: list[str], values: tuple[Any, ...]) -> str:
    return " | ".join(f"{f}={'' if v is None else v}" for f, v in zip(fields, values, strict=True))


def population(ws: Workspace, spec: SamplingSpec) -> list[Unit]:
    """The sessions a batch is drawn from, with their stratum and priority signals."""
    _check_fields(spec)
    where = _parse(spec)
    cols = [STRATUM_FIELDS[f] for f in spec.stratify_by]
    ids_q = latest_session_ids(where)
    q = select(
        SessionRow.id, SessionRow.user_feedback, SessionRow.escalated, SessionRow.has_tool_error,
        *cols,
    ).where(SessionRow.id.in_(ids_q.with_only_columns(SessionRow.id).order_by(None)))  # fmt: skip
    if not spec.include_reviewed:
        q = q.where(
            ~exists().where(ReviewRow.session_id == SessionRow.id, ReviewRow.status == "submitted")
        )
    with ws.read() as s:
        rows = s.execute(q.order_by(SessionRow.id)).all()
        judge: dict[int, float] = {}
        if "low_judge" in spec.priority:
            for sid, low in s.execute(
                select(SessionScore.session_id, SessionScore.value).order_by(
                    SessionScore.session_id
                )
            ):
                judge[sid] = min(judge.get(sid, 1.0), float(low))
    units = []
    for r in rows:
        signals = {
            "negative_feedback": 1.0
            if r.user_feedback is not None and r.user_feedback < 0
            else 0.0,
            "escalated": 1.0 if r.escalated else 0.0,
            "tool_error": 1.0 if r.has_tool_error else 0.0,
            "low_judge": 1.0 - max(0.0, min(1.0, judge.get(r.id, 1.0))),
        }
        stratum = _label(spec.stratify_by, tuple(r[4:])) if spec.stratify_by else ""
        units.append(Unit(r.id, stratum, signals))
    return units


def _gold_candidates(ws: Workspace, exclude: set[int]) -> list[int]:
    with ws.read() as s:
        ids = s.scalars(
            select(ReviewRow.session_id)
            .where(ReviewRow.role == "gold", ReviewRow.status == "submitted")
            .distinct()
            .order_by(ReviewRow.session_id)
        ).all()
    return [i for i in ids if i not in exclude]


def create_batch(
    ws: Workspace,
    name: str,
    spec: SamplingSpec,
    *,
    rubric: Rubric | None = None,
    progress: Progress = NO_PROGRESS,
) -> Batch:
    """Draw, assign and store a batch; the same workspace, spec and seed give the same batch."""
    with ws.read() as s:
        if s.scalar(select(BatchRow.id).where(BatchRow.name == name)) is not None:
            raise BatchError(f"a batch named {name!r} exists already; choose another name")
    progress.update(0, None, "Reading the population")
    units = population(ws, spec)
    if not units:
        raise BatchError("no session matches (check --where, or use --include-reviewed)")
    try:
        drawn = draw(
            units,
            spec.size,
            seed=spec.seed,
            stratified=bool(spec.stratify_by),
            allocation=spec.allocation,
            priority=spec.priority or None,
        )
    except SamplingError as exc:
        raise BatchError(str(exc)) from None
    progress.check()
    gold_ids: list[int] = []
    if spec.gold:
        candidates = _gold_candidates(ws, {d.id for d in drawn})
        if len(candidates) < spec.gold:
            raise BatchError(
                f"--gold {spec.gold}: only {len(candidates)} sessions have reference labels"
                " (reviews with role gold)"
            )
        gold_ids = random.Random(spec.seed + 2).sample(candidates, spec.gold)
    try:
        placed = assign(
            [d.id for d in drawn],
            spec.reviewers,
            overlap=spec.overlap,
            seed=spec.seed,
            gold=gold_ids,
        )
    except SamplingError as exc:
        raise BatchError(str(exc)) from None
    by_id = {d.id: d for d in drawn}
    pop_counts = Counter(u.stratum for u in units)
    sample_counts = Counter(d.stratum for d in drawn)
    strata = {
        h or "all": {"population": pop_counts[h], "sample": sample_counts.get(h, 0)}
        for h in sorted(pop_counts)
    }
    now = datetime.now(UTC)
    with ws.write() as s:
        if rubric is not None:
            rubric_id, rubric = store_rubric(s, rubric)
        else:
            found = find_rubric(s, spec.rubric_name)
            if found is None:
                raise BatchError(f"no rubric named {spec.rubric_name!r} in this workspace")
            rubric_id, rubric = found
        stored_spec = spec.model_copy(
            update={"rubric_name": rubric.name, "rubric_version": rubric.version}
        )
        row = BatchRow(
            name=name,
            spec={**stored_spec.model_dump(mode="json"), "app_version": __version__},
            rubric_id=rubric_id,
            blind=spec.blind,
            created_at=now,
            population=len(units),
            strata=strata,
        )
        s.add(row)
        s.flush()
        item_rows = [
            {
                "batch_id": row.id,
                "session_id": a.id,
                "position": a.position,
                "stratum": by_id[a.id].stratum if a.id in by_id else None,
                "inclusion_probability": by_id[a.id].probability if a.id in by_id else 1.0,
                "is_gold": a.is_gold,
            }
            for a in placed
        ]
        s.execute(insert(BatchItemRow), item_rows)
        positions = select(BatchItemRow.position, BatchItemRow.id).where(
            BatchItemRow.batch_id == row.id
        )
        item_ids = {pos: item_id for pos, item_id in s.execute(positions)}
        assignments = [
            {"item_id": item_ids[a.position], "reviewer": r} for a in placed for r in a.reviewers
        ]
        if assignments:
            s.execute(insert(AssignmentRow), assignments)
    progress.update(len(placed), len(placed), "Batch stored")
    return get_batch(ws, name)


def get_batch(ws: Workspace, name: str) -> Batch:
    """A stored batch with its items in order and who reviews each."""
    with ws.read() as s:
        row = s.scalar(select(BatchRow).where(BatchRow.name == name))
        if row is None:
            raise BatchError(f"no batch named {name!r} in this workspace")
        items = s.execute(
            select(
                BatchItemRow.id, BatchItemRow.position, SessionRow.session_key,
                SessionRow.revision, BatchItemRow.stratum, BatchItemRow.inclusion_probability,
                BatchItemRow.is_gold,
            )
            .join(SessionRow, SessionRow.id == BatchItemRow.session_id)
            .where(BatchItemRow.batch_id == row.id)
            .order_by(BatchItemRow.position)
        ).all()  # fmt: skip
        who: dict[int, list[str]] = {}
        for item_id, reviewer in s.execute(
            select(AssignmentRow.item_id, AssignmentRow.reviewer)
            .join(BatchItemRow, BatchItemRow.id == AssignmentRow.item_id)
            .where(BatchItemRow.batch_id == row.id)
            .order_by(AssignmentRow.reviewer)
        ):
            who.setdefault(item_id, []).append(reviewer)
        spec = SamplingSpec.model_validate(
            {k: v for k, v in row.spec.items() if k in SamplingSpec.model_fields}
        )
        return Batch(
            name=row.name,
            spec=spec,
            created_at=row.created_at,
            population=row.population,
            strata=row.strata or {},
            items=[
                BatchItem(
                    position=i.position,
                    session_key=i.session_key,
                    session_revision=i.revision,
                    stratum=i.stratum,
                    inclusion_probability=i.inclusion_probability,
                    is_gold=i.is_gold,
                    reviewers=who.get(i.id, []),
                )
                for i in items
            ],
        )


def list_batches(ws: Workspace) -> list[dict[str, Any]]:
    with ws.read() as s:
        rows = s.execute(
            select(
                BatchRow.name, BatchRow.created_at, BatchRow.population, BatchRow.blind
            ).order_by(BatchRow.created_at)
        ).all()
        counts = Counter(
            s.scalars(
                select(BatchRow.name).join(BatchItemRow, BatchItemRow.batch_id == BatchRow.id)
            )
        )
    return [
        {
            "name": r.name,
            "created_at": r.created_at.isoformat(),
            "population": r.population,
            "items": counts[r.name],
            "blind": r.blind,
        }
        for r in rows
    ]


def plan(ws: Workspace, spec: SamplingSpec, *, margin: float, confidence: float) -> Plan:
    """Sample sizes per stratum for a failure rate within ±margin (worst case p = 0.5)."""
    units = population(ws, spec)
    counts = Counter(u.stratum for u in units)
    try:
        strata = [
            StratumPlan(
                stratum=h or "all",
                population=n,
                needed=sample_size(n, margin=margin, confidence=confidence),
            )
            for h, n in sorted(counts.items())
        ]
    except SamplingError as exc:
        raise BatchError(str(exc)) from None
    return Plan(
        margin=margin,
        confidence=confidence,
        population=len(units),
        strata=strata,
        total=sum(p.needed for p in strata),
    )
