"""A large workspace for the analytics benchmark, built by bulk insert (no importer).

1,000,000 sessions over five agent versions and 60 days, two judge scores each; eight
batches stratified by version, each assigned to twelve reviewers with 25 % overlap and ten
gold items; 200,000 reviews (mostly submitted, some skipped, flagged or in draft), with
failure tags; fifty reference (gold) reviews by a lead.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson

from reviewer.domain.option_codes import encode
from reviewer.domain.rubric import Rubric
from reviewer.services.workspaces import init_workspace

VERSIONS = ["1.0", "1.1", "2.0", "2.1", "3.0"]
FAIL_RATE = [0.22, 0.18, 0.12, 0.10, 0.16]
TAGS = ["answered_incorrectly", "tool_failure", "hallucination", "incomplete", "looped"]
REVIEWERS = [f"r{i:02d}" for i in range(12)]
T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _ts(seconds: np.ndarray) -> list[str]:
    """SQLAlchemy's SQLite text form of UTC datetimes, T0 + seconds."""
    base = np.datetime64(T0.replace(tzinfo=None), "us")
    stamps = base + (seconds * 1e6).astype("timedelta64[us]")
    return [s.replace("T", " ") for s in np.datetime_as_string(stamps, unit="us")]


def build(
    path: Path,
    *,
    sessions: int = 1_000_000,
    reviews: int = 200_000,
    batches: int = 8,
    seed: int = 5,
) -> dict[str, int]:
    """Write the workspace at ``path``; return what it holds."""
    ws = init_workspace(path)
    ws.close()
    rng = np.random.default_rng(seed)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.000000")

    version_ix = rng.choice(len(VERSIONS), size=sessions, p=[0.15, 0.2, 0.25, 0.25, 0.15])
    started = rng.uniform(0, 60 * 86400, size=sessions)
    started_text = _ts(started)
    tool_error = rng.random(sessions) < 0.08
    steps = rng.integers(3, 30, size=sessions)
    con.executemany(
        "INSERT INTO sessions (id, session_key, revision, is_latest, content_hash, imported_at,"
        " source_format, agent_name, agent_version, model, started_at, step_count,"
        " tool_call_count, has_tool_error) VALUES (?, ?, 1, 1, 'x', ?, 'canonical',"
        " 'support-agent', ?, 'gpt-4o-mini', ?, ?, ?, ?)",
        zip(
            range(1, sessions + 1),
            (f"s-{i:07d}" for i in range(1, sessions + 1)),
            [now] * sessions,
            (VERSIONS[v] for v in version_ix.tolist()),
            started_text,
            steps.tolist(),
            (steps // 3).tolist(),
            tool_error.tolist(),
            strict=True,
        ),
    )
    fails = rng.random(sessions) < np.asarray(FAIL_RATE)[version_ix]
    base = np.where(fails, 0.35, 0.8)
    for name, spread in (("helpfulness", 0.15), ("correctness", 0.2)):
        score = np.clip(rng.normal(base, spread), 0, 1).round(3)
        con.executemany(
            "INSERT INTO session_scores (session_id, name, value) VALUES (?, ?, ?)",
            zip(range(1, sessions + 1), [name] * sessions, score.tolist(), strict=True),
        )

    gold_sessions = rng.choice(np.arange(1, sessions + 1), size=50, replace=False)
    rubric_id, definition = con.execute(
        "SELECT id, definition FROM rubrics WHERE name = 'default'"
    ).fetchone()
    rubric = Rubric.model_validate_json(definition)
    per_batch = reviews // batches
    items_per_batch = int(per_batch / 1.25 / 0.96)  # 25 % overlap, 96 % of work started
    review_rows: list[tuple[object, ...]] = []
    tag_rows: list[tuple[int, str]] = []
    review_id = 0
    used = np.zeros(sessions + 1, dtype=bool)
    used[gold_sessions] = True
    for b in range(batches):
        con.execute(
            "INSERT INTO batches (id, name, spec, rubric_id, blind, created_at, population,"
            " strata) VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
            (
                b + 1,
                f"batch-{b + 1}",
                orjson.dumps({"size": items_per_batch, "stratify_by": ["version"]}).decode(),
                rubric_id,
                now,
                sessions,
                orjson.dumps({}).decode(),
            ),
        )
        free = np.flatnonzero(~used[1:]) + 1
        drawn = rng.choice(free, size=items_per_batch, replace=False)
        used[drawn] = True
        counts = np.bincount(version_ix[drawn - 1], minlength=len(VERSIONS))
        population = np.bincount(version_ix, minlength=len(VERSIONS))
        pi = (counts / population)[version_ix[drawn - 1]]
        gold = gold_sessions[b * 5 : b * 5 + 10] if b * 5 + 10 <= 50 else gold_sessions[:10]
        item_sessions = np.concatenate([drawn, gold])
        n_items = len(item_sessions)
        first_item = b * 100_000 + 1
        item_ids = np.arange(first_item, first_item + n_items)
        con.executemany(
            "INSERT INTO batch_items (id, batch_id, session_id, position, stratum,"
            " inclusion_probability, is_gold) VALUES (?, ?, ?, ?, ?, ?, ?)",
            zip(
                item_ids.tolist(),
                [b + 1] * n_items,
                item_sessions.tolist(),
                range(n_items),
                [f"version={VERSIONS[v]}" for v in version_ix[drawn - 1].tolist()]
                + [None] * len(gold),
                pi.tolist() + [1.0] * len(gold),
                [False] * len(drawn) + [True] * len(gold),
                strict=True,
            ),
        )
        first = rng.integers(0, len(REVIEWERS), size=n_items)
        pairs = [(int(i), REVIEWERS[int(r)]) for i, r in zip(item_ids, first, strict=True)]
        overlap = rng.random(len(drawn)) < 0.25
        second = (first[: len(drawn)] + rng.integers(1, len(REVIEWERS), size=len(drawn))) % len(
            REVIEWERS
        )
        pairs += [
            (int(item_ids[k]), REVIEWERS[int(second[k])]) for k in np.flatnonzero(overlap).tolist()
        ]
        pairs += [(int(i), r) for i in item_ids[len(drawn) :].tolist() for r in REVIEWERS]
        pairs = list(dict.fromkeys(pairs))
        con.executemany("INSERT INTO assignments (item_id, reviewer) VALUES (?, ?)", pairs)
        session_of = dict(zip(item_ids.tolist(), item_sessions.tolist(), strict=True))
        todo = per_batch if b < batches - 1 else reviews - len(review_rows)
        order = rng.permutation(len(pairs))[: min(todo, len(pairs))]
        status = rng.choice(
            ["submitted", "skipped", "flagged", "draft"],
            size=len(order),
            p=[0.94, 0.03, 0.01, 0.02],
        )
        active = np.round(rng.lognormal(4.2, 0.5, size=len(order)), 1)
        submitted = rng.uniform(60 * 86400, 70 * 86400, size=len(order))
        submitted_text = _ts(submitted)
        for k, idx in enumerate(order.tolist()):
            item_id, reviewer = pairs[idx]
            sid = session_of[item_id]
            review_id += 1
            failed = bool(fails[sid - 1]) != (rng.random() < 0.07)
            quality = int(rng.integers(1, 3)) if failed else int(rng.integers(4, 6))
            tags = [TAGS[int(rng.integers(0, len(TAGS)))]] if failed else []
            values = {
                "quality": str(quality),
                "correctness": "incorrect" if failed else "correct",
                "policy": "compliant",
                "failure_categories": tags,
            }
            st = str(status[k])
            review_rows.append(
                (
                    review_id,
                    f"u{review_id:08d}",
                    sid,
                    b + 1,
                    reviewer,
                    "reviewer",
                    rubric_id,
                    orjson.dumps(values).decode(),
                    encode(rubric, values),
                    "{}",
                    st,
                    submitted_text[k],
                    submitted_text[k] if st == "submitted" else None,
                    float(active[k]),
                )
            )
            tag_rows += [(review_id, t) for t in tags]
    for sid in gold_sessions.tolist():
        review_id += 1
        failed = bool(fails[sid - 1])
        values = {
            "quality": "2" if failed else "5",
            "correctness": "incorrect" if failed else "correct",
            "policy": "compliant",
            "failure_categories": ["answered_incorrectly"] if failed else [],
        }
        review_rows.append(
            (
                review_id,
                f"u{review_id:08d}",
                sid,
                None,
                "lead",
                "gold",
                rubric_id,
                orjson.dumps(values).decode(),
                encode(rubric, values),
                "{}",
                "submitted",
                now,
                now,
                120.0,
            )
        )
    con.executemany(
        'INSERT INTO reviews (id, uid, session_id, batch_id, reviewer, role, rubric_id, "values",'
        " option_codes, details, status, updated_at, submitted_at, active_seconds, simulated,"
        " origin, version_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'local', 1)",
        review_rows,
    )
    con.executemany("INSERT INTO review_tags (review_id, tag) VALUES (?, ?)", tag_rows)
    # as saving a review does (the gold labels here keep their tags in the values only)
    con.execute(
        "UPDATE reviews SET failed ="
        " EXISTS (SELECT 1 FROM review_tags WHERE review_tags.review_id = reviews.id)"
    )
    con.commit()
    con.close()
    return {"sessions": sessions, "reviews": len(review_rows), "batches": batches}


if __name__ == "__main__":
    import sys
    import time

    t = time.perf_counter()
    print(build(Path(sys.argv[1])), f"{time.perf_counter() - t:.1f} s")
