"""SIGKILL in the middle of saving and importing: nothing acknowledged is lost, nothing is
counted twice, and SQLite's checks pass after every kill. (The long run, with merges and
migrations too, is `python -m tests.perf crash`.)"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.synth.generator import write_jsonl
from tests.crash.child import SESSIONS
from tests.crash.harness import Tally, check_db, kill, save_round, spawn
from tests.helpers.factories import make_session


def _workspace(path: Path) -> Path:
    ws = init_workspace(path)
    store_sessions(ws, [make_session(f"s-{i:03d}") for i in range(SESSIONS)])
    ws.close()
    return path


def test_saves_killed_at_random_lose_nothing_acknowledged(tmp_path: Path) -> None:
    db = _workspace(tmp_path / "ws.sqlite")
    rng = random.Random(7)
    tally = Tally()
    resume = (0, "draft")
    for _ in range(12):
        resume = save_round(db, resume, rng.randint(0, 25), tally)
    assert tally.problems == []
    assert tally.kills == 12 and tally.acknowledged > 50
    assert (tally.lost, tally.duplicated, tally.integrity_failures) == (0, 0, 0)


def test_an_import_killed_at_random_completes_when_run_again(tmp_path: Path) -> None:
    db = _workspace(tmp_path / "ws.sqlite")
    source = tmp_path / "sessions.jsonl"
    write_jsonl(source, 400, seed=3)
    rng = random.Random(11)
    tally = Tally()
    for _ in range(4):
        proc = spawn("import", str(db), str(source))
        assert proc.stdout is not None
        for _ in range(rng.randint(1, 6)):
            if not proc.stdout.readline():
                break
        kill(proc)
        check_db(db, tally).close()
    proc = spawn("import", str(db), str(source))
    assert proc.stdout is not None
    assert proc.stdout.read().splitlines()[-1] == "done"
    kill(proc)
    con = check_db(db, tally)
    assert tally.integrity_failures == 0, tally.problems
    total, keys = con.execute(
        "SELECT count(*), count(DISTINCT session_key) FROM sessions"
    ).fetchone()
    assert total == keys == SESSIONS + 400  # every session once, none twice
    con.close()
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
