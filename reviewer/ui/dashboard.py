"""The lead's dashboard: coverage, quality, agreement, gold and judge figures as charts and
tables, computed on the worker. Clicking a bar asks for the sessions behind it; the
disagreement list opens the adjudication view."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.figures import StatsReport
from reviewer.services.analytics import (
    GOLD_STRATUM,
    NONE_LABEL,
    Selection,
    StatsQuery,
    compute_stats,
)
from reviewer.services.batches import list_batches
from reviewer.services.progress import Cancelled, Progress
from reviewer.services.reporting import write_report
from reviewer.services.workspaces import Workspace
from reviewer.ui import dashboard_figures as figures
from reviewer.ui.adjudication import AdjudicationDialog
from reviewer.ui.charts import BarChart, LineChart
from reviewer.ui.session_list import SessionsWanted
from reviewer.ui.tasks import TaskRunner

ALL_REVIEWS = "All reviews"


def _fill(table: QTableWidget, left: int, heads: list[str], rows: list[list[str]]) -> None:
    """Plain-text cells (session and reviewer names are never interpreted); the first
    ``left`` columns are names, aligned left, the others figures, aligned right."""
    table.clear()
    table.setColumnCount(len(heads))
    table.setHorizontalHeaderLabels(heads)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if c >= left:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


def _clear(layout: QVBoxLayout) -> None:
    """Remove the charts of the last refresh."""
    while layout.count():
        taken = layout.takeAt(0)
        old = taken.widget() if taken is not None else None
        if old is not None:
            old.deleteLater()


def _table() -> QTableWidget:
    t = QTableWidget(0, 0)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.verticalHeader().hide()
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    t.horizontalHeader().setStretchLastSection(True)
    t.verticalHeader().setDefaultSectionSize(22)
    t.setMinimumHeight(240)
    return t


def _page(*widgets: QWidget) -> QScrollArea:
    inner = QWidget()
    v = QVBoxLayout(inner)
    for w in widgets:
        v.addWidget(w)
    v.addStretch(1)
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(inner)
    return area


class _Bridge(QObject):
    """Carries progress from the worker to the GUI thread."""

    progressed = Signal(int, int, str)


class Dashboard(QWidget):
    """Figures of one workspace (one batch, or every review), refreshed on demand."""

    refreshed = Signal(object)
    """New figures are shown (the StatsReport)."""
    sessions_requested = Signal(object)
    """A bar was clicked: the sessions behind it are wanted (a SessionsWanted)."""
    report_saved = Signal(str)
    """An HTML report of the figures shown was written (its path)."""
    adjudication_opened = Signal(object)
    """The adjudication view of a disagreement was opened (the AdjudicationDialog)."""

    def __init__(
        self, runner: TaskRunner, parent: QWidget | None = None, *, lead: str = ""
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Dashboard")
        self.runner = runner
        self.lead = lead
        self.ws: Workspace | None = None
        self.report: StatsReport | None = None
        self.query = StatsQuery()
        self._progress: Progress | None = None
        self._bridge = _Bridge(self)
        self._bridge.progressed.connect(self._show_progress)

        self.batch_box = QComboBox()
        self.batch_box.setToolTip("Which reviews the figures cover")
        self.batch_box.activated.connect(lambda _i: self.refresh())
        self.where = QLineEdit()
        self.where.setPlaceholderText("Only sessions where… e.g. version=2.0 and tool_error")
        self.where.returnPressed.connect(self.refresh)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.save_button = QPushButton("Save report…")
        self.save_button.setToolTip("These figures as one self-contained HTML file")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._choose_report_file)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Scope:"))
        bar.addWidget(self.batch_box)
        bar.addWidget(self.where, 1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.save_button)

        self.coverage_chart = BarChart("Coverage per reviewer (click: their items)")
        self.version_coverage_chart = BarChart("Coverage per agent version")
        self.coverage_table = _table()
        self.failure_chart = BarChart("Failure rate per agent version, 95 % (click: failures)")
        self.quality_chart = BarChart("Mean quality per agent version, 95 %")
        self.pareto_chart = BarChart("Failure categories (click: sessions with that tag)")
        self.warnings = QLabel()
        self.warnings.setTextFormat(Qt.TextFormat.PlainText)
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #a04000")
        self.quality_note = QLabel()
        self.quality_note.setTextFormat(Qt.TextFormat.PlainText)
        self.quality_note.setWordWrap(True)
        self.over_time = QWidget()
        self._time_layout = QVBoxLayout(self.over_time)
        self._time_layout.setContentsMargins(0, 0, 0, 0)
        self.distributions = QWidget()
        self._dist_layout = QVBoxLayout(self.distributions)
        self._dist_layout.setContentsMargins(0, 0, 0, 0)
        self.alpha_chart = BarChart("Krippendorff's alpha per dimension")
        self.kappa_table = _table()
        self.disagreement_table = _table()
        self.disagreement_table.doubleClicked.connect(lambda _i: self.adjudicate_selected())
        self.adjudicate_button = QPushButton("Adjudicate…")
        self.adjudicate_button.setToolTip("Record the final label of the selected disagreement")
        self.adjudicate_button.clicked.connect(self.adjudicate_selected)
        self.agreement_note = QLabel()
        self.agreement_note.setTextFormat(Qt.TextFormat.PlainText)
        self.gold_chart = BarChart("Accuracy on gold items, 95 % (click: their items)")
        self.judge_table = _table()
        self.suggestion_table = _table()
        self.suggestion_table.setToolTip(
            "Reviewers' agreement with the judges' suggestions they were shown, and per"
            " reviewer the share taken unchanged and the median time with and without"
        )
        self.judge_note = QLabel()
        self.judge_note.setTextFormat(Qt.TextFormat.PlainText)
        for chart in (
            self.coverage_chart, self.version_coverage_chart, self.failure_chart,
            self.quality_chart, self.pareto_chart, self.gold_chart,
        ):  # fmt: skip
            chart.bar_clicked.connect(self._bar_clicked)

        self.tabs = QTabWidget()
        self.tabs.addTab(
            _page(self.coverage_chart, self.version_coverage_chart, self.coverage_table),
            "Coverage",
        )
        self.tabs.addTab(
            _page(
                self.quality_note,
                self.warnings,
                self.failure_chart,
                self.quality_chart,
                self.pareto_chart,
                self.over_time,
                self.distributions,
            ),
            "Quality",
        )
        adjudicate_row = QWidget()
        h = QHBoxLayout(adjudicate_row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.agreement_note, 1)
        h.addWidget(self.adjudicate_button)
        self.tabs.addTab(
            _page(self.alpha_chart, self.kappa_table, adjudicate_row, self.disagreement_table),
            "Agreement",
        )
        self.tabs.addTab(
            _page(self.gold_chart, self.judge_note, self.judge_table, self.suggestion_table),
            "Gold and judges",
        )
        from reviewer.ui.pairwise_page import PairwisePage

        self.pairwise_page = PairwisePage()
        self.tabs.addTab(self.pairwise_page, "Pairwise")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)
        self.resize(1000, 760)

    # Scope
    def set_workspace(self, ws: Workspace, batch: str | None = None) -> None:
        """Show figures of ``ws`` (``batch`` preselected); the batch list loads on the worker."""
        self.ws = ws
        self.batch_box.clear()
        self.batch_box.addItem(ALL_REVIEWS, None)
        if batch:
            self.batch_box.addItem(batch, batch)
            self.batch_box.setCurrentIndex(1)
        self.runner.run(list_batches, ws, on_done=lambda found: self._batches(found, batch))

    def _batches(self, found: list[object], keep: str | None) -> None:
        names = [getattr(b, "name", "") for b in found]
        current = self.batch_box.currentData()
        self.batch_box.clear()
        self.batch_box.addItem(ALL_REVIEWS, None)
        for n in names:
            self.batch_box.addItem(n, n)
        wanted = current or keep
        index = self.batch_box.findData(wanted) if wanted else 0
        self.batch_box.setCurrentIndex(max(0, index))

    def current_query(self) -> StatsQuery:
        batch = self.batch_box.currentData()
        where = self.where.text().strip() or None
        return StatsQuery(batch=batch, where=where, disagreements=500)

    # Computing
    def refresh(self) -> None:
        """Compute the figures again on the worker (Cancel stops it)."""
        if self.ws is None:
            return
        if self._progress is not None:
            self._progress.cancel()
        self.query = self.current_query()
        progress = Progress(
            lambda done, total, msg: self._bridge.progressed.emit(done, total or 0, msg)
        )
        self._progress = progress
        self.cancel_button.setEnabled(True)
        self.status.setText("Computing…")
        self.runner.run(
            compute_stats,
            self.ws,
            self.query,
            progress,
            on_done=lambda report: self._show(report, progress),
            on_error=lambda exc: self._failed(exc, progress),
        )

    def cancel(self) -> None:
        if self._progress is not None:
            self._progress.cancel()

    def _show_progress(self, done: int, total: int, message: str) -> None:
        if self._progress is not None and not self._progress.cancelled:
            self.status.setText(f"{message}… ({done}/{total})" if total else f"{message}…")

    def _failed(self, exc: BaseException, progress: Progress) -> None:
        if progress is not self._progress:
            return
        self._progress = None
        self.cancel_button.setEnabled(False)
        self.status.setText("Stopped." if isinstance(exc, Cancelled) else f"Cannot compute: {exc}")

    def _show(self, report: StatsReport, progress: Progress) -> None:
        if progress is not self._progress:
            return  # a newer refresh is on its way
        self._progress = None
        self.cancel_button.setEnabled(False)
        self.report = report
        scope = f"batch {report.batch}" if report.batch else "all reviews"
        if report.where:
            scope += f", sessions where {report.where}"
        self.status.setText(
            f"{scope}: {report.quality.reviews:,} submitted reviews,"
            f" computed {report.generated_at:%H:%M:%S} UTC"
        )
        self._show_coverage(report)
        self._show_quality(report)
        self._show_agreement(report)
        self._show_gold_and_judges(report)
        self.pairwise_page.show_report(report)
        self.save_button.setEnabled(True)
        self.refreshed.emit(report)

    # Figures
    def _show_coverage(self, report: StatsReport) -> None:
        c = report.coverage
        self.coverage_chart.set_bars(figures.coverage_bars(c.by_reviewer, "reviewer"))
        self.version_coverage_chart.set_bars(figures.coverage_bars(c.by_version, "version"))
        _fill(self.coverage_table, 2, *figures.coverage_rows(c))

    def _show_quality(self, report: StatsReport) -> None:
        q = report.quality
        self.quality_note.setText(
            f"{q.reviews:,} submitted reviews of {q.sessions:,} sampled sessions;"
            f" {q.weighting_note}. Baseline version: {q.baseline_version or '–'}."
            f" Overall failure rate {figures.pct(q.overall_failure_rate)},"
            f" mean {q.quality_dimension or 'quality'} {figures.mean(q.overall_mean_quality)}."
        )
        self.warnings.setText("\n".join(f"⚠ {w}" for w in q.warnings))
        self.warnings.setVisible(bool(q.warnings))
        self.failure_chart.set_bars(figures.failure_bars(q))
        self.quality_chart.set_bars(figures.quality_bars(q))
        self.pareto_chart.set_bars(figures.pareto_bars(q))
        _clear(self._time_layout)
        for title, points, top, unit in figures.over_time_charts(q):
            line = LineChart(title)
            line.set_points(points, maximum=top, unit=unit)
            self._time_layout.addWidget(line)
        _clear(self._dist_layout)
        for d in q.distributions:
            extra = f", mean {d.mean:.2f}" if d.mean is not None else ""
            chart = BarChart(f"{d.label} ({d.reviews:,} reviews{extra})")
            chart.set_bars(figures.distribution_bars(d))
            chart.bar_clicked.connect(self._bar_clicked)
            self._dist_layout.addWidget(chart)

    def _show_agreement(self, report: StatsReport) -> None:
        a = report.agreement
        self.alpha_chart.set_bars(figures.alpha_bars(a), maximum=1.0)
        _fill(self.kappa_table, 3, *figures.kappa_rows(a))
        self.agreement_note.setText(
            f"{a.items:,} items seen by two or more reviewers; {a.disagreements_total:,}"
            f" disagreements ({a.disagreements_open:,} open), the first"
            f" {len(a.disagreements):,} listed. Double-click one to adjudicate."
        )
        _fill(self.disagreement_table, 5, *figures.disagreement_rows(a))
        self.adjudicate_button.setEnabled(bool(a.disagreements))

    def _show_gold_and_judges(self, report: StatsReport) -> None:
        self.gold_chart.set_bars(figures.gold_bars(report), maximum=1.0)
        self.judge_note.setText(
            f"Judge agreement on a uniform sample of {report.judge_sample:,} reviewed sessions."
            if report.judge_sample
            else "Judge agreement over every reviewed session that has judge scores."
        )
        _fill(self.judge_table, 2, *figures.judge_rows(report))
        _fill(self.suggestion_table, 2, *figures.suggestion_rows(report))

    # Interaction
    def _choose_report_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save report", "report.html", "HTML files (*.html);;All files (*)"
        )
        if path:
            self.save_report(Path(path))

    def save_report(self, path: Path) -> None:
        """Write the figures shown as an HTML report (on the worker)."""
        if self.report is None:
            return
        self.runner.run(
            write_report,
            self.report,
            path,
            on_done=self._report_saved,
            on_error=lambda exc: self.status.setText(f"Report not saved: {exc}"),
        )

    def _report_saved(self, path: Path) -> None:
        self.status.setText(f"Report saved to {path}")
        self.report_saved.emit(str(path))

    def _bar_clicked(self, selection: object) -> None:
        if not isinstance(selection, Selection):
            return
        if selection.kind == "version" and selection.value == NONE_LABEL:
            selection = Selection("version", None, title="no agent version")
        if selection.kind == "stratum" and selection.value == GOLD_STRATUM:
            selection = Selection("stratum", GOLD_STRATUM, batch=selection.batch, title="gold")
        self.sessions_requested.emit(SessionsWanted(self.query, selection))

    def adjudicate_selected(self) -> AdjudicationDialog | None:
        """Open the adjudication view of the selected disagreement."""
        if self.ws is None or self.report is None:
            return None
        row = self.disagreement_table.currentRow()
        listed = self.report.agreement.disagreements
        if not 0 <= row < len(listed):
            return None
        d = listed[row]
        dialog = AdjudicationDialog(self.ws, self.runner, d.batch, d.session_id, self.lead, self)
        dialog.adjudicated.connect(lambda _uid: self.refresh())
        dialog.open()
        self.adjudication_opened.emit(dialog)
        return dialog
