"""Reading what the figures need: a few narrow column sets, filtered in SQL, coded as numbers.

Every text that figures group by (reviewer, agent version, stratum) arrives as an integer
code with a list of names, and dates as days since 1970-01-01, so that pandas merges and
groups on integers only.
"""

from __future__ import annotations

from concurrent.futures import as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from reviewer.services.analytics.query import NO_BATCH, AnalyticsError, StatsQuery
from reviewer.services.analytics.reading import Dim as Dim
from reviewer.services.analytics.reading import Reading, start_reading
from reviewer.services.analytics.reading import dimensions as dimensions
from reviewer.services.progress import Progress
from reviewer.store import analytics as store
from reviewer.store.analytics import STATUS_CODES as STATUS_CODES
from reviewer.store.workspace import Workspace

SUBMITTED = STATUS_CODES["submitted"]


@dataclass
class Data:
    """Everything the figures are computed from."""

    dims: list[Dim]
    tag_labels: dict[str, str]
    has_taxonomy: bool
    batch_names: dict[int, str]
    reviewers: list[str]
    versions: list[str | None]
    strata: list[str | None]
    reviews: pd.DataFrame
    """batch_id, session_id, failed, d0…, rv (reviewer code), status, active, ix."""
    items: pd.DataFrame
    """Every item: item_id, batch_id, session_id, stratum (code), pi, gold, version (code),
    day, key — batch items, then one per session reviewed outside any batch (item_id -1,
    batch_id -1, pi 1). ``ix`` in the other frames is a row position here (-1: none)."""
    assignments: pd.DataFrame
    """item_id, rv, ix."""
    preferences: pd.DataFrame
    """Preferences between the two sessions of pair items: item_id, rv, status, active, ix."""
    adjudications: pd.DataFrame
    gold: pd.DataFrame
    tags: pd.DataFrame
    """tag, count: failure tags of submitted reviews."""
    suggestions: pd.DataFrame
    """Per review of ``reviews``: rv, submitted, active, and where it keeps suggestion
    records the records and the values as JSON text (else None)."""
    scores: pd.DataFrame
    """session_id, judge, score: for a uniform sample of the reviewed sessions."""
    judge_sample: int | None = None
    """Sessions in the judge sample when it is one (None: every reviewed session)."""


_SESSION_BITS = 40


def item_key(df: pd.DataFrame) -> np.ndarray:
    """One int64 per (batch_id, session_id): merges and groups on one integer column."""
    session = df["session_id"].to_numpy(dtype=np.int64)
    if len(session) and int(session.max()) >= 1 << _SESSION_BITS:
        raise AnalyticsError("session ids beyond 2**40 are not supported by the analytics")
    batch = df["batch_id"].to_numpy(dtype=np.int64) + 1
    return np.left_shift(batch, _SESSION_BITS) | session


def _codes(values: pd.Series | pd.Categorical) -> tuple[np.ndarray, list[Any]]:
    """Integer codes of a text column (-1 for missing) and the names they stand for."""
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    return codes.astype("int64"), [str(u) for u in uniques]


