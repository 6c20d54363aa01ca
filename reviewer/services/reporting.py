"""The stakeholder report: a :class:`StatsReport` written as one self-contained HTML file.

The figures come from :func:`reviewer.services.analytics.compute_stats`; the HTML from
:mod:`reviewer.render.report`. The CLI (`reviewer report`) and the dashboard's Save report…
write the file through here.
"""

from __future__ import annotations

from pathlib import Path

from reviewer.domain.figures import StatsReport
from reviewer.render.report import write_report as _write_html

__all__ = ["write_report"]


def write_report(report: StatsReport, out: Path) -> Path:
    """Write ``report`` to ``out`` atomically (a partial file never takes its place).

    Raises :class:`OSError` when the file cannot be written.
    """
    return _write_html(report, out)
