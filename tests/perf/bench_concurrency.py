"""An importer, a reviewer, an exporter (read-heavy scans) and a backup on one SQLite
workspace at once: no "database is locked" reaches anyone, saves stay fast, the WAL stays
bounded. Baseline: the same saves with nothing else running.

BENCH_CONCURRENCY_SECONDS sets how long the four run together (default 60).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.perf.harness import Figures, benchmark

SECONDS = float(os.environ.get("BENCH_CONCURRENCY_SECONDS", "60"))


def _saver(db: str, seconds: float, out: Any) -> None:
    from reviewer.domain.review import Review
    from reviewer.resources import default_rubric
    from reviewer.services.reviewing import store
    from reviewer.services.workspaces import open_existing

    ws = open_existing(db)
    rubric = default_rubric()
    times: list[float] = []
    errors: list[str] = []
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        review = Review(
            uid=f"bench-{i:07d}",
            session_key=f"s-{i % 500:04d}",
            reviewer="ana",
            rubric_name=rubric.name,
            rubric_version=rubric.version,
            values={"quality": str(1 + i % 5)},
        )
        t = time.perf_counter()
        try:
            store(ws, review, rubric)
            store(ws, review.model_copy(update={"values": {"quality": "5"}}), rubric)
        except Exception as exc:  # counted: nothing may reach a user
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
        times.append((time.perf_counter() - t) / 2)
        i += 1
    ws.close()
    out.put(("saver", times, errors))


def _importer(db: str, source: str, seconds: float, out: Any) -> None:
    from reviewer.services.importing import import_paths
    from reviewer.services.workspaces import open_existing

    ws = open_existing(db)
    errors: list[str] = []
    rounds = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            import_paths(ws, [Path(source)])  # again and again: duplicates, then nothing
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
        rounds += 1
    ws.close()
    out.put(("importer", [float(rounds)], errors))


def _exporter(db: str, seconds: float, out: Any) -> None:
    from sqlalchemy import text

    from reviewer.services.workspaces import open_existing

    ws = open_existing(db)
    errors: list[str] = []
    scans = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with ws.read() as s:
                s.execute(
                    text(
                        'SELECT r.uid, r."values", s.session_key, c.data FROM reviews r '
                        "JOIN sessions s ON s.id = r.session_id "
                        "JOIN session_content c ON c.session_id = s.id"
                    )
                ).fetchall()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
        scans += 1
    ws.close()
    out.put(("exporter", [float(scans)], errors))


def _backup(db: str, seconds: float, out: Any) -> None:
    from reviewer.services.backups import backup_now

    errors: list[str] = []
    taken = 0
    wal = Path(db + "-wal")
    biggest = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            backup_now(Path(db), "auto")
            taken += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
        for _ in range(20):
            biggest = max(biggest, wal.stat().st_size if wal.exists() else 0)
            time.sleep(0.1)
    out.put(("backup", [float(taken), float(biggest)], errors))


def _p(values: list[float], q: float) -> float:
    data = sorted(values)
    return data[min(len(data) - 1, int(q * (len(data) - 1)))] if data else 0.0


@benchmark("concurrency")
def concurrency() -> Figures:
    from reviewer.services.importing import store_sessions
    from reviewer.services.workspaces import init_workspace
    from reviewer.synth.generator import write_jsonl
    from tests.helpers.factories import make_session

    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as d:
        db = str(Path(d) / "ws.sqlite")
        ws = init_workspace(db)
        store_sessions(ws, [make_session(f"s-{i:04d}") for i in range(500)])
        ws.close()
        source = str(Path(d) / "sessions.jsonl")
        write_jsonl(Path(source), 3_000, seed=9)

        out = ctx.Queue()
        alone = ctx.Process(target=_saver, args=(db, min(10.0, SECONDS), out))
        alone.start()
        _, base_times, base_errors = out.get()
        alone.join()

        procs = [
            ctx.Process(target=_saver, args=(db, SECONDS, out)),
            ctx.Process(target=_importer, args=(db, source, SECONDS, out)),
            ctx.Process(target=_exporter, args=(db, SECONDS, out)),
            ctx.Process(target=_backup, args=(db, SECONDS, out)),
        ]
        for p in procs:
            p.start()
        got = {name: (values, errors) for name, values, errors in (out.get() for _ in procs)}
        for p in procs:
            p.join()
    save_times = got["saver"][0]
    errors = [e for _, errs in got.values() for e in errs] + base_errors
    return {
        "seconds_together": SECONDS,
        "baseline_save_ms_p50_alone": round(_p(base_times, 0.5) * 1000, 2),
        "baseline_save_ms_p99_alone": round(_p(base_times, 0.99) * 1000, 2),
        "saves": len(save_times),
        "save_ms_p50": round(_p(save_times, 0.5) * 1000, 2),
        "save_ms_p99": round(_p(save_times, 0.99) * 1000, 2),
        "save_ms_max": round(max(save_times) * 1000, 2),
        "import_rounds": int(got["importer"][0][0]),
        "export_scans": int(got["exporter"][0][0]),
        "backups_taken": int(got["backup"][0][0]),
        "wal_max_mb": round(got["backup"][0][1] / 1e6, 2),
        "errors": len(errors),
        "locked_errors": sum("locked" in e for e in errors),
        "first_errors": errors[:5],
    }
