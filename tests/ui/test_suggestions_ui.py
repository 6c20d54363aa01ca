"""Judges suggest, humans decide: suggestions beside the dimensions, Enter takes them, the
review records what became of each, stats report it; blind batches show none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from reviewer.cli import main
from reviewer.domain.session import Judgement, Session
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.reviews import get_review
from reviewer.ui.main_window import MainWindow
from tests.helpers.factories import make_session
from tests.packs.helpers import make_batch

CTRL = Qt.KeyboardModifier.ControlModifier


def _judged(key: str) -> Session:
    session = make_session(key)
    session.signals.judgements = [
        Judgement(name="quality", value=5, explanation="complete and polite", source="gpt-judge"),
        Judgement(name="correctness", value="correct", source="gpt-judge"),
        Judgement(name="policy", value="compliant", source="gpt-judge"),
    ]
    return session


@pytest.fixture
def judged_ws(tmp_path: Path) -> Path:
    path = tmp_path / "judged.sqlite"
    ws = init_workspace(path)
    make_batch(
        ws, "open", {"alice": range(3)}, items=3, sessions=[_judged(f"j{i}") for i in range(3)]
    )
    ws.close()
    return path


def _window(qtbot: QtBot, settings: QSettings, path: Path, batch: str) -> MainWindow:
    w = MainWindow(settings, reviewer="alice", batch=batch)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    with qtbot.waitSignal(w.session_shown, timeout=10_000):
        w.open_workspace(str(path))
    return w


def _key(
    qtbot: QtBot, key: Qt.Key | str, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    focus = QApplication.focusWidget()
    assert focus is not None
    qtbot.keyClick(focus, key, mods)


def _saved(qtbot: QtBot, w: MainWindow) -> str:
    with qtbot.waitSignal(w.bench.review_saved, timeout=5_000) as saved:
        _key(qtbot, Qt.Key.Key_Return, CTRL)
    w.bench.items.shutdown(finish_pending=True)
    return str(saved.args[0])


def test_enter_then_ctrl_enter_submits_the_suggestions_and_stats_call_them_taken(
    qtbot: QtBot, settings: QSettings, judged_ws: Path
) -> None:
    w = _window(qtbot, settings, judged_ws, "open")
    box = next(b for b in w.form.boxes if b.dim.name == "quality")
    assert not box.suggestion.isHidden()
    assert "gpt-judge" in box.suggestion.text() and "Enter takes it" in box.suggestion.text()
    assert box.suggestion.toolTip() == "complete and polite"
    _key(qtbot, Qt.Key.Key_Return)  # two keys for a judged-and-agreed session
    uid = _saved(qtbot, w)
    w.close()
    ws = open_existing(judged_ws)
    with ws.read() as s:
        review = get_review(s, uid)
    ws.close()
    assert review is not None and review.status.value == "submitted"
    assert {k: review.values[k] for k in ("quality", "correctness", "policy")} == {
        "quality": "5",
        "correctness": "correct",
        "policy": "compliant",
    }
    assert {k: r.outcome for k, r in review.suggestions.items()} == {
        "quality": "taken",
        "correctness": "taken",
        "policy": "taken",
    }
    result = CliRunner().invoke(main, ["stats", str(judged_ws), "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    (use,) = stats["suggestion_use"]
    assert (use["reviewer"], use["offered"], use["taken_unchanged"]) == ("alice", 3, 3)
    assert use["share_taken_unchanged"] == 1.0 and use["reviews_with"] == 1
    quality = next(a for a in stats["suggestions"] if a["dimension"] == "quality")
    assert quality["agreement"] == 1.0 and quality["judge"] == "quality (gpt-judge)"
    text = CliRunner().invoke(main, ["stats", str(judged_ws)]).output
    assert "Judges' suggestions" in text and "rubber-stamping" in text


def test_a_digit_overrides_one_dimension_and_the_record_says_changed(
    qtbot: QtBot, settings: QSettings, judged_ws: Path
) -> None:
    w = _window(qtbot, settings, judged_ws, "open")
    _key(qtbot, "3")  # quality 3, then Enter takes the rest
    _key(qtbot, Qt.Key.Key_Return)
    uid = _saved(qtbot, w)
    w.close()
    ws = open_existing(judged_ws)
    with ws.read() as s:
        review = get_review(s, uid)
    ws.close()
    assert review is not None
    assert review.values["quality"] == "3" and review.values["correctness"] == "correct"
    assert review.suggestions["quality"].outcome == "changed"
    assert review.suggestions["correctness"].outcome == "taken"


def test_a_blind_batch_shows_no_suggestions(
    qtbot: QtBot, settings: QSettings, tmp_path: Path
) -> None:
    path = tmp_path / "blind.sqlite"
    ws = init_workspace(path)
    make_batch(ws, "blind", {"alice": range(2)}, items=2, blind=True,
               sessions=[_judged(f"b{i}") for i in range(2)])  # fmt: skip
    ws.close()
    w = _window(qtbot, settings, path, "blind")
    assert all(b.suggestion.isHidden() for b in w.form.boxes)
    _key(qtbot, Qt.Key.Key_Return)
    assert w.form.state().values.get("quality") is None, "Enter offers nothing when blind"
    w.close()
