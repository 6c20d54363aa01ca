"""Shared fixtures: headless Qt, fresh settings, throwaway workspaces."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from reviewer.domain.rubric import Rubric
from reviewer.resources import default_rubric
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A new, empty SQLite workspace with the default rubric."""
    ws = init_workspace(tmp_path / "ws.sqlite")
    yield ws
    ws.close()


@pytest.fixture
def rubric() -> Rubric:
    return default_rubric()


@pytest.fixture(autouse=True)
def _no_dangling_threads() -> Iterator[None]:
    """Fail a test that leaves worker threads running (napari's `_dangling_qthreads`)."""
    before = {t.ident for t in threading.enumerate()}
    yield
    left = [
        t for t in threading.enumerate() if t.ident not in before and t.is_alive() and not t.daemon
    ]
    for t in left:
        t.join(timeout=5)
    still = [t.name for t in left if t.is_alive()]
    assert not still, f"test left threads running: {still}"


@pytest.fixture(autouse=True)
def _logs_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Logs of the code under test go to a throwaway folder, never the user's."""
    monkeypatch.setenv("AGENTOPS_REVIEWER_LOG_DIR", str(tmp_path_factory.mktemp("logs")))


@pytest.fixture(autouse=True)
def _user_data_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drafts kept locally and opened packs go to a throwaway folder, never the user's."""
    from reviewer.services.packs import DATA_DIR_ENV

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path_factory.mktemp("userdata")))
