"""`reviewer sample` and `reviewer batch`: draw, plan and show review batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.cli.common import fail, open_ws, progress_bar

if TYPE_CHECKING:
    from reviewer.domain.batch import Batch, Plan


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


DEFAULT_PRIORITY_WEIGHT = 4.0


def _priority(values: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for v in values:
        name, _, weight = v.partition("=")
        try:
            w = float(weight) if weight.strip() else DEFAULT_PRIORITY_WEIGHT
        except ValueError:
            w = -1.0
        if not 0 < w < float("inf"):
            fail(f"--priority {v}: the weight must be a positive number (e.g. negative_feedback=4)")
        out[name.strip()] = w
    return out


@click.command("sample")
@click.argument("workspace")
@click.option("--name", help="Name of the new batch (unique in the workspace).")
@click.option(
    "--size",
    type=click.IntRange(1),
    help="How many sessions to draw (with --plan: also show what each stratum would get).",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Random seed: same workspace, options and seed, same batch in the same order.",
)
@click.option(
    "--stratify-by",
    default=None,
    help="Comma-separated fields: agent, version, model, tool_error, escalated.",
)
@click.option(
    "--allocation",
    type=click.Choice(["proportional", "equal"]),
    default="proportional",
    show_default=True,
    help="How the sample is split over strata.",
)
@click.option(
    "--where",
    default=None,
    help='Which sessions to draw from: clauses joined by "and", e.g. "version=2.0 and'
    ' feedback<0 and steps=5..20 and judge.helpfulness<0.5" (grammar in the README).',
)
@click.option(
    "--priority",
    multiple=True,
    help="Over-sample by a signal: negative_feedback, escalated, low_judge or tool_error,"
    " optionally =WEIGHT (default 4: such a session is 5 times as likely). Repeatable;"
    " inclusion probabilities are stored for weighting back.",
)
@click.option(
    "--reviewers", default=None, help="Comma-separated reviewer names to assign the batch to."
)
@click.option(
    "--overlap",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of items given to two reviewers (for agreement).",
)
@click.option(
    "--gold",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Gold items: sessions with a lead's reference labels (role gold reviews), given to"
    " every reviewer at random positions, unmarked.",
)
@click.option(
    "--rubric",
    "rubric_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Rubric JSON file the batch pins; a rubric whose definition changed becomes a new"
    " version (default: the latest version of the default rubric).",
)
@click.option("--blind", is_flag=True, help="Hide agent name, version and model from reviewers.")
@click.option(
    "--include-reviewed",
    is_flag=True,
    help="Also draw sessions that already have a submitted review.",
)
@click.option(
    "--pairs",
    is_flag=True,
    help="Draw a pairwise batch: --size pairs of sessions sharing --pair-on, one per value"
    " of --compare, shown side by side (left/right at seeded random).",
)
@click.option(
    "--pair-on",
    default=None,
    help="With --pairs: the task key both sessions share: first_user_text, agent, version,"
    " model or metadata.NAME (e.g. metadata.task_id).",
)
@click.option(
    "--compare",
    default=None,
    help="With --pairs: FIELD=A,B, the two values compared (FIELD: version, model, agent or"
    " metadata.NAME), e.g. version=1.0,2.0.",
)
@click.option(
    "--plan",
    "plan_only",
    is_flag=True,
    help="Only print how many sessions each stratum needs (with --margin, --confidence).",
)
@click.option(
    "--margin",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Planner: wanted margin of error of a failure rate.",
)
@click.option(
    "--confidence",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Planner: confidence level.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the batch as one JSON object (schemas/batch.schema.json; with --plan:"
    " schemas/batch-plan.schema.json).",
)
def sample_cmd(
    workspace: str,
    name: str | None,
    size: int | None,
    seed: int,
    stratify_by: str | None,
    allocation: str,
    where: str | None,
    priority: tuple[str, ...],
    reviewers: str | None,
    overlap: float,
    gold: int,
    rubric_file: Path | None,
    blind: bool,
    include_reviewed: bool,
    pairs: bool,
    pair_on: str | None,
    compare: str | None,
    plan_only: bool,
    margin: float,
    confidence: float,
    as_json: bool,
) -> None:
    """Draw a review batch from WORKSPACE: a reproducible sample, assigned to reviewers.

    The same workspace, options and seed always give the same batch, items in the same
    order. With --plan, print the sample size each stratum needs instead (with --pairs:
    how many pairs exist).
    """  # fmt: skip
    from pydantic import ValidationError

    from reviewer.domain.batch import SamplingSpec
    from reviewer.domain.rubric import Rubric
    from reviewer.services.batches import BatchError, batch_as_json, create_batch, plan

    if pairs:
        from reviewer.services.pairwise import pair_spec

        if not pair_on or not compare:
            fail("--pairs needs --pair-on KEY and --compare FIELD=A,B")
        try:
            pair = pair_spec(pair_on, compare)
        except BatchError as exc:
            fail(str(exc))
    elif pair_on or compare:
        fail("--pair-on and --compare go with --pairs")
    try:
        spec = SamplingSpec(
            pairs=pair if pairs else None,
            size=size or 1,
            seed=seed,
            where=where,
            stratify_by=_csv(stratify_by),
            allocation=allocation,
            priority=_priority(priority),
            reviewers=_csv(reviewers),
            overlap=overlap,
            gold=gold,
            include_reviewed=include_reviewed,
            blind=blind,
        )
    except ValidationError as exc:
        fail(str(exc.errors()[0]["msg"]).removeprefix("Value error, "))
    ws = open_ws(workspace)
    try:
        if plan_only and pairs:
            from reviewer.services.pairwise import plan_pairs

            found = plan_pairs(ws, spec)
            if as_json:
                click.echo(found.model_dump_json())
                return
            click.echo(
                f"{found.pairs:,} pairs on {found.key}: {found.field}={found.a} has"
                f" {found.sessions_a:,} sessions over {found.keys_a:,} tasks,"
                f" {found.field}={found.b} has {found.sessions_b:,} over {found.keys_b:,}"
            )
            return
        if plan_only:
            result = plan(ws, spec, margin=margin, confidence=confidence, size=size)
            if as_json:
                click.echo(result.model_dump_json())
                return
            _print_plan(result)
            return
        if not name or size is None:
            fail("--name and --size are needed to draw a batch (or use --plan)")
        rubric = None
        if rubric_file is not None:
            try:
                rubric = Rubric.model_validate_json(rubric_file.read_bytes())
            except ValidationError as exc:
                first = exc.errors()[0]
                loc = ".".join(str(p) for p in first["loc"]) or "the file"
                fail(f"{rubric_file}: not a valid rubric: {loc}: {first['msg']}")
            except OSError as exc:
                fail(f"{rubric_file}: cannot read it: {exc.strerror or exc}")
        with progress_bar("sampling", quiet=as_json) as progress:
            if pairs:
                from reviewer.services.pairwise import create_pair_batch

                batch = create_pair_batch(ws, name, spec, rubric=rubric, progress=progress)
            else:
                batch = create_batch(ws, name, spec, rubric=rubric, progress=progress)
    except BatchError as exc:
        fail(str(exc))
    finally:
        ws.close()
    if as_json:
        click.echo(batch_as_json(batch))
        return
    _print_batch(batch)


def _print_plan(result: Plan) -> None:
    click.echo(
        f"to estimate a failure rate within ±{result.margin:.1%} at {result.confidence:.0%}"
        f" confidence (z = {result.z:.3f}, worst case p = 0.5):"
    )
    for p in result.strata:
        gets = f", a batch of {result.size:,} gives it {p.allocated:,}" if result.size else ""
        click.echo(f"  {p.stratum}: needs {p.needed:,} of {p.population:,}{gets}")
    click.echo(f"  every stratum: {result.total:,} of {result.population:,}")
    click.echo(f"  overall rate only: {result.overall:,} of {result.population:,}")


def _print_batch(batch: Batch, *, items: bool = False) -> None:
    load: dict[str, int] = {}
    for item in batch.items:
        for r in item.reviewers:
            load[r] = load.get(r, 0) + 1
    gold = sum(i.is_gold for i in batch.items)
    spec = batch.spec
    drawn = "pairs" if spec.pairs else "items"
    units = "tasks with a pair" if spec.pairs else "sessions"
    click.echo(
        f"batch {batch.name}: {len(batch.items) - gold} {drawn} drawn from"
        f" {batch.population:,} {units}, {gold} gold"
        f" (seed {spec.seed}, rubric {spec.rubric_name} v{spec.rubric_version}"
        f"{', blind' if spec.blind else ''})"
    )
    design = (
        f"stratified by {', '.join(spec.stratify_by)} ({spec.allocation})"
        if spec.stratify_by
        else "simple random"
    )
    if spec.priority:
        design += ", priority " + ", ".join(f"{k}={w:g}" for k, w in spec.priority.items())
    if spec.pairs is not None:
        p = spec.pairs
        design = f"pairs on {p.key}, {p.field}={p.a} against {p.field}={p.b}"
    click.echo(f"  design: {design}; filter: {spec.where or 'none'}")
    for stratum, c in batch.strata.items():
        click.echo(f"  {stratum}: {c['sample']:,} of {c['population']:,}")
    for r, n in sorted(load.items()):
        click.echo(f"  {r}: {n:,} items")
    if items and spec.pairs is not None:
        p = spec.pairs
        click.echo("\t".join(("position", "left", "right", "left is", "task", "reviewers")))
        for i in batch.items:
            assert i.pair is not None
            side = f"{p.field}={p.a if i.pair.left == 'A' else p.b}"
            who = ",".join(i.reviewers) or "-"
            click.echo(
                f"{i.position}\t{i.session_key}\t{i.pair.session_key}\t{side}"
                f"\t{i.pair.task_key or ''}\t{who}"
            )
        return
    if items:
        click.echo("\t".join(("position", "session", "stratum", "probability", "reviewers")))
        for i in batch.items:
            stratum = "(gold)" if i.is_gold else (i.stratum or "")
            who = ",".join(i.reviewers) or "-"
            click.echo(
                f"{i.position}\t{i.session_key}\t{stratum}\t{i.inclusion_probability:.6g}\t{who}"
            )


@click.group("batch")
def batch_cmd() -> None:
    """Show and list review batches."""


@batch_cmd.command("show")
@click.argument("workspace")
@click.argument("name")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the batch as JSON (schemas/batch.schema.json)."
)
def batch_show(workspace: str, name: str, as_json: bool) -> None:
    """Show batch NAME of WORKSPACE: its spec, strata and items."""  # fmt: skip
    from reviewer.services.batches import BatchError, batch_as_json, get_batch

    ws = open_ws(workspace)
    try:
        batch = get_batch(ws, name)
    except BatchError as exc:
        fail(str(exc))
    finally:
        ws.close()
    if as_json:
        click.echo(batch_as_json(batch))
    else:
        _print_batch(batch, items=True)


@batch_cmd.command("list")
@click.argument("workspace")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def batch_list(workspace: str, as_json: bool) -> None:
    """List the batches of WORKSPACE."""
    from reviewer.services.batches import list_batches

    ws = open_ws(workspace)
    try:
        rows = list_batches(ws)
    finally:
        ws.close()
    if as_json:
        click.echo(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    if not rows:
        click.echo("no batches yet (reviewer sample makes one)")
    for r in rows:
        who = ", ".join(r.reviewers) or "nobody"
        click.echo(
            f"{r.name}: {r.items:,} items from {r.population:,} sessions, for {who};"
            f" rubric {r.rubric_name} v{r.rubric_version}; {r.created_at:%Y-%m-%d %H:%M} UTC"
        )
