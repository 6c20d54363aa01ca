"""Backups, damage detection at open, and restore — by service, command and menu."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from reviewer.cli import main
from reviewer.services import backups
from reviewer.services.backups import WorkspaceDamaged, backup_now, list_backups, restore
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.workspace import WAL_CHECKPOINT_BYTES, wal_path
from tests.helpers.factories import make_session


def _workspace(path: Path, n: int = 300) -> Path:
    ws = init_workspace(path)
    store_sessions(ws, [make_session(f"s-{i}", text=f"question {i} " * 40) for i in range(n)])
    ws.close()
    return path


def _sessions(path: Path) -> int:
    ws = open_existing(path)
    try:
        with ws.read() as s:
            return int(s.execute(text("SELECT count(*) FROM sessions")).scalar_one())
    finally:
        ws.close()


def _damage(path: Path) -> None:
    """Overwrite two pages in the middle of the file, as a bad disk sector would."""
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(16)
        page = int.from_bytes(f.read(2), "big")  # the page size, from the file's header
        f.seek((size // 2) // page * page)
        f.write(b"\xa5" * 2 * page)


def test_a_backup_is_a_sound_copy_and_each_kind_keeps_its_newest_ten(tmp_path: Path) -> None:
    db = _workspace(tmp_path / "ws.sqlite", n=5)
    taken = [backup_now(db, "auto") for _ in range(12)]
    manual = backup_now(db, "manual")
    kept = list_backups(db)
    assert [b.path for b in kept if b.kind == "auto"] == taken[::-1][:10]
    assert [b.path for b in kept if b.kind == "manual"] == [manual]
    con = sqlite3.connect(manual)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 5
    con.close()


def test_a_damaged_workspace_is_set_aside_untouched_and_the_backup_restores(
    tmp_path: Path,
) -> None:
    db = _workspace(tmp_path / "ws.sqlite")
    good = backup_now(db, "auto")
    _damage(db)
    damaged_bytes = db.read_bytes()
    with pytest.raises(WorkspaceDamaged) as caught:
        open_existing(db)
    exc = caught.value
    assert exc.backup == good and not db.exists()
    assert exc.aside.read_bytes() == damaged_bytes  # kept aside byte for byte
    assert "damaged" in str(exc) and "reviewer restore" in str(exc)
    runner = CliRunner()
    checked = runner.invoke(main, ["check", str(exc.aside)])
    assert checked.exit_code == 1 and "damaged" in checked.output
    result = runner.invoke(main, ["restore", str(db)])
    assert result.exit_code == 0, result.output
    assert good.name in result.output
    assert _sessions(db) == 300
    assert runner.invoke(main, ["check", str(db)]).exit_code == 0


def test_a_file_that_is_not_sqlite_is_refused_but_never_moved(tmp_path: Path) -> None:
    notes = tmp_path / "notes.sqlite"
    notes.write_text("my notes, not a database\n" * 100)
    with pytest.raises(Exception, match="not a readable workspace"):
        open_existing(notes)
    assert notes.read_text().startswith("my notes")


def test_restoring_over_a_sound_workspace_backs_it_up_first(tmp_path: Path) -> None:
    db = _workspace(tmp_path / "ws.sqlite", n=3)
    old = backup_now(db, "manual")
    ws = open_existing(db)
    store_sessions(ws, [make_session("later")])
    ws.close()
    restore(db, old)
    assert _sessions(db) == 3
    [undo] = [b for b in list_backups(db) if b.kind == "pre-restore"]
    restore(db, undo.path)  # the restore itself can be undone
    assert _sessions(db) == 4


def test_a_damaged_backup_is_never_restored(tmp_path: Path) -> None:
    db = _workspace(tmp_path / "ws.sqlite")
    bad = backup_now(db, "auto")
    _damage(bad)
    before = db.read_bytes()
    with pytest.raises(backups.BackupError, match="not a sound backup"):
        restore(db, bad)
    assert db.read_bytes() == before


def test_no_automatic_checkpoints_and_the_wal_stays_bounded(tmp_path: Path) -> None:
    """The WAL-reset race needs a checkpoint without the write lock: ours all hold it."""
    ws = init_workspace(tmp_path / "ws.sqlite")
    assert ws.path is not None
    with ws.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    biggest = resets = last = 0
    rng = random.Random(5)
    for k in range(40):  # about three times the threshold, in commits of about 1.2 MB
        text = [rng.randbytes(3000).hex() for _ in range(100)]  # compresses only 2:1
        store_sessions(ws, [make_session(f"s{k}-{i}", text=text[i]) for i in range(100)])
        size = wal_path(ws.path).stat().st_size
        biggest, resets, last = max(biggest, size), resets + (size < last), size
    assert resets >= 2, "checkpoints ran"
    assert biggest < WAL_CHECKPOINT_BYTES + 2 * 1024 * 1024
    assert ws.checkpoint() == (0, 0, 0)
    assert wal_path(ws.path).stat().st_size == 0
    ws.close()


def test_the_app_offers_the_latest_backup_for_a_damaged_workspace(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from reviewer.ui.main_window import MainWindow

    db = _workspace(tmp_path / "ws.sqlite")
    backup_now(db, "auto")
    _damage(db)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings, reviewer="ana")
    qtbot.addWidget(w)
    w.show()
    w.open_workspace(str(db))
    qtbot.waitUntil(lambda: w.problem_box is not None and w.problem_box.isVisible(), timeout=10_000)
    box = w.problem_box
    assert box is not None and "damaged" in box.text()
    [restore_button] = [
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole
    ]
    with qtbot.waitSignal(w.workspace_opened, timeout=15_000):
        restore_button.click()
    assert w.model.rowCount() == 300
    assert any(p.name.startswith("ws.sqlite.damaged-") for p in tmp_path.iterdir())
    w.close()


def test_an_unchanged_workspace_is_not_checked_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _workspace(tmp_path / "ws.sqlite", n=3)
    checks: list[Path] = []
    real = backups.problem

    def counted(path: Path, *, full: bool = False) -> str | None:
        checks.append(path)
        return real(path, full=full)

    monkeypatch.setattr(backups, "problem", counted)
    for _ in range(2):
        open_existing(db).close()
    assert checks == [db]  # the second open found it as it last passed
    ws = open_existing(db)
    store_sessions(ws, [make_session("changed")])
    ws.close()
    open_existing(db).close()
    assert checks == [db, db]  # changed since: checked again


def test_automatic_backups_skip_a_workspace_unchanged_since_the_last_one(tmp_path: Path) -> None:
    """Half-hourly backups of an idle workspace would push older, different backups out of
    the ten kept; only a change (a commit) makes the next automatic backup."""
    db = _workspace(tmp_path / "ws.sqlite", n=5)
    first = backups.auto_backup(db)
    assert first is not None
    assert backups.auto_backup(db) is None  # nothing changed
    ws = open_existing(db)  # opened and read, not written
    with ws.read() as s:
        s.execute(text("SELECT count(*) FROM sessions")).scalar_one()
    assert backups.auto_backup(db) is None
    store_sessions(ws, [make_session("new")])  # a commit, still in the WAL
    second = backups.auto_backup(db)
    assert second is not None and second != first
    assert backups.auto_backup(db) is None
    ws.close()  # the closing checkpoint writes the file: a change as far as files go
    assert backups.auto_backup(db) is not None
    assert backups.auto_backup(db) is None
    assert _sessions(second) == 6
    # A backup on demand is always taken.
    assert backup_now(db, "manual") is not None
    assert [b.kind for b in list_backups(db)].count("auto") == 3


def test_the_app_backs_up_at_open_only_what_changed(qtbot: QtBot, tmp_path: Path) -> None:
    from reviewer.ui.main_window import MainWindow

    db = _workspace(tmp_path / "ws.sqlite")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    for _ in range(2):
        w = MainWindow(settings, reviewer="ana")
        qtbot.addWidget(w)
        with qtbot.waitSignal(w.workspace_opened, timeout=10_000):
            w.open_workspace(str(db))
        qtbot.waitUntil(lambda w=w: not w.runner.busy, timeout=10_000)
        w.close()
    assert [b.kind for b in list_backups(db)] == ["auto"]
