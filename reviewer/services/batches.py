"""Review batches: draw a reproducible sample, assign it, store it with its full spec.

Public use cases: :func:`create_batch`, :func:`get_batch`, :func:`list_batches`,
:func:`batch_as_json`, :func:`plan` and :func:`population` (the units a batch is drawn from).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import Counter
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

from reviewer import __version__
from reviewer.domain.batch import (
    Batch,
    BatchSummary,
    Plan,
    SamplingSpec,
    StratumPlan,
)
from reviewer.domain.filters import FilterError, FilterSpec, parse_where
from reviewer.domain.rubric import Rubric
from reviewer.domain.sampling import (
    Drawn,
    SamplingError,
    Unit,
    allocate,
    assign,
    draw,
    draw_positions,
    sample_size,
    z_value,
)
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.store import batches as store
from reviewer.store.rubrics import find_rubric, store_rubric
from reviewer.store.workspace import UnitOfWork, Workspace

__all__ = [
    "PRIORITY_SIGNALS",
    "STRATUM_FIELDS",
    "BatchError",
    "Plan",
    "StratumPlan",
    "batch_as_json",
    "create_batch",
    "get_batch",
    "list_batches",
    "plan",
    "population",
    "strata_sizes",
]

STRATUM_FIELDS: tuple[str, ...] = tuple(store.STRATUM_COLUMNS)
"""Fields a batch can be stratified by."""

PRIORITY_SIGNALS = ("negative_feedback", "escalated", "low_judge", "tool_error")
"""Signals priority sampling can favour, each 0…1 per session: feedback below 0, escalated,
1 − the session's lowest judge score (scores are read as 0…1, clamped), a tool error."""

ALL = "all"
"""The stratum of every item of a batch that is not stratified."""


class BatchError(Exception):
    """The batch cannot be made or found as asked; the message says why."""


def _filter(spec: SamplingSpec) -> FilterSpec:
    try:
        return parse_where(spec.where)
    except FilterError as exc:
        raise BatchError(f"--where: {exc}") from None


where_filter = _filter
"""``spec.where`` parsed (a :class:`BatchError` naming the problem if it cannot be)."""


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
    if not fields:
        return ALL
    return " | ".join(
        f"{f}={'(none)' if v is None else v}" for f, v in zip(fields, values, strict=True)
    )


def population(ws: Workspace, spec: SamplingSpec) -> list[Unit]:
    """The sessions a batch is drawn from, with their stratum and priority signals.

    The latest revision of every session matching ``spec.where``, in id order; sessions
    with a submitted review are left out unless ``spec.include_reviewed``.
    """
    _check_fields(spec)
    where = _filter(spec)
    with ws.read() as s:
        rows = store.population_rows(
            s,
            where,
            spec.stratify_by,
            low_judge="low_judge" in spec.priority,
            include_reviewed=spec.include_reviewed,
        )
    labels: dict[tuple[Any, ...], str] = {}
    units = []
    for sid, feedback, escalated, tool_error, low, *values in rows:
        key = tuple(values)
        label = labels.get(key)
        if label is None:
            label = labels[key] = _label(spec.stratify_by, key)
        signals = {
            "negative_feedback": 1.0 if feedback is not None and feedback < 0 else 0.0,
            "escalated": 1.0 if escalated else 0.0,
            "tool_error": 1.0 if tool_error else 0.0,
            "low_judge": 1.0 - max(0.0, min(1.0, float(1.0 if low is None else low))),
        }
        units.append(Unit(sid, label, signals))
    return units


def strata_sizes(ws: Workspace, spec: SamplingSpec) -> dict[str, int]:
    """How many sessions each stratum holds for ``spec``, counted in the database."""
    _check_fields(spec)
    where = _filter(spec)
    with ws.read() as s:
        rows = store.strata_counts(
            s, where, spec.stratify_by, include_reviewed=spec.include_reviewed
        )
    sizes: dict[str, int] = {}
    for n, *values in rows:
        if n:
            label = _label(spec.stratify_by, tuple(values))
            sizes[label] = sizes.get(label, 0) + n
    return sizes


def _gold_candidates(ws: Workspace, exclude: set[int]) -> list[int]:
    with ws.read() as s:
        ids = store.gold_session_ids(s)
    return [i for i in ids if i not in exclude]


