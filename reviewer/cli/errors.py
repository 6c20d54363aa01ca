"""Uncaught errors in a `reviewer` command: logged with their traceback (so diagnostics
count them) and told in one line, instead of a bare traceback and an empty log."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from reviewer.logs import log_dir
from reviewer.secrets import mask_secrets

log = logging.getLogger("reviewer.cli")

EXIT_CRASH = 1

_PASS_THROUGH = (click.exceptions.ClickException, click.exceptions.Exit, click.Abort)
"""What click itself handles (usage errors, --help, Ctrl-C as Abort); SystemExit and
KeyboardInterrupt are not Exceptions and pass anyway."""


def log_uncaught_errors(group: click.Group) -> click.Group:
    """Wrap ``group``'s dispatch so that an exception escaping any of its commands is
    logged (ERROR, with traceback) and printed as one line, exit status 1."""
    dispatch = group.invoke

    def invoke(ctx: click.Context) -> Any:
        try:
            return dispatch(ctx)
        except _PASS_THROUGH:
            raise
        except Exception as exc:
            command = f"reviewer {ctx.invoked_subcommand or ''}".strip()
            what = mask_secrets(f"{type(exc).__name__}: {exc}".splitlines()[0])[:300]
            log.exception("uncaught error in `%s`: %s", command, what)
            click.echo(
                f"error: unexpected problem in `{command}` ({what}); the details are in "
                f"{log_dir() / 'reviewer.log'} (`reviewer diagnostics` for a bug report)",
                err=True,
            )
            sys.exit(EXIT_CRASH)

    group.invoke = invoke  # type: ignore[method-assign]
    return group
