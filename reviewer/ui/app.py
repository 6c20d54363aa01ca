"""Starting the Qt application."""

from __future__ import annotations

import gc
import sys
from importlib.resources import files

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from reviewer.logs import setup_logging
from reviewer.ui.main_window import MainWindow
from reviewer.ui.platform_help import window_system_or_exit

ORG = "AgentOps"
APP = "AgentOps Reviewer"


def freeze_startup_heap() -> None:
    """Keep what start-up allocated (modules, widgets and their wrappers, schemas) out of
    later garbage collections: a full collection walks every tracked object while holding
    the GIL, 100–200 ms on the GUI thread otherwise, every so often while sessions open."""
    gc.collect()
    gc.freeze()


def make_settings() -> QSettings:
    return QSettings(ORG, APP)


def smoke() -> int:
    """Open the main window offscreen on a small demo workspace; 0 when sessions showed."""
    import os
    import tempfile
    from pathlib import Path

    from PySide6.QtCore import QTimer

    from reviewer.services.demo import build_demo

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        build_demo(Path(tmp) / "smoke.sqlite", sessions=20).close()
        app = QApplication.instance() or QApplication(sys.argv[:1])
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings)
        shown: list[int] = []

        def on_shown(sid: int) -> None:
            shown.append(sid)
            window.close()

        window.session_shown.connect(on_shown)
        QTimer.singleShot(30_000, window.close)
        window.show()
        window.open_workspace(str(Path(tmp) / "smoke.sqlite"))
        app.exec()
        ok = bool(shown) and window.model.rowCount() == 20
    print("smoke test: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


def ask_reviewer_name(settings: QSettings) -> str:
    """Asked once, at first start: the name every review records (kept in settings)."""
    import getpass

    from PySide6.QtWidgets import QInputDialog

    name, ok = QInputDialog.getText(
        None,
        "Welcome to AgentOps Reviewer",
        "Your name, as it will be recorded on every review you make:",
        text=getpass.getuser(),
    )
    name = name.strip() if ok and name.strip() else getpass.getuser()
    settings.setValue("reviewer/name", name)
    return name


def run_app(
    target: str | None = None, *, batch: str | None = None, reviewer: str | None = None
) -> int:
    """Open the main window (on ``target`` when given) and run until it closes."""
    setup_logging()
    with window_system_or_exit():  # one clear message and exit 2 instead of Qt's abort
        app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setWindowIcon(QIcon(str(files("reviewer.resources") / "icons" / "agentops-reviewer.svg")))
    app.setApplicationName(APP)
    app.setOrganizationName(ORG)
    app.setApplicationDisplayName(APP)
    settings = make_settings()
    if not reviewer and not settings.value("reviewer/name", "", type=str):
        reviewer = ask_reviewer_name(settings)
    window = MainWindow(settings, reviewer=reviewer, batch=batch)
    window.show()
    freeze_startup_heap()
    if target:
        window.open_workspace(target)
    return app.exec()
