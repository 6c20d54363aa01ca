"""Every key lands where the reviewer expects: on the open session's rubric form.

Keys go to ``QApplication.focusWidget()``, where a real keyboard sends them, whichever way
the workbench opened or moved; the queue's search box takes them only when asked for.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from reviewer.services.demo import DEMO_BATCH, build_demo
from reviewer.services.importing import store_sessions
from reviewer.services.packs import create_pack
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.tables import ReviewRow
from reviewer.ui.main_window import MainWindow
from reviewer.ui.platform_help import DEBIAN_PACKAGES, FEDORA_PACKAGES
from tests.helpers.factories import make_session
from tests.packs.helpers import make_batch

ROOT = Path(__file__).resolve().parents[2]
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys.sqlite"
    ws = init_workspace(path)
    store_sessions(ws, [make_session(f"s-{i}", text=f"question {i}") for i in range(6)])
    ws.close()
    return path


@pytest.fixture
def active_window(qtbot: QtBot, settings: QSettings) -> Iterator[MainWindow]:
    """The window is up and active before anything is open: what a real start looks like."""
    w = MainWindow(settings, reviewer="alice")
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    yield w
    w.close()


def _focus() -> QWidget:
    focus = QApplication.focusWidget()
    assert focus is not None, "nothing has keyboard focus"
    return focus


def _type(qtbot: QtBot, keys: str) -> None:
    for k in keys:
        qtbot.keyClick(_focus(), k)


def _submit(qtbot: QtBot, w: MainWindow) -> tuple[str, str]:
    with qtbot.waitSignal(w.bench.review_saved, timeout=5_000) as saved:
        qtbot.keyClick(_focus(), Qt.Key.Key_Return, CTRL)
    uid, status = saved.args
    return uid, status


def _values(path: Path, uid: str) -> dict[str, object]:
    ws = open_existing(path)
    try:
        with ws.read() as s:
            row = s.query(ReviewRow).filter_by(uid=uid).one()
            return dict(row.values)
    finally:
        ws.close()


def _assert_511(path: Path, uid: str) -> None:
    values = _values(path, uid)
    assert (values["quality"], values["correctness"], values["policy"]) == (
        "5",
        "correct",
        "compliant",
    )


def _open(qtbot: QtBot, w: MainWindow, open_it: Callable[[], object]) -> None:
    with qtbot.waitSignal(w.session_shown, timeout=10_000):
        open_it()


def _on_the_form(w: MainWindow) -> None:
    focus = _focus()
    assert focus is not w.bench.search
    assert focus is w.form or w.form.isAncestorOf(focus), f"focus is on {focus!r}"


def _back_on_the_form(qtbot: QtBot, w: MainWindow) -> None:
    """Once the window is active again (a dialog closed), the form has the keys."""
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.form, timeout=5_000)


def test_after_review_opens_511_ctrl_enter_submits(
    qtbot: QtBot, active_window: MainWindow, ws_path: Path
) -> None:
    w = active_window
    _open(qtbot, w, lambda: w.open_workspace(str(ws_path)))
    _on_the_form(w)
    _type(qtbot, "511")
    uid, status = _submit(qtbot, w)
    assert status == "submitted"
    _assert_511(ws_path, uid)
    assert w.bench.search.text() == "" and w.model.rowCount() == 6, "the queue is not filtered"
    # after Ctrl+Enter the next session's form has the keys too
    qtbot.waitUntil(lambda: w.bench.item is not None and w.bench.item.review.uid != uid)
    _on_the_form(w)
    _type(qtbot, "411")
    uid2, _ = _submit(qtbot, w)
    assert uid2 != uid and _values(ws_path, uid2)["quality"] == "4"


def test_keys_typed_before_the_first_session_opens_are_kept_for_it(
    qtbot: QtBot, active_window: MainWindow, ws_path: Path
) -> None:
    w = active_window
    with qtbot.waitSignal(w.bench.review_saved, timeout=10_000) as saved:
        w.open_workspace(str(ws_path))
        _type(qtbot, "511")  # nothing is shown yet
        qtbot.keyClick(_focus(), Qt.Key.Key_Return, CTRL)
    assert w.bench.search.text() == "", "no key went to the search box"
    assert saved.args[1] == "submitted"
    _assert_511(ws_path, saved.args[0])


def test_pack_open_keys_land_on_the_form(
    qtbot: QtBot, active_window: MainWindow, tmp_path: Path
) -> None:
    ws = init_workspace(tmp_path / "lead.sqlite")
    make_batch(ws, "b1", {"alice": range(3)}, items=3)
    pack = create_pack(ws, "b1", "alice", tmp_path / "alice.reviewpack")
    ws.close()
    w = active_window
    _open(qtbot, w, lambda: w.open_pack_file(pack.path))
    _on_the_form(w)
    _type(qtbot, "511")
    uid, status = _submit(qtbot, w)
    assert status == "submitted"
    assert w.workspace is not None and w.workspace.path is not None
    w.bench.items.shutdown(finish_pending=True)
    _assert_511(w.workspace.path, uid)


def test_demo_keys_land_on_the_form(qtbot: QtBot, settings: QSettings, tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    build_demo(path, sessions=300).close()
    w = MainWindow(settings, reviewer="alice", batch=DEMO_BATCH)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    _open(qtbot, w, lambda: w.open_workspace(str(path)))
    _on_the_form(w)
    _type(qtbot, "511")
    uid, status = _submit(qtbot, w)
    assert status == "submitted"
    w.close()
    _assert_511(path, uid)


def test_file_open_keys_land_on_the_form(
    qtbot: QtBot, active_window: MainWindow, ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = active_window
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(ws_path), ""))
    with qtbot.waitSignal(w.session_shown, timeout=10_000):
        qtbot.keyClick(_focus(), Qt.Key.Key_O, CTRL)  # File → Open workspace…
    _on_the_form(w)
    _type(qtbot, "511")
    uid, _ = _submit(qtbot, w)
    _assert_511(ws_path, uid)


def test_search_box_only_when_asked_and_esc_or_enter_return_to_the_form(
    qtbot: QtBot, active_window: MainWindow, ws_path: Path
) -> None:
    w = active_window
    _open(qtbot, w, lambda: w.open_workspace(str(ws_path)))
    search = w.bench.search
    for _ in range(8):  # Tab moves between dimensions, never into the queue's widgets
        qtbot.keyClick(_focus(), Qt.Key.Key_Tab)
        assert _focus() is not search
    qtbot.keyClick(_focus(), Qt.Key.Key_K, CTRL)
    assert _focus() is search
    qtbot.keyClick(_focus(), Qt.Key.Key_Escape)
    _on_the_form(w)
    qtbot.keyClick(_focus(), "/")
    assert _focus() is search
    with qtbot.waitSignal(w.bench.queue_loaded, timeout=5_000) as loaded:
        qtbot.keyClicks(_focus(), "question 3")
        qtbot.keyClick(_focus(), Qt.Key.Key_Return)
    assert loaded.args == [1]
    qtbot.waitUntil(lambda: w.bench.item is not None and w.bench.item.session.id == "s-3")
    _on_the_form(w)
    _type(qtbot, "511")
    uid, _ = _submit(qtbot, w)
    _assert_511(ws_path, uid)
    qtbot.mouseClick(search, Qt.MouseButton.LeftButton)
    assert _focus() is search, "a click still gets there"


def test_after_a_filter_change_import_and_dialog_keys_land_on_the_form(
    qtbot: QtBot, active_window: MainWindow, ws_path: Path, tmp_path: Path
) -> None:
    w = active_window
    _open(qtbot, w, lambda: w.open_workspace(str(ws_path)))
    bench = w.bench
    # a filter changed by mouse
    qtbot.mouseClick(bench.errors_only, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(bench.errors_only, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not bench.errors_only.isChecked() and bench.item is not None)
    _on_the_form(w)
    # an import run from the app
    more = tmp_path / "more.jsonl"
    more.write_text(make_session("s-new").model_dump_json() + "\n")
    with qtbot.waitSignal(bench.queue_loaded, timeout=20_000):
        w.import_files([more])
    _back_on_the_form(qtbot, w)
    # a dialog opened and closed (Help → Keyboard shortcuts)
    qtbot.keyClick(_focus(), Qt.Key.Key_F1)
    box = QApplication.activeModalWidget()
    assert box is not None
    box.close()
    _back_on_the_form(qtbot, w)
    _type(qtbot, "511")
    uid, _ = _submit(qtbot, w)
    _assert_511(ws_path, uid)


def test_a_missing_window_system_plugin_names_the_packages_and_exits_2(ws_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"  # no display to connect to
    cli = [sys.executable, "-m", "reviewer", "review", str(ws_path), "--reviewer", "alice"]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    said = done.stderr
    assert "window-system plugin" in said and "Aborted" not in said
    assert all(p in said for p in DEBIAN_PACKAGES + FEDORA_PACKAGES)
    env["QT_QPA_PLATFORM"] = "no-such-plugin"
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "no-such-plugin" in done.stderr


def test_the_readme_lists_the_packages_next_to_its_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    top = readme.split("---", 1)[0]
    assert all(p in top for p in DEBIAN_PACKAGES + FEDORA_PACKAGES)
