"""An uncaught error in a command is logged with its traceback, counted by diagnostics and
told in one line (no bare traceback, no empty log)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import reviewer.logs
from reviewer.cli import main
from reviewer.services.workspaces import init_workspace


@pytest.fixture
def fresh_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Logging set up anew in this test's log folder (and taken down after)."""
    logger = logging.getLogger("reviewer")
    kept = list(logger.handlers)
    for h in kept:
        logger.removeHandler(h)
    monkeypatch.setattr(reviewer.logs, "_configured", False)
    yield reviewer.logs.log_dir() / "reviewer.log"
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    for h in kept:
        logger.addHandler(h)


def test_an_uncaught_error_is_logged_counted_and_told_in_one_line(
    tmp_path: Path, fresh_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "ws.sqlite"
    init_workspace(ws).close()

    def broken(*_args: object, **_kw: object) -> None:
        raise IndexError("index -1 is out of bounds for postgresql://ana:S3cret@db/x")

    monkeypatch.setattr("reviewer.services.analytics.compute_stats", broken)
    before = CliRunner().invoke(main, ["diagnostics"])
    assert "Recent warnings and errors (0)" in before.output
    result = CliRunner().invoke(main, ["stats", str(ws)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # handled, not a crash
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: unexpected problem in `reviewer stats` (IndexError: index -1")
    assert str(fresh_log) in line and "S3cret" not in line
    logged = fresh_log.read_text(encoding="utf-8")
    assert "ERROR reviewer.cli: uncaught error in `reviewer stats`" in logged
    assert "Traceback (most recent call last)" in logged and "S3cret" not in logged
    after = CliRunner().invoke(main, ["diagnostics"])
    assert "Recent warnings and errors (1)" in after.output
    assert "uncaught error in `reviewer stats`: IndexError" in after.output


def test_usage_errors_and_clean_failures_are_not_counted(tmp_path: Path, fresh_log: Path) -> None:
    assert CliRunner().invoke(main, ["stats"]).exit_code == 2  # missing argument
    missing = CliRunner().invoke(main, ["stats", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 2 and "reviewer init" in missing.output
    assert "Recent warnings and errors (0)" in CliRunner().invoke(main, ["diagnostics"]).output
