"""LangSmith runs: a `/runs/batch` payload (`{post, patch}`), an export `{runs, feedback}`,
or one run per line; child runs nested or linked by `parent_run_id`. Each trace becomes a
session; feedback (and `feedback_stats`) becomes signals.

Provenance ids: `run_id` (the root run), `trace_id`, and `session_id` (the run's project)
where the run names it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from reviewer.domain.session import Agent, Metrics, Role, Session, Signals, Source, Span
from reviewer.ingest.judgements import judgement
from reviewer.ingest.messages import maybe_json, messages_to_steps
from reviewer.ingest.records import RecordError
from reviewer.ingest.transcript import Recorded, ToolRun, transcript
from reviewer.ingest.values import parse_time

NAME = "langsmith"
FEEDBACK_KEYS = {"user_feedback", "feedback", "thumbs", "user_score"}


def _is_run(value: Any) -> bool:
    return isinstance(value, dict) and "run_type" in value and "id" in value


def looks_like(value: Any) -> bool:
    if _is_run(value):
        return True
    if not isinstance(value, dict):
        return False
    runs = [r for k in ("post", "patch", "runs") for r in value.get(k) or []]
    return (
        bool(runs)
        and all(isinstance(r, dict) and _run_id(r) for r in runs)
        and any("run_type" in r or "dotted_order" in r for r in runs)
    )


def _run_id(run: dict[str, Any]) -> str | None:
    """A run's id; patches may carry only `dotted_order` ("<time>Z<id>[.<child>…]")."""
    if run.get("id"):
        return str(run["id"])
    order = run.get("dotted_order")
    if isinstance(order, str) and "Z" in order:
        return order.split(".")[-1].split("Z", 1)[1] or None
    return None


def _flatten(runs: list[dict[str, Any]], parent: Any = None) -> Iterator[dict[str, Any]]:
    for run in runs:
        run = dict(run)
        if parent is not None and not run.get("parent_run_id"):
            run["parent_run_id"] = parent
        children = maybe_json(run.pop("child_runs", None)) or []
        yield run
        if isinstance(children, list):
            yield from _flatten([c for c in children if isinstance(c, dict)], _run_id(run))


def _merged(value: dict[str, Any]) -> list[dict[str, Any]]:
    if _is_run(value):
        return list(_flatten([value]))
    by_id: dict[str, dict[str, Any]] = {}
    for key in ("post", "runs", "patch"):
        for run in _flatten([r for r in value.get(key) or [] if isinstance(r, dict)]):
            run_id = _run_id(run)
            if run_id is None:
                raise RecordError("a run has neither an id nor a dotted_order")
            run["id"] = run_id
            by_id.setdefault(run_id, {}).update({k: v for k, v in run.items() if v is not None})
    return list(by_id.values())


def _signals(runs: list[dict[str, Any]], feedback: list[Any]) -> Signals:
    signals = Signals()
    for run in runs:
        stats = maybe_json(run.get("feedback_stats")) or {}
        for key, stat in stats.items() if isinstance(stats, dict) else []:
            avg = stat.get("avg") if isinstance(stat, dict) else None
            if isinstance(avg, int | float):
                signals.judge_scores[key] = float(avg)
    for item in feedback:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            continue
        judged = judgement(item["key"], item.get("value") if item.get("value") is not None
                           else item.get("score"), item.get("comment"), "langsmith")  # fmt: skip
        if judged is not None and item["key"].lower() not in FEEDBACK_KEYS:
            signals.judgements.append(judged)
        score = item.get("score")
        if isinstance(score, bool):
            score = 1.0 if score else 0.0
        if not isinstance(score, int | float):
            continue
        if item["key"].lower() in FEEDBACK_KEYS:
            signals.user_feedback = 1.0 if score > 0 else -1.0
            signals.feedback_comment = item.get("comment")
        else:
            signals.judge_scores[item["key"]] = float(score)
    return signals


def _usage(run: dict[str, Any]) -> tuple[int, int]:
    out = maybe_json(run.get("outputs")) or {}
    usage = out.get("usage_metadata") or out.get("usage") or {} if isinstance(out, dict) else {}
    if not isinstance(usage, dict):
        return 0, 0
    tin = usage.get("input_tokens", usage.get("prompt_tokens", run.get("prompt_tokens")))
    tout = usage.get("output_tokens", usage.get("completion_tokens"))
    return int(tin or 0), int(tout or 0)


