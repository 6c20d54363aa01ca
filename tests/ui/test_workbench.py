"""The workbench driven the way a reviewer drives it: by keyboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import (
    QApplication,
    QInputDialog,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import insert, select

from reviewer.domain.review import ReviewStatus
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.reviews import review_from_row
from reviewer.store.rubrics import find_rubric
from reviewer.store.tables import AssignmentRow, BatchItemRow, BatchRow, ReviewRow, SessionRow
from reviewer.ui import workbench
from reviewer.ui.main_window import MainWindow
from reviewer.ui.transcript_plan import LINE_LIMIT
from tests.helpers.factories import make_session

HOSTILE = (
    '<img src="file:///etc/passwd"> <script>alert(1)</script> ![x](file:///etc/hosts) '
    "[click](javascript:alert(1)) \x1b[31mred\x1b[0m \u202eevil\u202c zero\u200bwidth"
)


@pytest.fixture
def review_ws(tmp_path: Path) -> Path:
    path = tmp_path / "review.sqlite"
    ws = init_workspace(path)
    sessions = [make_session(f"s-{i}", text=f"question {i}") for i in range(5)]
    hostile = make_session("hostile", text=HOSTILE)
    hostile.steps[-1].content = "**Bold** answer with a [link](https://example.com/a?b=1)."
    big = make_session("big-output")
    big.steps[3].content = "x" * 10_000_000
    store_sessions(ws, [*sessions, hostile, big])
    ws.close()
    return path


@pytest.fixture
def bench_window(qtbot: QtBot, settings: QSettings) -> Iterator[MainWindow]:
    w = MainWindow(settings, reviewer="alice")
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    yield w
    w.close()


def _open(qtbot: QtBot, w: MainWindow, path: Path) -> None:
    with (
        qtbot.waitSignal(w.workspace_opened, timeout=10_000),
        qtbot.waitSignal(w.session_shown, timeout=10_000),
    ):
        w.open_workspace(str(path))
    w.activateWindow()


def _keys_to() -> QWidget:
    """Where a real keyboard sends keys: the focus widget."""
    focus = QApplication.focusWidget()
    assert focus is not None, "nothing has keyboard focus"
    return focus


def _activate(qtbot: QtBot, w: MainWindow) -> None:
    """Keys go to the active window only, as on a real desktop."""
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)


def _stored(path: Path, key: str) -> list[ReviewRow]:
    ws = open_existing(path)
    try:
        with ws.read() as s:
            return list(
                s.scalars(
                    select(ReviewRow)
                    .join(SessionRow, SessionRow.id == ReviewRow.session_id)
                    .where(SessionRow.session_key == key)
                )
            )
    finally:
        ws.close()


def _current_key(w: MainWindow) -> str:
    item = w.bench.item
    assert item is not None
    return item.session.id


def test_a_fine_session_takes_four_keystrokes(
    qtbot: QtBot, bench_window: MainWindow, review_ws: Path
) -> None:
    w = bench_window
    _open(qtbot, w, review_ws)
    key = _current_key(w)
    _activate(qtbot, w)
    for k in "511":
        qtbot.keyClick(_keys_to(), k)
    with (
        qtbot.waitSignal(w.bench.review_saved, timeout=5_000) as saved,
        qtbot.waitSignal(w.session_shown, timeout=5_000),
    ):
        qtbot.keyClick(_keys_to(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert saved.args[1] == "submitted"
    assert _current_key(w) != key, "submit opened the next item"
    (row,) = _stored(review_ws, key)
    assert row.status == "submitted" and row.reviewer == "alice"
    assert row.values["quality"] == "5"
    assert row.values["correctness"] == "correct"
    assert row.values["policy"] == "compliant"
    assert row.submitted_at is not None
    assert w.model.status(row.session_id).value == "submitted"


def test_tags_failure_step_undo_and_text_by_keyboard(
    qtbot: QtBot, bench_window: MainWindow, review_ws: Path
) -> None:
    w = bench_window
    _open(qtbot, w, review_ws)
    key = _current_key(w)
    _activate(qtbot, w)
    for k in "23":  # quality 2, correctness incorrect
        qtbot.keyClick(_keys_to(), k)
    qtbot.keyClick(_keys_to(), "2")  # policy: minor violation
    qtbot.keyClick(_keys_to(), "t")  # tag: tool failure
    qtbot.keyClick(_keys_to(), "h")  # tag: hallucination
    qtbot.keyClick(_keys_to(), "z", Qt.KeyboardModifier.ControlModifier)  # undo the last tag
    qtbot.keyClick(_keys_to(), "]")  # failure step: #0
    qtbot.keyClick(_keys_to(), "]")  # #1
    qtbot.keyClick(_keys_to(), "]")  # #2
    w.transcript.step_clicked.emit(3)  # a click on the card of step 3
    state = w.form.state()
    assert state.values["failure_categories"] == ["tool_failure"]
    assert state.failure_step == 3
    # Tab to the rationale and type: letters are text there, not tag hotkeys.
    for _ in range(len(w.form.boxes)):
        if w.form.boxes[w.form.active].dim.name == "rationale":
            break
        qtbot.keyClick(_keys_to(), Qt.Key.Key_Tab)
    rationale = w.form.boxes[w.form.active].text
    assert rationale is not None and rationale.hasFocus()
    qtbot.keyClicks(rationale, "tool timed out")
    assert w.form.state().values["failure_categories"] == ["tool_failure"]
    with qtbot.waitSignal(w.bench.review_saved, timeout=5_000):
        qtbot.keyClick(rationale, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    (row,) = _stored(review_ws, key)
    assert row.status == "submitted"
    assert row.values["quality"] == "2" and row.values["correctness"] == "incorrect"
    assert row.values["policy"] == "minor_violation"
    assert row.values["failure_categories"] == ["tool_failure"]
    assert row.values["rationale"] == "tool timed out"
    assert row.failure_step == 3


def test_submit_without_required_values_says_what_is_missing(
    qtbot: QtBot, bench_window: MainWindow, review_ws: Path
) -> None:
    w = bench_window
    _open(qtbot, w, review_ws)
    key = _current_key(w)
    _activate(qtbot, w)
    qtbot.keyClick(_keys_to(), "4")
    qtbot.keyClick(_keys_to(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert w.form.problem.isVisible()
    assert "Correctness" in w.form.problem.text() and "Policy" in w.form.problem.text()
    assert _current_key(w) == key, "stays on the item"
    assert w.form.boxes[w.form.active].dim.name == "correctness"


def test_changes_become_a_draft_that_reopening_restores(
    qtbot: QtBot, settings: QSettings, review_ws: Path
) -> None:
    w = MainWindow(settings, reviewer="bob")
    qtbot.addWidget(w)
    w.show()
    _open(qtbot, w, review_ws)
    key = _current_key(w)
    _activate(qtbot, w)
    with qtbot.waitSignal(w.bench.review_saved, timeout=5_000) as saved:
        qtbot.keyClick(_keys_to(), "3")  # no Ctrl+S: the autosave keeps it
    assert saved.args[1] == "draft"
    w.close()
    (row,) = _stored(review_ws, key)
    assert (row.status, row.values["quality"]) == ("draft", "3")

    w2 = MainWindow(settings, reviewer="bob")
    qtbot.addWidget(w2)
    w2.show()
    _open(qtbot, w2, review_ws)
    assert _current_key(w2) == key, "the draft is still to do, so it opens first"
    assert w2.form.state().values["quality"] == "3"
    assert w2.model.status(row.session_id).value == "draft"
    w2.close()


def test_skip_and_flag_ask_for_a_reason(
    qtbot: QtBot, bench_window: MainWindow, review_ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = bench_window
    _open(qtbot, w, review_ws)
    first = _current_key(w)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("not my language", True))
    with (
        qtbot.waitSignal(w.bench.review_saved, timeout=5_000),
        qtbot.waitSignal(w.session_shown, timeout=5_000),
    ):
        qtbot.keyClick(
            w.table,
            Qt.Key.Key_S,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    second = _current_key(w)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("possible PII leak", True))
    with qtbot.waitSignal(w.bench.review_saved, timeout=5_000):
        qtbot.keyClick(
            w.table,
            Qt.Key.Key_F,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    (skipped,) = _stored(review_ws, first)
    (flagged,) = _stored(review_ws, second)
    assert (skipped.status, skipped.status_reason) == ("skipped", "not my language")
    assert (flagged.status, flagged.status_reason) == ("flagged", "possible PII leak")


def test_alt_arrows_move_through_the_queue(
    qtbot: QtBot, bench_window: MainWindow, review_ws: Path
) -> None:
    w = bench_window
    _open(qtbot, w, review_ws)
    row = w.table.currentIndex().row()
    with qtbot.waitSignal(w.session_shown, timeout=5_000):
        qtbot.keyClick(_keys_to(), Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert w.table.currentIndex().row() == row + 1
    with qtbot.waitSignal(w.session_shown, timeout=5_000):
        qtbot.keyClick(_keys_to(), Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert w.table.currentIndex().row() == row


def _show(qtbot: QtBot, w: MainWindow, key: str) -> None:
    rows = [r for r in range(w.model.rowCount()) if (s := w.model.summary(r)) and s.key == key]
    if not rows:
        with qtbot.waitSignal(w.model.rows_loaded, timeout=5_000):
            w.model.data(w.model.index(0, 1))
        rows = [r for r in range(w.model.rowCount()) if (s := w.model.summary(r)) and s.key == key]
    if _current_key(w) == key:
        return
    with qtbot.waitSignal(w.session_shown, timeout=10_000):
        w.table.selectRow(rows[0])


def test_hostile_content_is_literal_text_and_loads_nothing(
    qtbot: QtBot, bench_window: MainWindow, review_ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = bench_window
    _open(qtbot, w, review_ws)
    _show(qtbot, w, "hostile")
    if not w.transcript.complete:
        with qtbot.waitSignal(w.transcript.rendered, timeout=5_000):
            pass
    text = w.transcript.toPlainText()
    assert HOSTILE in text, "shown exactly as recorded: no tag, link or escape interpreted"
    assert "**Bold** answer" in text, "markdown markers stay; only the look changes"
    opened: list[str] = []
    monkeypatch.setattr(
        "reviewer.ui.transcript.QDesktopServices.openUrl", lambda url: opened.append(url)
    )
    monkeypatch.setattr("reviewer.ui.transcript.inform", lambda *a, **k: None)
    assert not w.transcript.open_link("file:///etc/hosts")
    assert not w.transcript.open_link("javascript:alert(1)")
    w.transcript.confirm_link = lambda href: False
    assert not w.transcript.open_link("https://example.com/a?b=1")
    assert opened == []
    w.transcript.confirm_link = lambda href: True
    w.transcript.open_link("https://example.com/a?b=1")
    assert len(opened) == 1


def test_a_ten_megabyte_line_is_folded(
    qtbot: QtBot, bench_window: MainWindow, review_ws: Path
) -> None:
    w = bench_window
    _open(qtbot, w, review_ws)
    _show(qtbot, w, "big-output")
    doc = w.transcript.document()
    longest = max(doc.findBlockByNumber(i).length() for i in range(doc.blockCount()))
    assert longest <= LINE_LIMIT + 1
    assert "more characters — click to show all" in w.transcript.toPlainText()
    assert len(w.transcript.step_text(3)) == 10_000_000, "Copy step still gives everything"


def test_blind_batch_hides_agent_and_model(
    qtbot: QtBot, settings: QSettings, review_ws: Path
) -> None:
    ws = open_existing(review_ws)
    with ws.write() as s:
        found = find_rubric(s, "default")
        assert found is not None
        batch_id = s.execute(
            insert(BatchRow).returning(BatchRow.id),
            [
                {
                    "name": "blind-1",
                    "spec": {},
                    "rubric_id": found[0],
                    "blind": True,
                    "created_at": datetime.now(UTC),
                }
            ],
        ).scalar_one()
        ids = list(s.scalars(select(SessionRow.id).order_by(SessionRow.id).limit(3)))
        for pos, sid in enumerate(ids):
            item_id = s.execute(
                insert(BatchItemRow).returning(BatchItemRow.id),
                [
                    {
                        "batch_id": batch_id,
                        "session_id": sid,
                        "position": pos,
                        "inclusion_probability": 0.5,
                    }
                ],
            ).scalar_one()
            s.execute(insert(AssignmentRow), [{"item_id": item_id, "reviewer": "carol"}])
    ws.close()
    w = MainWindow(settings, reviewer="carol", batch="blind-1")
    qtbot.addWidget(w)
    w.show()
    _open(qtbot, w, review_ws)
    assert w.model.rowCount() == 3
    assert w.table.isColumnHidden(3) and w.table.isColumnHidden(4)
    assert "support-agent" not in w.bench.meta.text()
    assert "gpt-4o-mini" not in w.bench.meta.text()
    _activate(qtbot, w)
    for k in "511":
        qtbot.keyClick(_keys_to(), k)
    with qtbot.waitSignal(w.bench.review_saved, timeout=5_000):
        qtbot.keyClick(_keys_to(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    ws = open_existing(review_ws)
    with ws.read() as s:
        (row,) = s.scalars(select(ReviewRow))
        review = review_from_row(s, row)
    ws.close()
    assert review.batch == "blind-1" and review.reviewer == "carol"
    assert review.status is ReviewStatus.SUBMITTED
    w.close()


def test_plus_shows_all_of_the_folded_step_at_the_cursor(
    qtbot: QtBot, bench_window: MainWindow, review_ws: Path
) -> None:
    w = bench_window
    _open(qtbot, w, review_ws)
    _show(qtbot, w, "big-output")
    qtbot.waitUntil(lambda: w.transcript.complete, timeout=10_000)
    _activate(qtbot, w)
    before = w.transcript.toPlainText().count("x")
    assert "more characters — click to show all" in w.transcript.toPlainText()
    for _ in range(4):
        qtbot.keyClick(_keys_to(), "]")  # the step cursor on #3, the 10 MB tool output
    assert w.form.failure_step == 3
    qtbot.keyClick(_keys_to(), "+")
    shown = w.transcript.toPlainText().count("x")
    assert shown > 50 * before, "the folded output is shown (up to the expanded limit)"
    assert "click to show all" not in w.transcript.toPlainText()
    assert "Copy step copies everything" in w.transcript.toPlainText()
    with qtbot.waitSignal(w.bench.message, timeout=1_000) as said:
        qtbot.keyClick(_keys_to(), "+")
    assert said.args == ["Step #3 is shown in full already"]
    assert w.transcript.toPlainText().count("x") == shown


def test_the_details_tab_shows_the_open_session_and_follows_the_next(
    qtbot: QtBot, bench_window: MainWindow, review_ws: Path
) -> None:
    w = bench_window
    _open(qtbot, w, review_ws)
    _show(qtbot, w, "s-1")

    def details() -> dict[str, str]:
        table = w.bench.details
        return {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}

    w.bench.tabs.setCurrentIndex(2)  # Details
    assert details()["Session"] == "s-1"
    _show(qtbot, w, "s-2")  # the tab stays open: it shows the new session at once
    assert details()["Session"] == "s-2"


def test_a_long_session_shows_its_first_cards_and_then_the_rest(
    qtbot: QtBot, bench_window: MainWindow, review_ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbench, "FIRST_CARDS", 2)  # the rest is built after it shows
    w = bench_window
    _open(qtbot, w, review_ws)
    _show(qtbot, w, "s-3")
    qtbot.waitUntil(lambda: w.transcript.complete, timeout=10_000)
    session = w.bench.item.session if w.bench.item else None
    assert session is not None and len(session.steps) > 2
    assert [p.card.step for p in w.transcript._placed] == list(range(len(session.steps)))
    assert "question 3" in w.transcript.toPlainText()
    assert session.steps[-1].content[:20] in w.transcript.toPlainText()


def test_the_list_paints_what_the_model_holds(qtbot: QtBot) -> None:
    """A view asks for every role of a cell at once (``multiData``): what it paints is
    what ``data`` gives."""
    from reviewer.services.reviewing import ItemStatus
    from reviewer.ui.session_model import SessionListModel

    model = SessionListModel(lambda ids, done: None)
    model.set_ids(list(range(10)), {3: ItemStatus.DRAFT})
    delegate = QStyledItemDelegate()
    for row, column in ((3, 0), (4, 0), (3, 1), (3, 2)):
        option = QStyleOptionViewItem()
        delegate.initStyleOption(option, model.index(row, column))
        assert option.text == (model.data(model.index(row, column)) or "")
    option = QStyleOptionViewItem()
    delegate.initStyleOption(option, model.index(3, 0))
    assert option.text == "draft"


def test_queue_model_with_statuses_passes_the_model_tester(qtbot: QtBot) -> None:
    from reviewer.services.reviewing import ItemStatus
    from reviewer.ui.session_model import SessionListModel

    model = SessionListModel(lambda ids, done: None)
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.set_ids(list(range(50)), {3: ItemStatus.DRAFT})
    assert model.data(model.index(3, 0)) == "draft"
    with qtbot.waitSignal(model.dataChanged):
        model.set_status(4, ItemStatus.SUBMITTED)
    assert model.data(model.index(4, 0)) == "submitted"
