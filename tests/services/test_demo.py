from __future__ import annotations

from pathlib import Path

from reviewer.services import browse
from reviewer.services.demo import build_demo
from reviewer.store.workspace import set_meta


def test_demo_builds_once_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    ws = build_demo(path, sessions=40)
    assert browse.count_sessions(ws) == 40
    ws.close()
    again = build_demo(path, sessions=40)
    assert browse.count_sessions(again) == 40
    again.close()


def test_an_interrupted_demo_build_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    ws = build_demo(path, sessions=30)
    set_meta(ws, "demo_complete", "no")
    ws.close()
    rebuilt = build_demo(path, sessions=30)
    assert rebuilt.meta("demo_complete") == "yes"
    assert browse.count_sessions(rebuilt) == 30
    rebuilt.close()
