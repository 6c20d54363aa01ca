"""The `reviewer` command. Importing this module must not load Qt."""

from __future__ import annotations

import click

from reviewer import __version__
from reviewer.cli.errors import log_uncaught_errors
from reviewer.cli.lazy import LazyGroup
from reviewer.logs import setup_logging

# Each command's module loads only when that command runs (`reviewer --help` reads the
# docstrings from source), so `reviewer --version` and `--help` start instantly.
COMMANDS = {
    "init": "reviewer.cli.cmd_workspace:init_cmd",
    "import": "reviewer.cli.cmd_import:import_cmd",
    "pull": "reviewer.cli.cmd_connect:pull_cmd",
    "push": "reviewer.cli.cmd_connect:push_cmd",
    "sample": "reviewer.cli.cmd_batches:sample_cmd",
    "batch": "reviewer.cli.cmd_batches:batch_cmd",
    "review": "reviewer.cli.cmd_review:review_cmd",
    "stats": "reviewer.cli.cmd_stats:stats_cmd",
    "report": "reviewer.cli.cmd_stats:report_cmd",
    "export": "reviewer.cli.cmd_export:export_cmd",
    "pack": "reviewer.cli.cmd_packs:pack_cmd",
    "merge": "reviewer.cli.cmd_packs:merge_cmd",
    "audit": "reviewer.cli.cmd_packs:audit_cmd",
    "backup": "reviewer.cli.cmd_backup:backup_cmd",
    "restore": "reviewer.cli.cmd_backup:restore_cmd",
    "check": "reviewer.cli.cmd_backup:check_cmd",
    "diagnostics": "reviewer.cli.cmd_backup:diagnostics_cmd",
    "demo": "reviewer.cli.cmd_workspace:demo_cmd",
    "generate": "reviewer.cli.cmd_workspace:generate_cmd",
}


@click.group(
    cls=LazyGroup,
    commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="AgentOps Reviewer")
def main() -> None:
    """AgentOps Reviewer: import, sample, assign, review, measure and export human reviews
    of recorded AI-agent sessions.

    WORKSPACE arguments are an SQLite file path or a postgresql:// URL.
    """
    setup_logging()


log_uncaught_errors(main)  # logged and counted by diagnostics, one line for the user

__all__ = ["main"]