def _draw(ws: Workspace, spec: SamplingSpec) -> tuple[list[Drawn], dict[str, int]]:
    """The drawn sessions in review order, and how many sessions each stratum holds."""
    found = None if spec.priority else _draw_by_position(ws, spec)
    if found is not None:
        drawn, sizes = found
    else:
        units = population(ws, spec)
        sizes = dict(Counter(u.stratum for u in units))
        drawn = []
        if units:
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
    if not sizes:
        left_out = "" if spec.include_reviewed else ", or use --include-reviewed"
        raise BatchError(f"no session to draw from (check --where{left_out})")
    return drawn, sizes


def _draw_by_position(
    ws: Workspace, spec: SamplingSpec
) -> tuple[list[Drawn], dict[str, int]] | None:
    """:func:`draw` of the :func:`population` without reading it: the database counts each
    stratum per range of ids (without ``--where``: reads the counts kept on write), the
    positions are drawn from the counts (:func:`draw_positions`, the same batch for the same
    seed), then only the sessions at those positions are read. None when that cannot be
    done (two strata share a label, no session is counted, or the sessions changed
    meanwhile): the caller reads the population instead."""
    _check_fields(spec)
    where = _filter(spec)
    fields = spec.stratify_by
    with ws.read() as s:
        width = store.population_chunk(s)
        if not where.clauses:  # the counts kept on write
            width = store.KEPT_WIDTH
            rows = store.kept_chunk_counts(s, fields, include_reviewed=spec.include_reviewed)
        else:
            rows = store.strata_chunk_counts(
                s, where, fields, include_reviewed=spec.include_reviewed, width=width
            )
        labels: dict[tuple[Any, ...], str] = {}
        ranges: dict[str, list[tuple[int, int]]] = {}
        for chunks, counts, key in rows:
            label = labels[key] = _label(fields, key)
            if label in ranges:  # e.g. a stored "(none)" beside NULL: keep them apart
                return None
            ranges[label] = sorted(zip(chunks, counts, strict=True))
        sizes = {h: sum(n for _, n in r) for h, r in ranges.items() if r}
        if not sizes:  # nothing to draw from (or no counts kept): the caller reads and says
            return None
        try:
            picks = draw_positions(
                sizes, spec.size, seed=spec.seed, stratified=bool(fields),
                allocation=spec.allocation,
            )  # fmt: skip
        except SamplingError as exc:
            raise BatchError(str(exc)) from None
        starts: dict[str, tuple[list[int], list[int]]] = {}
        for h, r in ranges.items():
            firsts = list(accumulate((n for _, n in r), initial=0))[:-1]
            starts[h] = ([c for c, _ in r], firsts)
        wanted: dict[tuple[str, int, int], int] = {}
        for i, (h, position, _) in enumerate(picks):
            chunks, firsts = starts[h]
            j = bisect_right(firsts, position) - 1
            wanted[(h, chunks[j], position - firsts[j])] = i
        found = store.ids_at_positions(
            s, where, fields, include_reviewed=spec.include_reviewed, width=width,
            places=[(c, o) for _, c, o in wanted],
        )  # fmt: skip
    ids: list[int | None] = [None] * len(picks)
    for sid, chunk, offset, *values in found:
        at = wanted.get((labels.get(tuple(values), ""), int(chunk), int(offset)))
        if at is not None:
            ids[at] = int(sid)
    if any(i is None for i in ids):
        return None
    return [Drawn(int(sid or 0), h, p) for sid, (h, _, p) in zip(ids, picks, strict=True)], sizes


