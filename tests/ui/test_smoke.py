from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from reviewer.ui.app import smoke


def test_smoke_opens_the_window_on_a_demo_workspace(
    qtbot: QtBot, capsys: pytest.CaptureFixture[str]
) -> None:
    assert smoke() == 0
    assert "smoke test: ok" in capsys.readouterr().out
