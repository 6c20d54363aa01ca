"""Pairwise batches: draw pairs of sessions of two agent versions on the same task, store them.

Public use cases: :func:`create_pair_batch`, :func:`plan_pairs` and :func:`candidates`.
A pairwise batch is an ordinary batch (same table, spec, assignment, claims) whose items
also name a second session (``batch_items.pair_session_id``, shown on the right) and which
compared value is on the left (``pair_left``).
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from reviewer.domain.batch import Batch, PairSpec, SamplingSpec
from reviewer.domain.pairing import PairCandidate, Side, draw_pairs, pairable
from reviewer.domain.rubric import Rubric
from reviewer.domain.sampling import SamplingError, assign
from reviewer.services.batches import (
    BatchError,
    check_new_name,
    get_batch,
    store_new_batch,
    where_filter,
)
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.store.batches import PAIR_COLUMNS, pair_candidate_rows
from reviewer.store.sessions import session_metadata
from reviewer.store.workspace import Workspace

__all__ = [
    "PairPlan",
    "candidates",
    "compared_values",
    "create_pair_batch",
    "pair_spec",
    "plan_pairs",
]

COLUMN_FIELDS: tuple[str, ...] = tuple(PAIR_COLUMNS)
"""Keys and compared fields read from indexed columns; ``metadata.NAME`` reads the content."""
METADATA = "metadata."


class PairPlan(BaseModel):
    """``reviewer sample --pairs --plan --json``: how many pairs a spec can give."""

    model_config = ConfigDict(extra="forbid")

    key: str
    field: str
    a: str
    b: str
    sessions_a: int
    """Eligible sessions with ``field`` = ``a`` and a task key."""
    sessions_b: int
    keys_a: int
    """Distinct task keys among the A sessions."""
    keys_b: int
    pairs: int
    """Task keys with a session on both sides: the most pairs a batch can hold."""


def _check(name: str, what: str) -> None:
    if name in COLUMN_FIELDS or (name.startswith(METADATA) and len(name) > len(METADATA)):
        return
    raise BatchError(f"{what} {name!r} is unknown; use {', '.join(COLUMN_FIELDS)} or metadata.NAME")


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format(value, "g") if isinstance(value, float) else str(value)
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def candidates(ws: Workspace, spec: SamplingSpec) -> list[PairCandidate]:
    """Every eligible session (latest revision matching ``spec.where``) with a task key and
    one of the two compared values, in id order. Sessions with single reviews stay
    eligible: comparing a reviewed session is still informative."""
    pairs = spec.pairs
    if pairs is None:
        raise BatchError("not a pairwise spec (--pairs)")
    if pairs.a == pairs.b:
        raise BatchError("--compare needs two different values, e.g. version=1.0,2.0")
    out = []
    for sid, key, value in _keyed_values(ws, spec, pairs.key, pairs.field):
        if value not in (pairs.a, pairs.b):
            continue
        side: Side = "A" if value == pairs.a else "B"
        out.append(PairCandidate(sid, key, side))
    return out


def compared_values(ws: Workspace, spec: SamplingSpec, key: str, field: str) -> dict[str, int]:
    """The values ``field`` takes among eligible sessions that have a task key (``key``),
    each with how many task keys have a session with it, most first: what a pairwise
    batch can compare (the New batch dialog offers them)."""
    keys: dict[str, set[str]] = {}
    for _sid, task, value in _keyed_values(ws, spec, key, field):
        if value is not None:
            keys.setdefault(value, set()).add(task)
    return dict(sorted(((v, len(k)) for v, k in keys.items()), key=lambda p: (-p[1], p[0])))


def _keyed_values(
    ws: Workspace, spec: SamplingSpec, key: str, field: str
) -> list[tuple[int, str, str | None]]:
    """(session id, task key, compared value as text) of every eligible session with a task
    key, in id order."""
    _check(key, "--pair-on")
    _check(field, "--compare field")
    names = [key, field]
    where = where_filter(spec)
    with ws.read() as s:
        rows = pair_candidate_rows(s, where, [n for n in names if n in COLUMN_FIELDS])
        metadata: dict[int, dict[str, Any]] = {}
        if any(n.startswith(METADATA) for n in names):
            metadata = session_metadata(s, [r[0] for r in rows])
    out = []
    for sid, *values in rows:
        got: dict[str, Any] = dict(
            zip([n for n in names if n in COLUMN_FIELDS], values, strict=True)
        )
        for n in names:
            if n.startswith(METADATA):
                got[n] = metadata.get(sid, {}).get(n[len(METADATA) :])
        task = _text(got[key])
        if task is not None:
            out.append((sid, task, _text(got[field])))
    return out


def plan_pairs(ws: Workspace, spec: SamplingSpec) -> PairPlan:
    """How many sessions and task keys each side has, and how many pairs exist."""
    found = candidates(ws, spec)
    assert spec.pairs is not None
    a = [c for c in found if c.side == "A"]
    b = [c for c in found if c.side == "B"]
    return PairPlan(
        **spec.pairs.model_dump(),
        sessions_a=len(a),
        sessions_b=len(b),
        keys_a=len({c.key for c in a}),
        keys_b=len({c.key for c in b}),
        pairs=len(pairable(found)),
    )


def create_pair_batch(
    ws: Workspace,
    name: str,
    spec: SamplingSpec,
    *,
    rubric: Rubric | None = None,
    progress: Progress = NO_PROGRESS,
) -> Batch:
    """Draw, assign and store a pairwise batch; the same workspace, spec and seed give the
    same pairs, sides and order. ``spec.size`` is the number of pairs wanted."""
    name = name.strip()
    if not name:
        raise BatchError("the batch needs a name")
    if spec.pairs is None:
        raise BatchError("not a pairwise spec (--pairs)")
    if spec.stratify_by or spec.priority or spec.gold:
        raise BatchError("a pairwise batch cannot be stratified, prioritised or hold gold items")
    check_new_name(ws, name)
    if spec.overlap > 0 and len(set(spec.reviewers)) < 2:
        raise BatchError("an overlap needs at least two reviewers (--reviewers a,b)")
    progress.update(0, None, "Finding pairs")
    found = candidates(ws, spec)
    try:
        drawn = draw_pairs(found, spec.size, seed=spec.seed)
        placed = assign(
            [d.left_id for d in drawn], spec.reviewers, overlap=spec.overlap, seed=spec.seed
        )
    except SamplingError as exc:
        raise BatchError(str(exc)) from None
    if not drawn:
        p = spec.pairs
        raise BatchError(
            f"no task ({p.key}) has a session with {p.field}={p.a} and one with"
            f" {p.field}={p.b} (check --where, --pair-on and --compare; --plan counts them)"
        )
    progress.check()
    keys = pairable(found)
    with ws.write() as s:
        store_new_batch(
            s,
            name,
            spec,
            rubric,
            population=len(keys),
            strata={"pairs": {"population": len(keys), "sample": len(drawn)}},
            items=[
                {
                    "session_id": d.left_id,
                    "pair_session_id": d.right_id,
                    "pair_left": d.left,
                    "pair_key": d.key[:400],
                    "position": a.position,
                    "stratum": "pairs",
                    "inclusion_probability": d.probability,
                    "is_gold": False,
                }
                for d, a in zip(drawn, placed, strict=True)
            ],
            reviewers=[(a.position, r) for a in placed for r in a.reviewers],
        )
    progress.update(len(drawn), len(drawn), "Batch stored")
    return get_batch(ws, name)


def pair_spec(key: str, compare: str) -> PairSpec:
    """``--pair-on KEY --compare FIELD=A,B`` as a :class:`PairSpec`."""
    field, sep, values = compare.partition("=")
    parts = [v.strip() for v in values.split(",")]
    if not sep or len(parts) != 2 or not all(parts) or not field.strip():
        raise BatchError(f"--compare {compare}: expected FIELD=A,B, e.g. version=1.0,2.0")
    return PairSpec(key=key.strip(), field=field.strip(), a=parts[0], b=parts[1])
