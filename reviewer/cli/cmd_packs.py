"""`reviewer pack …`, `reviewer merge` and `reviewer audit`: offline review packs, merging
their results back, and the audit trail."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import click

from reviewer.cli.common import err, fail, open_ws, progress_bar
from reviewer.services.workspaces import WorkspaceError

_OUT = click.Path(dir_okay=False, writable=True, path_type=Path)
_IN = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("pack")
def pack_cmd() -> None:
    """Offline review packs: one file with a reviewer's items, reviewed with no access to
    the workspace, whose results are merged back with `reviewer merge`."""


@pack_cmd.command("create")
@click.argument("workspace")
@click.option("--batch", required=True, help="The batch whose items go into the pack.")
@click.option("--reviewer", "reviewer_name", required=True, help="Whose assigned items to pack.")
@click.option("--out", type=_OUT, required=True, help="Pack file to write (.reviewpack).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def pack_create_cmd(
    workspace: str, batch: str, reviewer_name: str, out: Path, as_json: bool
) -> None:
    """Write REVIEWER's items of a batch in WORKSPACE to one self-contained pack file:
    sessions in full, the rubric version, the assignment, their reviews so far, signed (HMAC)."""
    from reviewer.services.packs import PackError, create_pack

    ws = open_ws(workspace)
    try:
        with progress_bar("packing", quiet=as_json) as progress:
            pack = create_pack(ws, batch, reviewer_name, out, progress=progress)
    except (PackError, WorkspaceError) as exc:
        fail(str(exc))
    finally:
        ws.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "pack_id": pack.pack_id,
                    "path": str(pack.path),
                    "reviewer": pack.reviewer,
                    "batch": pack.batch,
                    "items": pack.items,
                    "reviews": pack.reviews,
                    "preferences": pack.preferences,
                    "checksum": pack.checksum,
                }
            )
        )
        return
    click.echo(
        f"wrote pack {pack.pack_id[:8]} for {pack.reviewer} ({pack.items} items of "
        f"{pack.batch!r}, {pack.reviews} reviews"
        + (f" and {pack.preferences} preferences" if pack.preferences else "")
        + f" so far) to {pack.path}"
    )


@pack_cmd.command("open")
@click.argument("pack", type=_IN)
@click.option("--no-open", is_flag=True, help="Only prepare it and print its workspace path.")
def pack_open_cmd(pack: Path, no_open: bool) -> None:
    """Open a PACK file for reviewing offline, in the review workbench.

    The pack becomes a private workspace in your user data folder (opening it again goes on
    where you left off). When done, write the results with `reviewer pack results`.
    """
    from reviewer.services.packs import PackError, open_pack, pack_info

    try:
        ws = open_pack(pack)
    except (PackError, WorkspaceError) as exc:
        fail(str(exc))  # fail() prints it as plain text: names from the file stay inert
    info = pack_info(ws)
    path = ws.path
    ws.close()
    assert info is not None and path is not None
    if no_open:
        click.echo(str(path))
        return
    err.print(f"pack for {info.reviewer}, batch {info.batch!r}: {path}")
    from reviewer.ui.app import run_app

    raise SystemExit(run_app(str(path), batch=info.batch, reviewer=info.reviewer))


@pack_cmd.command("results")
@click.argument("pack", type=_IN)
@click.option("--out", type=_OUT, required=True, help="Results file to write (.reviewresults).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def pack_results_cmd(pack: Path, out: Path, as_json: bool) -> None:
    """Write the results of a PACK reviewed offline (the pack file, or the workspace it was
    opened as) to send back: reviews with their history and the offline audit trail."""
    from reviewer.services.packs import PackError, write_results

    with pack.open("rb") as f:
        magic = f.read(16)
    try:
        if zipfile.is_zipfile(pack) or magic.startswith(b"PK"):
            summary = write_results(pack, out)
        elif not magic.startswith(b"SQLite format 3"):
            fail(f"{pack} is neither a review pack nor the workspace a pack was opened as")
        else:
            ws = open_ws(str(pack))
            try:
                summary = write_results(ws, out)
            finally:
                ws.close()
    except (PackError, WorkspaceError) as exc:
        fail(str(exc))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "path": str(summary.path),
                    "pack_id": summary.pack_id,
                    "reviewer": summary.reviewer,
                    "reviews": summary.reviews,
                    "preferences": summary.preferences,
                    "submitted": summary.submitted,
                    "audit_entries": summary.audit_entries,
                    "checksum": summary.checksum,
                }
            )
        )
        return
    click.echo(
        f"wrote {summary.reviews} reviews"
        + (f", {summary.preferences} preferences" if summary.preferences else "")
        + f" ({summary.submitted} submitted) by "
        f"{summary.reviewer} to {summary.path}"
    )


@click.command("merge")
@click.argument("workspace")
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--actor", default=None, help="Who merges, for the audit trail (default: you).")
@click.option("--json", "as_json", is_flag=True, help="Print the merge report as JSON.")
def merge_cmd(workspace: str, results: tuple[Path, ...], actor: str | None, as_json: bool) -> None:
    """Merge RESULTS files of review packs into WORKSPACE.

    Merging a file twice changes nothing; files merge the same in any order; a review changed
    both here and in the pack is kept in both versions, flagged for a lead. A file from
    another workspace, one that fails its checksum or is not signed with its pack's secret,
    or one holding anything but the pack's reviewer's reviews of the pack's items under its
    rubric, is refused (each refused review listed) and nothing is merged.
    Nothing is ever deleted; an SQLite workspace is backed up first.
    """
    from rich.text import Text

    from reviewer.services.merging import MergeError, merge_results

    ws = open_ws(workspace)
    try:
        report = merge_results(ws, list(results), actor=actor)
    except MergeError as exc:
        for refusal in exc.refused:  # every one, the error line names the first few
            err.print(Text(f"refused: {refusal.line()}"), soft_wrap=True)
        fail(str(exc))
    except WorkspaceError as exc:
        fail(str(exc))
    finally:
        ws.close()
    if as_json:
        click.echo(report.model_dump_json())
        return
    for f in report.files:
        head = f"{Path(f.path).name} ({f.reviewer}, pack {f.pack_id[:8]})"
        if f.already_merged:
            click.echo(f"{head}: merged before, nothing changed")
            continue
        click.echo(
            f"{head}: added {f.added}, updated {f.updated}, skipped {f.skipped}, "
            f"flagged {f.flagged}"
        )
        for c in f.conflicts:
            click.echo(
                f"  conflict: {c.session_key} ({c.reason}); kept {c.kept_uid[:8]} "
                f"beside {c.review_uid[:8]}"
            )
    click.echo(
        f"total: added {report.added}, updated {report.updated}, skipped {report.skipped}, "
        f"flagged {report.flagged}"
    )
    if report.backup:
        err.print(f"backup taken first: {report.backup}")


@click.command("audit")
@click.argument("workspace")
@click.option("--session", "session_key", default=None, help="Only this session's entries.")
@click.option("--review", "review_uid", default=None, help="Only this review's entries.")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as one JSON array.")
def audit_cmd(
    workspace: str, session_key: str | None, review_uid: str | None, as_json: bool
) -> None:
    """Export the audit trail of WORKSPACE: every change to a review (create, edit, submit,
    skip, flag, adjudicate, merge, conflict) with who, when, before and after."""
    from reviewer.services.audit import audit_trail, describe_change, session_known

    ws = open_ws(workspace)
    try:
        if session_key is not None and not session_known(ws, session_key):
            fail(f"no session {session_key!r} in {ws.display_name}")
        records = audit_trail(ws, session_key=session_key, review_uid=review_uid)
    except WorkspaceError as exc:
        fail(str(exc))
    finally:
        ws.close()
    if as_json:
        click.echo("[" + ",".join(r.model_dump_json() for r in records) + "]")
        return
    for r in records:
        click.echo(
            f"{r.at:%Y-%m-%d %H:%M:%S}  {r.actor:<12} {r.action:<10} "
            f"{r.session_key or '-'}  {(r.review_uid or '-')[:8]}  {describe_change(r)}"
        )
    if not records:
        err.print("no audit entries")
