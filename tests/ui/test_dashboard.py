"""The dashboard in the app: figures computed on the worker, bars that open the sessions
behind them, and adjudication of a disagreement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from reviewer.resources import default_rubric
from reviewer.services.analytics import Selection
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.tables import ReviewRow, SessionRow
from reviewer.ui.charts import Bar, BarChart, LineChart, Point
from reviewer.ui.dashboard import Dashboard
from reviewer.ui.main_window import MainWindow
from reviewer.ui.session_list import SessionListWindow
from tests.services.analytics_helpers import batch, label, sessions

EVE = "<b>eve</b>"


@pytest.fixture
def reviewed(tmp_path: Path) -> Path:
    """Eight sessions in batch "b", each reviewed by ann and eve; two tagged "looped" by
    both, one where they disagree on correctness and tags."""
    path = tmp_path / "board.sqlite"
    ws = init_workspace(path)
    rubric = default_rubric()
    sessions(ws, ["1.0"] * 4 + ["2.0"] * 4)
    batch(ws, "b", size=8, reviewers=["ann", EVE], overlap=1.0, seed=2)
    for i in range(8):
        key = f"s-{i:03d}"
        looped = ["looped"] if i in (1, 6) else []
        label(ws, rubric, key, "ann", batch="b", tags=looped)
        if i == 3:
            label(ws, rubric, key, EVE, batch="b", correctness="incorrect", tags=["unsafe"])
        else:
            label(ws, rubric, key, EVE, batch="b", tags=looped)
    ws.close()
    return path


@pytest.fixture
def lead_window(qtbot: QtBot, settings: QSettings) -> Iterator[MainWindow]:
    w = MainWindow(settings, reviewer="lead", batch="b")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def _ids(path: Path, keys: list[str]) -> list[int]:
    ws = open_existing(path)
    try:
        with ws.read() as s:
            return sorted(s.scalars(select(SessionRow.id).where(SessionRow.session_key.in_(keys))))
    finally:
        ws.close()


def _open_board(qtbot: QtBot, w: MainWindow, path: Path) -> Dashboard:
    with qtbot.waitSignal(w.workspace_opened, timeout=10_000):
        w.open_workspace(str(path))
    action = next(a for a in w.findChildren(QAction) if a.text() == "&Dashboard")
    action.trigger()
    board = w.dashboard
    assert board is not None
    qtbot.waitSignal(board.refreshed, timeout=15_000).wait()
    qtbot.waitExposed(board)
    return board


def test_dashboard_shows_the_figures_and_a_bar_opens_its_sessions(
    qtbot: QtBot, lead_window: MainWindow, reviewed: Path
) -> None:
    board = _open_board(qtbot, lead_window, reviewed)
    report = board.report
    assert report is not None and report.batch == "b"
    assert board.batch_box.currentData() == "b"
    assert [b.label for b in board.pareto_chart.bars] == [
        "Looped without progress",
        "Unsafe or policy-violating content",
    ]
    assert [b.value for b in board.pareto_chart.bars] == [4.0, 1.0]
    assert {b.label for b in board.coverage_chart.bars} == {"ann", EVE}
    assert all(b.value == 8 for b in board.coverage_chart.bars)
    assert [b.label for b in board.failure_chart.bars] == ["1.0 (baseline)", "2.0"]
    assert board.disagreement_table.rowCount() == 1
    assert board.disagreement_table.item(0, 0).text() == "s-003"
    assert board.disagreement_table.item(0, 2).text() == f"{EVE}, ann"  # as text
    assert board.kappa_table.rowCount() > 0
    lines = board.over_time.findChildren(LineChart)
    assert [c.title.split(":")[0] for c in lines] == ["Version 1.0 (baseline)", "Version 2.0"]
    assert all(c.points and c.points[0].label.startswith("20") for c in lines)

    board.tabs.setCurrentIndex(1)  # Quality
    chart = board.pareto_chart
    qtbot.waitExposed(chart)
    with qtbot.waitSignal(lead_window.sessions_listed, timeout=10_000) as shown:
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.bar_rect(0).center())
    assert shown.args == [2]
    listing = lead_window.findChildren(SessionListWindow)[-1]
    assert listing.session_ids() == _ids(reviewed, ["s-001", "s-006"])
    assert "failure tag Looped without progress" in listing.windowTitle()
    assert listing.wanted.query.batch == "b"

    with qtbot.waitSignal(lead_window.sessions_listed, timeout=10_000) as shown:
        qtbot.mouseClick(
            board.failure_chart,
            Qt.MouseButton.LeftButton,
            pos=board.failure_chart.bar_rect(1).center(),
        )
    assert shown.args == [4]
    assert lead_window.findChildren(SessionListWindow)[-1].session_ids() == _ids(
        reviewed, ["s-004", "s-005", "s-006", "s-007"]
    )


def test_the_dashboard_saves_the_figures_as_a_report(
    qtbot: QtBot, lead_window: MainWindow, reviewed: Path, tmp_path: Path
) -> None:
    board = _open_board(qtbot, lead_window, reviewed)
    out = tmp_path / "board.html"
    with qtbot.waitSignal(board.report_saved, timeout=10_000) as saved:
        board.save_report(out)
    assert saved.args == [str(out)]
    html = out.read_text(encoding="utf-8")
    assert "Review report — batch b" in html and "&lt;b&gt;eve&lt;/b&gt;" in html


def test_a_disagreement_is_adjudicated_from_the_dashboard(
    qtbot: QtBot, lead_window: MainWindow, reviewed: Path
) -> None:
    board = _open_board(qtbot, lead_window, reviewed)
    board.tabs.setCurrentIndex(2)  # Agreement
    board.disagreement_table.selectRow(0)
    dialog = board.adjudicate_selected()
    assert dialog is not None
    qtbot.waitSignal(dialog.case_loaded, timeout=10_000).wait()
    assert dialog.table.columnCount() == 3  # eve, ann (by name), Final
    heads = [dialog.table.horizontalHeaderItem(c).text() for c in range(3)]
    assert heads == [EVE, "ann", "Final"]
    rows = [dialog.table.verticalHeaderItem(r).text() for r in range(dialog.table.rowCount())]
    correctness = rows.index("Correctness")
    assert dialog.table.item(correctness, 0).text() == "Incorrect"
    assert dialog.table.item(correctness, 1).text() == "Correct"
    dialog.set_final("correctness", "incorrect")
    dialog.set_final("failure_categories", ["unsafe"])
    with (
        qtbot.waitSignal(dialog.adjudicated, timeout=10_000),
        qtbot.waitSignal(board.refreshed, timeout=15_000),
    ):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert board.report is not None
    assert board.report.agreement.disagreements_open == 0
    assert board.disagreement_table.item(0, 4).text() == "recorded"
    ws = open_existing(reviewed)
    try:
        with ws.read() as s:
            final = s.scalars(select(ReviewRow).where(ReviewRow.role == "adjudicator")).one()
    finally:
        ws.close()
    assert final.reviewer == "lead" and final.status == "submitted"
    assert final.values["correctness"] == "incorrect"
    assert final.values["failure_categories"] == ["unsafe"]


def test_bar_chart_emits_the_payload_of_clickable_bars_only(qtbot: QtBot) -> None:
    chart = BarChart("Test")
    qtbot.addWidget(chart)
    chart.resize(500, 200)
    chosen = Selection("tag", "looped")
    chart.set_bars(
        [
            Bar('<img src="file:///etc/passwd">', 3, payload=chosen),
            Bar("not clickable", 1, low=0.5, high=2.0),
        ]
    )
    chart.show()
    qtbot.waitExposed(chart)
    assert not chart.grab().isNull()  # paints hostile text as text
    with qtbot.waitSignal(chart.bar_clicked, timeout=2_000) as clicked:
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.bar_rect(0).center())
    assert clicked.args == [chosen]
    with qtbot.assertNotEmitted(chart.bar_clicked):
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.bar_rect(1).center())
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=QPoint(5, 3))  # the title
    chart.setFocus()
    chart.current = -1
    qtbot.keyClick(chart, Qt.Key.Key_Down)
    with qtbot.waitSignal(chart.bar_clicked, timeout=2_000) as keyed:
        qtbot.keyClick(chart, Qt.Key.Key_Return)
    assert keyed.args == [chosen]


def test_over_time_charts_mark_the_periods_worse_than_the_baseline() -> None:
    from datetime import date

    from reviewer.domain.figures import Estimate, Quality, TimePoint, VersionQuality
    from reviewer.ui.dashboard_figures import over_time_charts

    def point(version: str, day: int, rate: float, worse: bool = False) -> TimePoint:
        e = Estimate(value=rate, low=rate - 0.02, high=rate + 0.02, n=100, n_effective=100)
        return TimePoint(
            version=version, period_start=date(2026, 9, day), sessions=100, failure_rate=e,
            worse_than_baseline=worse,
        )  # fmt: skip

    q = Quality(
        reviews=400, sessions=400, weighted=False, weighting_note="", baseline_version="1.0",
        versions=[VersionQuality(version=v, sessions=200, reviews=200) for v in ("1.0", "2.0")],
        period="week",
        over_time=[point("2.0", 7, 0.1), point("2.0", 14, 0.3, worse=True),
                   point("1.0", 14, 0.1), point("1.0", 7, 0.12)],
    )  # fmt: skip
    (base, title_b), (new, title_n) = [(pts, t) for t, pts, _, _ in over_time_charts(q)]
    assert title_b.startswith("Version 1.0 (baseline): failure rate per week")
    assert [p.label for p in base] == ["2026-09-07", "2026-09-14"]  # in time order
    assert [p.marked for p in new] == [False, True]
    assert "1 week(s) worse than the baseline" in title_n
    assert new[1].value == pytest.approx(30.0) and new[1].high == pytest.approx(32.0)
    assert isinstance(new[1], Point)
