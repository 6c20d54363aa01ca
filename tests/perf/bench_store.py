"""Storing and listing sessions in a workspace, against bare sqlite3 on the same data."""

from __future__ import annotations

import sqlite3
import tempfile
import zlib
from pathlib import Path

import orjson

from reviewer.services import browse
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.synth.generator import generate_sessions
from tests.perf.harness import Figures, benchmark, timed

N = 20_000


@benchmark("store_sessions")
def store_and_list() -> Figures:
    sessions = list(generate_sessions(N, seed=3))
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "bare.sqlite"
        con = sqlite3.connect(base)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE s (id INTEGER PRIMARY KEY, key TEXT, data BLOB)")
        with timed() as bare:
            rows = [
                (s.id, zlib.compress(orjson.dumps(s.model_dump(mode="json")), 6)) for s in sessions
            ]
            con.executemany("INSERT INTO s (key, data) VALUES (?, ?)", rows)
            con.commit()
        with timed() as bare_list:
            con.execute("SELECT id FROM s ORDER BY id DESC").fetchall()
        con.close()

        ws = init_workspace(Path(tmp) / "ws.sqlite")
        with timed() as ours:
            store_sessions(ws, sessions)
        with timed() as ours_list:
            ids = browse.session_ids(ws)
        assert len(ids) == N
        ws.close()
    return {
        "sessions": N,
        "store_s": round(ours.seconds, 3),
        "store_sessions_per_s": round(N / ours.seconds),
        "baseline_bare_executemany_s": round(bare.seconds, 3),
        "store_ratio_to_baseline": round(bare.seconds / ours.seconds, 3),
        "list_ids_s": round(ours_list.seconds, 4),
        "baseline_list_ids_s": round(bare_list.seconds, 4),
    }
