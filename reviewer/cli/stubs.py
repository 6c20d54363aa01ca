"""Commands whose capability has not landed yet: they say so and exit with status 2."""

from __future__ import annotations

import click

from reviewer.cli.common import not_available

_PASSTHROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}


def _stub(name: str, summary: str) -> click.Command:
    @click.command(
        name,
        help=f"{summary}\n\n(Not available yet in this version.)",
        context_settings=_PASSTHROUGH,
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> None:
        not_available(name)

    return command


export_cmd = _stub("export", "Export labels to CSV, JSONL, Parquet, fine-tuning and eval files.")