def _recorded(run: dict[str, Any]) -> Recorded:
    """The messages an LLM run (or the root run) recorded."""
    outputs = messages_to_steps(maybe_json(run.get("outputs")), "outputs")
    return Recorded(
        start=parse_time(run.get("start_time")),
        end=parse_time(run.get("end_time")),
        input=messages_to_steps(maybe_json(run.get("inputs")) or {}, "inputs"),
        output=[
            s.model_copy(update={"role": Role.ASSISTANT}) if s.role is Role.USER else s
            for s in outputs
        ],
    )


def _find(value: Any, key: str, depth: int = 4) -> Any:
    """The first value of ``key`` in nested dicts, a few levels down."""
    if isinstance(value, dict) and depth:
        if value.get(key):
            return value[key]
        for v in value.values():
            if (found := _find(v, key, depth - 1)) is not None:
                return found
    return None


def _tool_run(run: dict[str, Any]) -> ToolRun:
    """A tool run: its call (id from the recorded ToolMessage when there is one), result
    and error."""
    outputs = maybe_json(run.get("outputs"))
    result = outputs.get("output", outputs) if isinstance(outputs, dict) else outputs
    if isinstance(result, dict) and isinstance(_find(result, "content"), str):
        result = _find(result, "content")
    call_id = _find(outputs, "tool_call_id") or _find(maybe_json(run.get("inputs")), "tool_call_id")
    error = run.get("error")
    return ToolRun(
        start=parse_time(run.get("start_time")),
        end=parse_time(run.get("end_time")),
        name=str(run.get("name") or "tool"),
        call_id=str(call_id) if call_id else None,
        arguments=maybe_json(run.get("inputs")),
        result=result,
        error=str(error) if error else None,
    )


def sessions(value: Any, file: str, line: int) -> Iterator[Session]:
    runs = _merged(value)
    feedback = value.get("feedback") or [] if isinstance(value, dict) else []
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        traces[str(run.get("trace_id") or run["id"])].append(run)
    for trace_id, members in traces.items():
        ids = {str(r["id"]) for r in members}
        root = next((r for r in members if str(r.get("parent_run_id") or "") not in ids), None)
        if root is None:
            raise RecordError(f"trace {trace_id} has no root run")
        llm = sorted(
            (r for r in members if r.get("run_type") in ("llm", "chat")),
            key=lambda r: str(r.get("end_time") or r.get("start_time") or ""),
        )
        source = llm[-1] if llm else root
        inputs = maybe_json(source.get("inputs")) or {}
        steps = transcript(
            [_recorded(r) for r in llm] or [_recorded(root)],
            [_tool_run(r) for r in members if r.get("run_type") == "tool"],
        )
        meta = (maybe_json(source.get("extra")) or {}).get("metadata") or {}
        usage = [_usage(r) for r in llm]
        root_fb = [f for f in feedback if isinstance(f, dict) and str(f.get("run_id")) in ids]
        yield Session(
            id=trace_id,
            source=Source(
                format=NAME,
                file=file,
                position=str(line),
                ids={
                    "run_id": str(root["id"]),
                    "trace_id": trace_id,
                    **({"session_id": str(root["session_id"])} if root.get("session_id") else {}),
                },
            ),
            agent=Agent(
                name=root.get("name"),
                version=(maybe_json(root.get("extra")) or {})
                .get("metadata", {})
                .get("revision_id"),
            ),
            model=meta.get("ls_model_name")
            or (inputs.get("model") if isinstance(inputs, dict) else None),
            started_at=parse_time(root.get("start_time")),
            ended_at=parse_time(root.get("end_time")),
            tags=[t for t in maybe_json(root.get("tags")) or [] if isinstance(t, str)],
            steps=steps,
            spans=[
                Span(
                    id=str(r["id"]),
                    parent_id=str(r["parent_run_id"]) if r.get("parent_run_id") else None,
                    name=str(r.get("name") or r.get("run_type")),
                    kind=str(r.get("run_type") or "chain"),
                    start=parse_time(r.get("start_time")),
                    end=parse_time(r.get("end_time")),
                    status="error" if r.get("error") else "ok",
                )
                for r in members
            ],
            metrics=Metrics(
                input_tokens=sum(u[0] for u in usage) or None,
                output_tokens=sum(u[1] for u in usage) or None,
            ),
            signals=_signals(members, root_fb),
        )
