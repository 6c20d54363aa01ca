"""`reviewer export`: labels to files for eval and fine-tuning pipelines and tracing systems."""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.cli.common import err, fail, open_ws, progress_bar
from reviewer.services.export_choices import DEFAULT_REQUIRE, FORMATS


def _require(values: tuple[str, ...]) -> dict[str, str]:
    if not values:
        return dict(DEFAULT_REQUIRE)
    out: dict[str, str] = {}
    for v in values:
        if v.strip().lower() == "none":
            return {}
        name, sep, value = v.partition("=")
        if not sep or not name.strip() or not value.strip():
            fail(f"--require {v}: expected DIMENSION=VALUE, e.g. correctness=correct")
        out[name.strip()] = value.strip()
    return out


_FORMAT_HELP = "; ".join(f"{f.name}: {f.summary}" for f in FORMATS.values())


@click.command("export")
@click.argument("workspace")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    required=True,
    help=f"What to write. {_FORMAT_HELP}.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write; its manifest goes beside it as FILE.manifest.json.",
)
@click.option("--batch", default=None, help="Only reviews made in this batch.")
@click.option(
    "--where",
    default=None,
    help="Only sessions matching this filter (the language of `reviewer sample --where`),"
    ' e.g. "version=2.0 and tag=refund".',
)
@click.option(
    "--level",
    type=click.Choice(["review", "session", "step", "pair"]),
    default="review",
    show_default=True,
    help="review: one row per review; session: one row per session with the consensus or"
    " adjudicated label, the reviewer count and each reviewer's values; step: one row per"
    " labelled step (verdict, error type, original, corrected); pair: one row per"
    " preference of a pairwise batch. Fine-tuning and eval formats are per session, the"
    " step-level ones per review, the pair ones per preference.",
)
@click.option(
    "--status",
    type=click.Choice(["submitted", "all"]),
    default="submitted",
    show_default=True,
    help="all: drafts, skipped and flagged reviews and copies kept aside by merges too.",
)
@click.option(
    "--redact-pii",
    is_flag=True,
    help="Mask e-mail addresses, phone numbers and card numbers (Luhn-checked) in every"
    " text written.",
)
@click.option(
    "--keep-formulas",
    is_flag=True,
    help="CSV: write cells starting with = + - @ tab CR LF as they are (by default they"
    " get a leading ' so a spreadsheet does not run them as formulas).",
)
@click.option(
    "--min-quality",
    type=float,
    default=4.0,
    show_default=True,
    help="Fine-tuning and eval formats: an uncorrected session is a good example when its"
    " quality is at least this...",
)
@click.option(
    "--require",
    "require",
    multiple=True,
    metavar="DIMENSION=VALUE",
    help="...and each of these dimensions has this value (repeatable; default"
    " correctness=correct and policy=compliant; `--require none` for no such condition).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def export_cmd(
    workspace: str,
    fmt: str,
    out: Path,
    batch: str | None,
    where: str | None,
    level: str,
    status: str,
    redact_pii: bool,
    keep_formulas: bool,
    min_quality: float,
    require: tuple[str, ...],
    as_json: bool,
) -> None:
    """Export the labels of WORKSPACE to a file: tables (csv, jsonl, parquet), fine-tuning
    and eval datasets, or feedback for the tracing system the sessions came from.

    A manifest beside the file records the options, rubric versions, row counts, what
    was left out and why, and the SHA-256 of the data; the same export run again writes
    the same bytes. The file appears only once it is complete.
    """
    from reviewer.services.export_choices import ExportOptions
    from reviewer.services.exporting import ExportError, export, manifest_path_for
    from reviewer.services.progress import Cancelled

    options = ExportOptions(
        format=fmt,
        level=level,
        status=status,
        batch=batch,
        where=where,
        redact_pii=redact_pii,
        neutralise_formulas=not keep_formulas,
        min_quality=min_quality,
        require=_require(require),
    )
    ws = open_ws(workspace)
    try:
        with progress_bar("exporting", quiet=as_json) as progress:
            manifest = export(ws, options, out, progress=progress)
    except ExportError as exc:
        fail(str(exc))
    except (KeyboardInterrupt, Cancelled):
        err.print(f"stopped: nothing was written to {out}")
        raise SystemExit(130) from None
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    finally:
        ws.close()
    if as_json:
        click.echo(manifest.model_dump_json(by_alias=True, indent=2))
        return
    unit = "rows" if FORMATS[fmt].kind == "table" else "lines"
    click.echo(
        f"wrote {manifest.counts.rows:,} {unit} to {out} from {manifest.counts.reviews:,}"
        f" reviews of {manifest.counts.sessions:,} sessions"
    )
    for reason, count in manifest.left_out.items():
        click.echo(f"  left out {count:,}: {reason.replace('_', ' ')}")
    for note in manifest.notes:
        click.echo(f"  note: {note}")
    click.echo(f"manifest: {manifest_path_for(out)}")
    if manifest.counts.reviews == 0:
        err.print("no reviews matched: the file holds no data")
