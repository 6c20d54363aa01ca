from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.ui.main_window import MainWindow
from tests.helpers.factories import make_session


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Fresh settings per test, in a file of the test's own."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def filled_workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ui.sqlite"
    ws = init_workspace(path)
    sessions = [make_session(f"s-{i:03d}", text=f"question {i}") for i in range(450)]
    sessions.append(make_session("hostile", text='<img src="file:///etc/passwd"><b>bold</b>'))
    store_sessions(ws, sessions)
    ws.close()
    return path


@pytest.fixture
def window(qtbot: QtBot, settings: QSettings) -> Iterator[MainWindow]:
    w = MainWindow(settings)
    qtbot.addWidget(w)
    yield w
    w.close()