def create_batch(
    ws: Workspace,
    name: str,
    spec: SamplingSpec,
    *,
    rubric: Rubric | None = None,
    progress: Progress = NO_PROGRESS,
) -> Batch:
    """Draw, assign and store a batch; the same workspace, spec and seed give the same batch.

    ``rubric`` (e.g. read from ``--rubric FILE``) is stored first: its version is reused
    when the same definition is stored already, else it becomes the next version of its
    name. Without it the batch pins the latest version of ``spec.rubric_name``.
    """
    name = name.strip()
    if not name:
        raise BatchError("the batch needs a name")
    check_new_name(ws, name)
    if spec.overlap > 0 and len(set(spec.reviewers)) < 2:
        raise BatchError("an overlap needs at least two reviewers (--reviewers a,b)")
    progress.update(0, None, "Reading the population")
    drawn, sizes = _draw(ws, spec)
    progress.check()
    gold_ids: list[int] = []
    if spec.gold:
        candidates = _gold_candidates(ws, {d.id for d in drawn})
        if len(candidates) < spec.gold:
            raise BatchError(
                f"--gold {spec.gold}: only {len(candidates)} sessions have reference labels"
                " (submitted reviews with role gold)"
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
    progress.check()
    by_id = {d.id: d for d in drawn}
    sample_counts = Counter(d.stratum for d in drawn)
    strata = {h: {"population": sizes[h], "sample": sample_counts.get(h, 0)} for h in sorted(sizes)}
    with ws.write() as s:
        store_new_batch(
            s,
            name,
            spec,
            rubric,
            population=sum(sizes.values()),
            strata=strata,
            items=[
                {
                    "session_id": a.id,
                    "position": a.position,
                    "stratum": None if a.is_gold else by_id[a.id].stratum,
                    "inclusion_probability": 1.0 if a.is_gold else by_id[a.id].probability,
                    "is_gold": a.is_gold,
                }
                for a in placed
            ],
            reviewers=[(a.position, r) for a in placed for r in a.reviewers],
        )
    progress.update(len(placed), len(placed), "Batch stored")
    return get_batch(ws, name)


def get_batch(ws: Workspace, name: str) -> Batch:
    """A stored batch with its items in order and who reviews each."""
    with ws.read() as s:
        batch = store.load_batch(s, name)
        if batch is None:
            known = store.batch_names(s, 10)
            hint = f"; batches: {', '.join(known)}" if known else " (it has none yet)"
            raise BatchError(f"no batch named {name!r} in this workspace{hint}")
    return batch


def batch_as_json(batch: Batch) -> str:
    """The batch as one JSON object (``schemas/batch.schema.json``)."""
    return batch.model_dump_json()


def list_batches(ws: Workspace) -> list[BatchSummary]:
    """Every batch of the workspace, oldest first."""
    with ws.read() as s:
        return store.batch_summaries(s)


def plan(
    ws: Workspace,
    spec: SamplingSpec,
    *,
    margin: float,
    confidence: float,
    size: int | None = None,
) -> Plan:
    """Sample sizes per stratum to estimate a failure rate within ±margin (worst case p = 0.5).

    With ``size``, each stratum also shows what a batch of that size would give it under
    ``spec.allocation``.
    """
    counts = strata_sizes(ws, spec)
    total = sum(counts.values())
    try:
        z = z_value(confidence)
        needed = {
            h: sample_size(n, margin=margin, confidence=confidence) for h, n in counts.items()
        }
        overall = sample_size(total, margin=margin, confidence=confidence)
        gets = allocate(dict(counts), size, spec.allocation) if size and counts else {}
    except SamplingError as exc:
        raise BatchError(str(exc)) from None
    return Plan(
        margin=margin,
        confidence=confidence,
        z=z,
        population=total,
        strata=[
            StratumPlan(
                stratum=h,
                population=counts[h],
                needed=needed[h],
                allocated=gets.get(h) if size else None,
            )
            for h in sorted(counts)
        ],
        total=sum(needed.values()),
        overall=overall,
        size=size,
    )


def check_new_name(ws: Workspace, name: str) -> None:
    with ws.read() as s:
        if store.batch_id(s, name) is not None:
            raise BatchError(f"a batch named {name!r} exists already; choose another name")


def store_new_batch(
    s: UnitOfWork,
    name: str,
    spec: SamplingSpec,
    rubric: Rubric | None,
    *,
    population: int,
    strata: dict[str, Any],
    items: list[dict[str, Any]],
    reviewers: list[tuple[int, str]],
) -> None:
    """Store a batch with its items and reviewers (see ``reviewer.store.batches.add_batch``),
    its rubric pinned (``rubric`` stored, else the workspace's rubric of the spec's name)
    and its full spec kept with the app version and time."""
    if rubric is not None:
        rubric_id, pinned = store_rubric(s, rubric)
    else:
        found = find_rubric(s, spec.rubric_name)
        if found is None:
            raise BatchError(f"no rubric named {spec.rubric_name!r} in this workspace")
        rubric_id, pinned = found
    stored_spec = spec.model_copy(
        update={"rubric_name": pinned.name, "rubric_version": pinned.version}
    )
    now = datetime.now(UTC)
    try:
        store.add_batch(
            s,
            name=name,
            spec={
                **stored_spec.model_dump(mode="json"),
                "app_version": __version__,
                "created_at": now.isoformat(),
            },
            rubric_id=rubric_id,
            blind=spec.blind,
            created_at=now,
            population=population,
            strata=strata,
            items=items,
            reviewers=reviewers,
        )
    except store.BatchNameTaken:
        raise BatchError(f"a batch named {name!r} exists already; choose another name") from None