def _categorical(values: pd.Series) -> pd.Categorical:
    """A text column as a categorical with categories of Python strings (as the reads give
    their ``keys``: see :func:`store.to_frame`)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.array
    raw = values.to_numpy(dtype=object)
    names = pd.Index(sorted({v for v in raw.tolist() if v is not None}), dtype=object)
    return pd.Categorical(raw, categories=names)


def _ints(df: pd.DataFrame, *columns: str) -> None:
    for c in columns:
        df[c] = df[c].astype("int64") if len(df) else pd.Series(dtype="int64")


def _floats(df: pd.DataFrame, *columns: str) -> None:
    for c in columns:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)


def load(
    ws: Workspace, query: StatsQuery, progress: Progress, reading: Reading | None = None
) -> Data:
    """Read the columns behind every figure for ``query`` — through ``reading`` when the
    reads were started already (:func:`start_reading`; closed here).

    The reads run on reader threads, each in a read transaction of its own (a review saved
    meanwhile may be counted in one figure and not yet in another); each becomes a frame
    here as it finishes, while the others still run.
    """
    if reading is None:
        reading = start_reading(ws, query)
    elif reading.query != query:
        reading.close()
        raise ValueError("the reads started were for another query")
    with reading:
        cat, dims, tag_labels = reading.catalogue, reading.dims, reading.tag_labels
        options = reading.options
        frames: dict[str, Any] = {}
        total = len(reading.pending)
        for done, future in enumerate(as_completed(reading.pending), start=1):
            name = reading.pending[future]
            fetched = future.result()
            frames[name] = (
                store.judge_frame(fetched) if name == "judge scores" else store.to_frame(fetched)
            )
            progress.update(done, total, f"Read {name}")
    rubrics = cat.rubrics
    dim_columns = [d.column for d in dims]
    scores, sample = frames["judge scores"]
    reviewed_with = np.unique(
        np.concatenate(
            [
                frames["reviews"]["rubric_id"].to_numpy(dtype=float),
                frames["labels"]["rubric_id"].to_numpy(dtype=float)[
                    frames["labels"]["gold"].to_numpy(dtype=float) != 1
                ],
            ]
        )
    )
    used = [rubrics[int(i)] for i in reviewed_with.tolist() if int(i) in rubrics]
    names = {d.name for r in used for d in r.dimensions}
    dims = [d for d in dims if d.name in names]  # the dimensions of the rubrics reviewed with
    reviews, items = frames["reviews"], frames["items"]
    assignments, preferences = frames["assignments"], frames["preferences"]
    labels, tags = frames["labels"], frames["tags"]
    is_gold = labels["gold"].to_numpy(dtype=float) == 1
    adjudications = labels[~is_gold].drop(columns=["gold", "rubric_id"]).reset_index(drop=True)
    gold = labels[is_gold].drop(columns=["gold", "rubric_id"]).reset_index(drop=True)
    store.unpack_reviews(reviews, options, cat)
    reviews["active"] = reviews["active"].astype(float) / 10

    _ints(reviews, "batch_id", "session_id", "status")
    _floats(reviews, "failed", *dim_columns)
    for df in (adjudications, gold):
        _ints(df, "review_id", "batch_id", "session_id")
        _floats(df, "failed", *dim_columns)
    _ints(items, "item_id", "batch_id", "session_id")
    _floats(items, "pi")
    items["gold"] = items["gold"].astype(bool)
    batch_items = len(items)
    if len(frames.get("sessions", ())):  # sessions reviewed outside any batch: an item each
        sessions = frames["sessions"]
        _ints(sessions, "session_id")
        sessions = sessions.drop_duplicates("session_id")
        loose = pd.DataFrame(
            {
                "item_id": -1,
                "batch_id": NO_BATCH,
                "session_id": sessions["session_id"].to_numpy(),
                "stratum": None,
                "pi": 1.0,
                "gold": False,
                "version": sessions["version"].to_numpy(dtype=object),
                "day": sessions["day"].to_numpy(),
            }
        )
        items = pd.concat([items, loose], ignore_index=True)
    _floats(items, "day")
    items["version"], versions = _codes(items["version"])
    items["key"] = item_key(items)
    _ints(assignments, "item_id")
    _ints(preferences, "item_id", "status")
    _floats(preferences, "active")
    _ints(tags, "count")
    by_key = pd.Index(items["key"])
    for df in (reviews, adjudications):
        df["ix"] = by_key.get_indexer(item_key(df))
    # batch items come first and have ids of their own (every loose item has id -1)
    in_batches = pd.Index(items["item_id"].iloc[:batch_items])
    assignments["ix"] = in_batches.get_indexer(assignments["item_id"])
    preferences["ix"] = in_batches.get_indexer(preferences["item_id"])

    named = [reviews["reviewer"], assignments["reviewer"], preferences["reviewer"]]
    # the reads give names as categoricals (each name moved once): their codes joined
    rv, reviewers = _codes(
        union_categoricals([_categorical(x) for x in named], sort_categories=True)
    )
    cut = np.cumsum([len(x) for x in named])
    reviews["rv"] = rv[: cut[0]]
    assignments["rv"] = rv[cut[0] : cut[1]]
    preferences["rv"] = rv[cut[1] :]
    items["stratum"], strata = _codes(items["stratum"])
    return Data(
        dims=dims,
        tag_labels=tag_labels,
        has_taxonomy=any(r.taxonomy is not None for r in used),
        batch_names=cat.batch_names,
        reviewers=reviewers,
        versions=list(versions),
        strata=list(strata),
        reviews=reviews.drop(columns=["reviewer", "rubric_id", "records", "values"]),
        suggestions=pd.DataFrame(
            {
                "rv": reviews["rv"].to_numpy(),
                "submitted": reviews["status"].to_numpy() == SUBMITTED,
                "active": reviews["active"].to_numpy(),
                "records": reviews["records"].to_numpy(),
                "values": reviews["values"].to_numpy(),
            }
        ),
        items=items,
        assignments=assignments.drop(columns="reviewer"),
        preferences=preferences.drop(columns="reviewer"),
        adjudications=adjudications,
        gold=gold,
        tags=tags,
        scores=scores,
        judge_sample=sample,
    )
