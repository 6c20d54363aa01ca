"""The real app in a real X server, typed at by a real key-event source (xdotool).

From a fresh profile, as a new user: `reviewer review`, `reviewer review PACK`,
`reviewer pack open` and `reviewer demo` each open a window; `5 1 1 Ctrl+Enter` typed at it
(at once, before the first session is even shown) submits a review of the first session
with exactly those values.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.x11

REVIEWER = str(Path(sys.executable).with_name("reviewer"))
KEYS = ["5", "1", "1", "ctrl+Return"]
WAIT_S = 90.0


@dataclass
class Profile:
    """A new user's home, settings and data folders, and the X display to type at."""

    root: Path
    env: dict[str, str]

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [REVIEWER, *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def profile(tmp_path: Path, x_display: str) -> Profile:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "XDG_", "AGENTOPS_"))}
    env |= {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "AGENTOPS_REVIEWER_DATA_DIR": str(tmp_path / "data"),
        "AGENTOPS_REVIEWER_LOG_DIR": str(tmp_path / "logs"),
        "DISPLAY": x_display,
        "QT_QPA_PLATFORM": "xcb",
    }
    return Profile(tmp_path, env)


def _eventually(check: Callable[[], bool], what: str) -> None:
    """Wait for another process to do something (no Qt event loop here to wait on)."""
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def app(profile: Profile) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [REVIEWER, *args],
            env=profile.env,
            cwd=profile.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def _xdotool(profile: Profile, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=profile.env, check=True, timeout=WAIT_S)


def _type_511_submit(profile: Profile, title: str = "AgentOps Reviewer") -> None:
    """Focus the app's window as soon as it shows and type the keys (a real keyboard)."""
    _xdotool(profile, "search", "--sync", "--onlyvisible", "--name", title, "windowfocus", "--sync")
    _xdotool(profile, "key", "--delay", "30", *KEYS)


def _submitted(db: Path, reviewer: str = "alice") -> list[dict[str, object]]:
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
        rows = con.execute(
            "select \"values\" from reviews where reviewer = ? and status = 'submitted'"
            " and simulated = 0",
            (reviewer,),
        ).fetchall()
    return [json.loads(v) for (v,) in rows]


def _quit(profile: Profile, proc: subprocess.Popen[str]) -> None:
    _xdotool(profile, "key", "ctrl+q")
    out, _ = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, out


def _expect_one_511(db: Path) -> None:
    _eventually(lambda: bool(_submitted(db)), "the review submitted by Ctrl+Enter")
    (values,) = _submitted(db)
    assert values["quality"] == "5"
    assert values["correctness"] == "correct"
    assert values["policy"] == "compliant"


def _workspace(profile: Profile, sessions: int = 40) -> Path:
    profile.run("init", "ws.sqlite")
    profile.run("generate", "--sessions", str(sessions), "--seed", "3", "--out", "s.jsonl")
    profile.run("import", "ws.sqlite", "s.jsonl")
    return profile.root / "ws.sqlite"


def _pack(profile: Profile) -> Path:
    _workspace(profile)
    profile.run("sample", "ws.sqlite", "--name", "b1", "--size", "10", "--reviewers", "alice")
    profile.run("pack", "create", "ws.sqlite", "--batch", "b1", "--reviewer", "alice",
                "--out", "alice.reviewpack")  # fmt: skip
    return profile.root / "alice.reviewpack"


def _pack_workspace(profile: Profile) -> Path:
    (db,) = (profile.root / "data" / "packs").glob("*.sqlite")
    return db


def test_review_keys_land_on_the_form(profile: Profile, app: Callable[..., Any]) -> None:
    db = _workspace(profile)
    proc = app("review", "ws.sqlite", "--reviewer", "alice")
    # as the issue tried it: the window shows its workspace, then the keys come
    _type_511_submit(profile, r"ws\.sqlite")  # (xdotool's regex: no . over the em dash)
    _expect_one_511(db)
    _quit(profile, proc)


def test_pack_open_keys_land_on_the_form(profile: Profile, app: Callable[..., Any]) -> None:
    pack = _pack(profile)
    proc = app("pack", "open", str(pack))
    _type_511_submit(profile)  # at once: keys typed before the session opens are kept
    _expect_one_511(_pack_workspace(profile))
    _quit(profile, proc)


def test_review_on_a_pack_opens_it_as_pack_open(profile: Profile, app: Callable[..., Any]) -> None:
    pack = _pack(profile)
    proc = app("review", str(pack))
    _type_511_submit(profile, "pack b1 for alice")
    _expect_one_511(_pack_workspace(profile))
    _quit(profile, proc)


def test_demo_keys_land_on_the_form(profile: Profile, app: Callable[..., Any]) -> None:
    db = profile.root / "demo.sqlite"
    proc = app("demo", "--out", str(db), "--sessions", "300")
    _type_511_submit(profile)
    _expect_one_511(db)
    _quit(profile, proc)
