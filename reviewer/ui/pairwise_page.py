"""The dashboard's Pairwise tab: win rates of one version over another, position bias."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

from reviewer.domain.figures import StatsReport
from reviewer.ui.charts import Bar, BarChart
from reviewer.ui.messages import plain_label


def _p(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}" if value >= 0.001 else "< 0.001"


class PairwisePage(QScrollArea):
    """Charts and notes of ``report.pairwise`` (a note saying there is none otherwise)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = plain_label()
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.win_chart = BarChart("Win rate of B over A (ties split), 95 % interval")
        self.position_chart = BarChart("Left side picked, among preferences that picked one")
        inner = QWidget()
        v = QVBoxLayout(inner)
        for w in (self.note, self.win_chart, self.position_chart):
            v.addWidget(w)
        v.addStretch(1)
        self.setWidgetResizable(True)
        self.setWidget(inner)

    def show_report(self, report: StatsReport) -> None:
        p = report.pairwise
        if p is None:
            self.note.setText("No pairwise batch in scope (reviewer sample --pairs makes one).")
            self.win_chart.set_bars([])
            self.position_chart.set_bars([])
            return
        self.win_chart.set_bars(
            [
                Bar(
                    label=f"{c.field}: {c.b} vs {c.a}",
                    value=c.win_rate,
                    low=c.ci_low,
                    high=c.ci_high,
                    text=f"{100 * c.win_rate:.0f} % of {c.items:,} · sign p {_p(c.sign_test_p)}",
                    tooltip=f"B wins {c.wins_b:,}, A wins {c.wins_a:,}, ties {c.ties:,},"
                    f" both bad {c.both_bad:,} ({c.reviews:,} preferences)",
                )
                for c in p.comparisons
            ],
            maximum=1.0,
        )
        b = p.position_bias
        self.position_chart.set_bars(
            []
            if b.left_share is None
            else [
                Bar(
                    label="left picked",
                    value=b.left_share,
                    low=b.ci_low,
                    high=b.ci_high,
                    text=f"{100 * b.left_share:.0f} % of {b.decided:,} · p {_p(b.sign_test_p)}",
                )
            ],
            maximum=1.0,
        )
        lines = [
            f"{sum(c.items for c in p.comparisons):,} pairs with a submitted preference."
            " A win rate above 50 % with its interval clear of 50 % means B is preferred."
        ]
        if p.agreement.kappa is not None:
            lines.append(
                f"Agreement on {p.agreement.items:,} pairs reviewed twice: kappa"
                f" {p.agreement.kappa:.2f}."
            )
        for r in p.rankings:
            order = " > ".join(v.value for v in r.values)
            lines.append(f"Bradley–Terry ranking of {r.field}: {order}.")
        self.note.setText("\n".join(lines))
