"""Starting the Qt application."""

from __future__ import annotations

import sys

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from reviewer.ui.main_window import MainWindow

ORG = "AgentOps"
APP = "AgentOps Reviewer"


def make_settings() -> QSettings:
    return QSettings(ORG, APP)


def run_app(
    target: str | None = None, *, batch: str | None = None, reviewer: str | None = None
) -> int:
    """Open the main window (on ``target`` when given) and run until it closes."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP)
    app.setOrganizationName(ORG)
    app.setApplicationDisplayName(APP)
    window = MainWindow(make_settings())
    window.show()
    if target:
        window.open_workspace(target)
    return app.exec()
