"""Kill the child at random moments and check, after every kill, what must hold."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Tally:
    kills: int = 0
    acknowledged: int = 0
    lost: int = 0
    duplicated: int = 0
    unacknowledged_landed: int = 0
    integrity_failures: int = 0
    problems: list[str] = field(default_factory=list)


def spawn(*args: str) -> subprocess.Popen[str]:
    """Start the child; its stderr goes to ``<workspace>.child-errors`` (for a post-mortem
    when it stops by itself instead of being killed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(args[1] + ".child-errors", "a") as errors:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.crash.child", *args],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env,
            cwd=ROOT,
        )


def child_errors(db: Path) -> str:
    path = Path(str(db) + ".child-errors")
    return path.read_text()[-2000:] if path.exists() else ""


def kill(proc: subprocess.Popen[str]) -> list[str]:
    """SIGKILL the child; return the lines it wrote before dying that were not read yet
    (a save acknowledged into the pipe is acknowledged, read or not)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    rest: list[str] = []
    if proc.stdout is not None:
        rest = proc.stdout.read().splitlines()
        proc.stdout.close()
    return rest


def check_db(db: Path, tally: Tally) -> sqlite3.Connection:
    con = sqlite3.connect(db)
    ok = con.execute("PRAGMA integrity_check").fetchone()[0]
    fk = con.execute("PRAGMA foreign_key_check").fetchall()
    if ok != "ok" or fk:
        tally.integrity_failures += 1
        tally.problems.append(f"integrity {ok!r}, foreign keys {fk[:3]}")
    return con


def save_round(
    db: Path, resume: tuple[int, str], acks_before_kill: int, tally: Tally
) -> tuple[int, str]:
    """Run the saver from ``resume`` (the first save not acknowledged yet: it may have
    landed), kill it after ``acks_before_kill`` acknowledged saves (0: as soon as it has
    started, possibly mid-save), and check every save acknowledged so far. Returns where
    the next round resumes."""
    proc = spawn("save", str(db), str(resume[0]), resume[1])
    acked: list[tuple[int, str]] = []
    assert proc.stdout is not None
    while len(acked) < acks_before_kill:
        line = proc.stdout.readline()
        if not line:
            tally.problems.append(f"the saver stopped by itself: {child_errors(db)}")
            break
        _, number, saved = line.split()
        acked.append((int(number), saved))
    for line in kill(proc):
        if line.startswith("ack "):
            _, number, saved = line.split()
            acked.append((int(number), saved))
    tally.kills += 1
    tally.acknowledged += len(acked)
    con = check_db(db, tally)
    rows = dict(con.execute("SELECT uid, status FROM reviews"))
    # a repeated save must change nothing: each review is created and submitted once
    tally.duplicated = max(
        tally.duplicated,
        con.execute(
            "SELECT count(*) FROM (SELECT review_uid, action FROM audit_log "
            "GROUP BY review_uid, action HAVING count(*) > 1)"
        ).fetchone()[0],
    )
    for i, status in acked:
        got = rows.get(f"crash-{i:06d}")
        if got is None or (status == "submitted" and got != "submitted"):
            tally.lost += 1
            tally.problems.append(f"acknowledged review {i} {status} found as {got}")
    if acked:
        i, status = acked[-1]
        resume = (i, "submitted") if status == "draft" else (i + 1, "draft")
    landed = rows.get(f"crash-{resume[0]:06d}")
    if landed == resume[1]:
        tally.unacknowledged_landed += 1
    con.close()
    return resume


def random_delay(rng: random.Random, upto: float) -> None:
    time.sleep(rng.uniform(0, upto))
