"""Diagnostics for a bug report: versions and recent errors, no secrets or content."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner

from reviewer.cli import main
from reviewer.logs import log_dir
from reviewer.services.diagnostics import report, scrub, wal_reset_fixed


def test_the_wal_reset_fix_is_known_by_version() -> None:
    assert not wal_reset_fixed((3, 40, 1))
    assert not wal_reset_fixed((3, 51, 2))
    assert wal_reset_fixed((3, 51, 3)) and wal_reset_fixed((3, 53, 0))
    assert wal_reset_fixed((3, 50, 7)) and not wal_reset_fixed((3, 50, 6))
    assert wal_reset_fixed((3, 44, 6)) and not wal_reset_fixed((3, 45, 0))


def test_report_names_versions_and_recent_errors_without_secrets() -> None:
    log = log_dir() / "reviewer.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(
        "2026-11-29 10:00:00,000 INFO reviewer.x: opened\n"
        "2026-11-29 10:00:01,000 ERROR reviewer.x: cannot reach "
        "postgresql://ana:s3cret@db.example/reviews from /home/ana/work\n"
    )
    text = report()
    assert f"SQLite {sqlite3.sqlite_version}" in text
    assert "SQLAlchemy" in text and "Recent warnings and errors" in text
    assert "cannot reach" in text and "opened" not in text
    assert "s3cret" not in text and "/home/ana" not in text


def test_scrub_masks_passwords_and_home_folders() -> None:
    assert scrub("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert scrub("/Users/bob/x") == "/Users/~/x"


def test_the_command_prints_the_report() -> None:
    result = CliRunner().invoke(main, ["diagnostics"])
    assert result.exit_code == 0 and "AgentOps Reviewer" in result.output
