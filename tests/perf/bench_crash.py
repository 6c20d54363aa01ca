"""500 SIGKILLs at random moments: saving (draft + submit), importing, merging, migrating.

After every kill: 0 acknowledged saves lost, 0 repeated saves logged twice, SQLite's
integrity_check ok and foreign_key_check empty; after the last, running the interrupted
work again completes it exactly once. Baseline: the same work run without kills.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from reviewer.domain.review import ReviewStatus
from reviewer.resources import default_rubric
from reviewer.services.importing import store_sessions
from reviewer.services.merging import merge_results
from reviewer.services.packs import create_pack, open_pack, write_results
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store import migrate
from reviewer.synth.generator import write_jsonl
from tests.crash.child import SESSIONS
from tests.crash.harness import Tally, check_db, kill, save_round, spawn
from tests.helpers.factories import make_session
from tests.perf.harness import Figures, benchmark

KILLS = {"save": 300, "import": 100, "merge": 60, "migrate": 40}


def _workspace(path: Path) -> Path:
    ws = init_workspace(path)
    store_sessions(ws, [make_session(f"s-{i:03d}") for i in range(SESSIONS)])
    ws.close()
    return path


def _kill_later(proc: object, rng: random.Random, upto: float) -> None:
    time.sleep(rng.uniform(0, upto))
    kill(proc)  # type: ignore[arg-type]


def _saves(tmp: Path, rng: random.Random, tally: Tally) -> None:
    db = _workspace(tmp / "save.sqlite")
    resume = (0, "draft")
    for _ in range(KILLS["save"]):
        resume = save_round(db, resume, rng.randint(0, 40), tally)


def _imports(tmp: Path, rng: random.Random, tally: Tally) -> dict[str, int]:
    db = _workspace(tmp / "import.sqlite")
    source = tmp / "sessions.jsonl"
    write_jsonl(source, 2_000, seed=5)
    for _ in range(KILLS["import"]):
        proc = spawn("import", str(db), str(source))
        assert proc.stdout is not None
        for _ in range(rng.randint(0, 30)):
            if not proc.stdout.readline():
                break
        _kill_later(proc, rng, 0.02)
        tally.kills += 1
        check_db(db, tally).close()
    proc = spawn("import", str(db), str(source))
    assert proc.stdout is not None
    finished = proc.stdout.read().splitlines()[-1:] == ["done"]
    kill(proc)
    con = check_db(db, tally)
    total, keys = con.execute(
        "SELECT count(*), count(DISTINCT session_key) FROM sessions"
    ).fetchone()
    con.close()
    if not finished or total != keys or keys != SESSIONS + 2_000:
        tally.problems.append(f"import: finished={finished} rows={total} keys={keys}")
    return {"sessions_after_resume": keys}


def _results_files(tmp: Path) -> tuple[Path, list[Path]]:
    from tests.packs.helpers import make_batch, review_item

    rubric = default_rubric()
    lead = init_workspace(tmp / "lead.sqlite")
    make_batch(lead, "b1", {"ana": range(0, 30), "bob": range(30, 60)}, items=60)
    files = []
    for name, positions in (("ana", range(0, 30)), ("bob", range(30, 60))):
        pack = create_pack(lead, "b1", name, tmp / f"{name}.reviewpack")
        offline = open_pack(pack.path, data_dir=tmp / "data")
        for pos in positions:
            review_item(offline, rubric, pos, name, status=ReviewStatus.SUBMITTED)
        files.append(write_results(offline, tmp / f"{name}.reviewresults").path)
        offline.close()
    assert lead.path is not None
    path = lead.path
    lead.close()
    return path, files


def _state(db: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return sorted(
            con.execute('SELECT uid, reviewer, status, "values", conflict_of FROM reviews')
        )
    finally:
        con.close()


def _merges(tmp: Path, rng: random.Random, tally: Tally) -> None:
    template, files = _results_files(tmp)
    reference = tmp / "reference.sqlite"
    shutil.copy(template, reference)
    ref = open_existing(reference)
    merge_results(ref, files, actor="lead")
    ref.close()
    db = tmp / "merge.sqlite"
    shutil.copy(template, db)
    for _ in range(KILLS["merge"]):
        proc = spawn("merge", str(db), *map(str, files))
        _kill_later(proc, rng, 2.5)
        tally.kills += 1
        check_db(db, tally).close()
    proc = spawn("merge", str(db), *map(str, files))
    assert proc.stdout is not None
    proc.stdout.read()
    kill(proc)
    if _state(db) != _state(reference):
        tally.problems.append("merge: after the kills and a last run, reviews differ")


def _migrations(tmp: Path, rng: random.Random, tally: Tally) -> None:
    template = tmp / "old.sqlite"
    ws = init_workspace(template)
    store_sessions(ws, [make_session(f"m-{i}") for i in range(200)])
    first = [r.revision for r in migrate.script().walk_revisions()][-1]
    from alembic import command

    with ws.engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, first)
    ws.close()
    head = migrate.head_revision()
    for k in range(KILLS["migrate"]):
        db = tmp / f"migrate-{k}.sqlite"
        shutil.copy(template, db)
        proc = spawn("migrate", str(db))
        _kill_later(proc, rng, 2.5)
        tally.kills += 1
        con = check_db(db, tally)
        rev = con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        count = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
        con.close()
        if rev not in (first, head) or count != 200:
            tally.problems.append(f"migration killed: revision {rev}, {count} sessions")
        done = open_existing(db)
        if migrate.current_revision(done) != head:
            tally.problems.append("migration did not complete when run again")
        done.close()


@benchmark("crash")
def crash() -> Figures:
    rng = random.Random(2026)
    tally = Tally()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        baseline = _workspace(tmp / "baseline.sqlite")
        proc = spawn("save", str(baseline), "0", "draft")
        assert proc.stdout is not None
        t0 = time.perf_counter()
        for _ in range(200):
            proc.stdout.readline()
        per_save_ms = (time.perf_counter() - t0) / 200 * 1000
        kill(proc)
        _saves(tmp, rng, tally)
        imported = _imports(tmp, rng, tally)
        _merges(tmp, rng, tally)
        _migrations(tmp, rng, tally)
    return {
        "kills": tally.kills,
        "acknowledged_saves": tally.acknowledged,
        "lost": tally.lost,
        "duplicated": tally.duplicated,
        "unacknowledged_saves_that_landed": tally.unacknowledged_landed,
        "integrity_failures": tally.integrity_failures,
        "problems": tally.problems[:10],
        **imported,
        "baseline_save_ms_without_kills": round(per_save_ms, 2),
        "seconds": round(time.perf_counter() - started, 1),
    }
