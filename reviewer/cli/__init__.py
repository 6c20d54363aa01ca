"""The `reviewer` command. Importing this module must not load Qt."""

from __future__ import annotations

import click

from reviewer import __version__
from reviewer.cli.cmd_backup import backup_cmd, check_cmd, diagnostics_cmd, restore_cmd
from reviewer.cli.cmd_batches import batch_cmd, sample_cmd
from reviewer.cli.cmd_connect import pull_cmd, push_cmd
from reviewer.cli.cmd_export import export_cmd
from reviewer.cli.cmd_import import import_cmd
from reviewer.cli.cmd_packs import audit_cmd, merge_cmd, pack_cmd
from reviewer.cli.cmd_review import review_cmd
from reviewer.cli.cmd_stats import report_cmd, stats_cmd
from reviewer.cli.cmd_workspace import demo_cmd, generate_cmd, init_cmd
from reviewer.logs import setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="AgentOps Reviewer")
def main() -> None:
    """AgentOps Reviewer: import, sample, assign, review, measure and export human reviews
    of recorded AI-agent sessions.

    WORKSPACE arguments are an SQLite file path or a postgresql:// URL.
    """
    setup_logging()


for _command in (
    init_cmd,
    import_cmd,
    pull_cmd,
    push_cmd,
    sample_cmd,
    batch_cmd,
    review_cmd,
    stats_cmd,
    report_cmd,
    export_cmd,
    pack_cmd,
    merge_cmd,
    audit_cmd,
    backup_cmd,
    restore_cmd,
    check_cmd,
    diagnostics_cmd,
    demo_cmd,
    generate_cmd,
):
    main.add_command(_command)

__all__ = ["main"]
