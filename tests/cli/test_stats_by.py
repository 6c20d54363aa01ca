"""`reviewer stats --by`: the figures over time per day, week or month."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reviewer.cli import main


def test_over_time_by_day_week_or_month(tmp_path: Path) -> None:
    from datetime import date

    from reviewer.services.demo import build_demo

    build_demo(tmp_path / "demo.sqlite", sessions=400).close()
    got = {}
    for by in ("day", "week", "month", "auto"):
        out = CliRunner().invoke(main, ["stats", str(tmp_path / "demo.sqlite"), "--batch",
                                        "demo-batch", "--by", by, "--json"])  # fmt: skip
        assert out.exit_code == 0, out.stderr
        q = json.loads(out.stdout)["quality"]
        got[by] = (q["period"], [date.fromisoformat(p["period_start"]) for p in q["over_time"]])
    assert got["month"][0] == "month" and {d.day for d in got["month"][1]} == {1}
    assert {d.month for d in got["month"][1]} == {10, 11}  # the demo spans 45 days
    assert got["week"][0] == "week" and {d.weekday() for d in got["week"][1]} == {0}
    assert got["day"][0] == "day" and len(got["day"][1]) > len(got["week"][1])
    assert got["auto"] == got["week"]  # more than three weeks
