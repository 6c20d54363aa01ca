"""Langfuse trace exports: `{trace, observations}` (client download) or
`{observations, scores}` (server download), as one JSON document or one per line.

Provenance ids kept in `source.ids`: `trace_id`, `observation_id` (the last generation
that recorded messages) and `session_id` when the trace had one.

Every observation is kept in the span tree; what each type adds to the conversation is
:data:`OBSERVATION_MAPPING`. The generations' messages are merged into one conversation
(:mod:`reviewer.ingest.transcript`); a `TOOL` observation adds its call and result when no
generation carries that call, and a tool error when its level is `ERROR`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.domain.session import Agent, Metrics, Role, Session, Signals, Source, Span, Step
from reviewer.ingest.judgements import judgement
from reviewer.ingest.messages import as_text, maybe_json, maybe_literal, messages_to_steps
from reviewer.ingest.records import RecordError
from reviewer.ingest.transcript import Recorded, ToolRun, apply_tool_runs, transcript
from reviewer.ingest.values import parse_time

NAME = "langfuse"
FEEDBACK_NAMES = {"user_feedback", "feedback", "thumbs", "user-feedback"}
OBSERVATION_MAPPING = {
    "GENERATION": "its input and output messages",
    "TOOL": "a tool call with its arguments and a tool result (ERROR level: a tool error), "
    "when no generation carries that call",
    "SPAN": "a tool error when named like a tool call and at ERROR level",
    "AGENT": "its input and output messages when no generation recorded any",
    "CHAIN": "its input and output messages when no generation recorded any",
    "EVENT": "nothing (kept in the span tree)",
    "RETRIEVER": "nothing (kept in the span tree)",
    "EVALUATOR": "nothing (kept in the span tree)",
    "EMBEDDING": "nothing (kept in the span tree)",
    "GUARDRAIL": "nothing (kept in the span tree)",
}
"""What each Langfuse observation type adds to the conversation (the README's table)."""


def looks_like(value: Any) -> bool:
    if not isinstance(value, dict) or not isinstance(value.get("observations"), list):
        return False
    obs = value["observations"]
    return "trace" in value or (bool(obs) and isinstance(obs[0], dict) and "traceId" in obs[0])


def _clean(value: Any) -> Any:
    return None if value in ("None", "null", "") else value


def _number(value: Any) -> float | None:
    value = _clean(value)
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _span(o: dict[str, Any]) -> Span:
    level = _clean(o.get("level"))
    attrs = {
        k: as_text(_clean(o[k])) if isinstance(o[k], dict | list) else _clean(o[k])
        for k in ("model", "level", "statusMessage", "latency", "totalCost")
        if _clean(o.get(k)) is not None
    }
    return Span(
        id=str(o.get("id")),
        parent_id=_clean(o.get("parentObservationId")),
        name=str(o.get("name") or o.get("type") or "observation"),
        kind=str(o.get("type") or "span").lower(),
        start=parse_time(o.get("startTime")),
        end=parse_time(o.get("endTime")),
        status="error" if level == "ERROR" else "ok" if level else "unset",
        attributes=attrs,
    )


def _recorded(o: dict[str, Any], where: str) -> Recorded:
    output = messages_to_steps(_clean(o.get("output")), f"{where}.output")
    return Recorded(
        start=parse_time(o.get("startTime") or o.get("timestamp")),
        end=parse_time(o.get("endTime")),
        input=messages_to_steps(_clean(o.get("input")), f"{where}.input"),
        output=[
            s.model_copy(update={"role": Role.ASSISTANT}) if s.role is Role.USER else s
            for s in output
        ],
    )


def _tool_run(o: dict[str, Any]) -> ToolRun:
    found = maybe_json(_clean(o.get("metadata")))
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    inner = meta.get("attributes")
    attrs: dict[str, Any] = inner if isinstance(inner, dict) else {}
    call_id = next(
        (
            str(v)
            for d in (meta, attrs)
            for k in ("tool_call_id", "gen_ai.tool.call.id", "toolCallId", "call_id")
            if (v := d.get(k))
        ),
        None,
    )
    failed = _clean(o.get("level")) == "ERROR"
    return ToolRun(
        start=parse_time(o.get("startTime")),
        end=parse_time(o.get("endTime")),
        name=str(o.get("name") or "tool"),
        call_id=call_id,
        arguments=_clean(o.get("input")),
        result=_clean(o.get("output")),
        error=str(_clean(o.get("statusMessage")) or "") if failed else None,
    )


def _conversation(
    observations: list[dict[str, Any]], trace: dict[str, Any]
) -> tuple[list[Step], dict[str, Any] | None]:
    """The steps of a trace (see :data:`OBSERVATION_MAPPING`), and the last generation
    that recorded messages."""
    generations = [
        (i, o)
        for i, o in enumerate(observations)
        if o.get("type") == "GENERATION" and _clean(o.get("input")) is not None
    ]
    structured = [
        (i, o) for i, o in generations if isinstance(maybe_literal(o.get("input")), dict | list)
    ]
    # A generation whose input is one flat text ("user: …\nassistant: …") renders the
    # conversation others of the trace record as messages: those are read instead.
    recorded = [_recorded(o, f"$.observations[{i}]") for i, o in structured or generations]
    if not any(r.input or r.output for r in recorded):
        recorded = [
            _recorded(o, f"$.observations[{i}]")
            for i, o in enumerate(observations)
            if o.get("type") in ("AGENT", "CHAIN") and _clean(o.get("input")) is not None
        ][:1]
    steps = transcript(recorded, [_tool_run(o) for o in observations if o.get("type") == "TOOL"])
    if not steps:
        steps = transcript([_recorded(trace, "$.trace")])
    called = {c.name for s in steps for c in s.tool_calls}
    failed_spans = [
        _tool_run(o)
        for o in observations
        if o.get("type") == "SPAN" and o.get("name") in called and _clean(o.get("level")) == "ERROR"
    ]
    if failed_spans:
        steps = apply_tool_runs(steps, failed_spans)
    last = max(
        (o for _, o in generations),
        key=lambda o: str(o.get("endTime") or o.get("startTime") or ""),
        default=None,
    )
    return steps, last


def _signals(scores: list[Any]) -> Signals:
    signals = Signals()
    for score in scores:
        if not isinstance(score, dict) or not isinstance(score.get("name"), str):
            continue
        label = score.get("stringValue")  # categorical and boolean scores' value as text
        judged = judgement(score["name"], label or score.get("value"), score.get("comment"),
                           "langfuse")  # fmt: skip
        if judged is not None and score["name"].lower() not in FEEDBACK_NAMES:
            signals.judgements.append(judged)
        value = _number(score.get("value"))
        if value is None:
            continue
        name = score["name"]
        if name.lower() in FEEDBACK_NAMES:
            signals.user_feedback = 1.0 if value > 0 else -1.0
            signals.feedback_comment = _clean(score.get("comment"))
        else:
            signals.judge_scores[name] = value
    return signals


def sessions(doc: Any, file: str, line: int) -> Iterator[Session]:
    trace = doc.get("trace") if isinstance(doc.get("trace"), dict) else {}
    observations = [o for o in doc["observations"] if isinstance(o, dict)]
    trace_id = trace.get("id") or next((o.get("traceId") for o in observations), None)
    if not trace_id:
        raise RecordError("trace has no id")
    observations.sort(key=lambda o: (str(o.get("startTime") or ""), str(o.get("id"))))
    steps, last = _conversation(observations, trace)
    tokens_in = sum(_number(o.get("inputUsage")) or 0 for o in observations)
    tokens_out = sum(_number(o.get("outputUsage")) or 0 for o in observations)
    cost = sum(_number(o.get("totalCost")) or 0 for o in observations)
    started = parse_time(trace.get("timestamp")) or (
        parse_time(observations[0].get("startTime")) if observations else None
    )
    ends = [t for o in observations if (t := parse_time(o.get("endTime")))]
    ids = {"trace_id": str(trace_id)}
    if last is not None:
        ids["observation_id"] = str(last.get("id"))
    if _clean(trace.get("sessionId")):
        ids["session_id"] = str(trace["sessionId"])
    metadata = maybe_json(_clean(trace.get("metadata")))
    yield Session(
        id=str(trace_id),
        source=Source(format=NAME, file=file, position=str(line), ids=ids),
        agent=Agent(
            name=_clean(trace.get("name")),
            version=_clean(trace.get("version")) or _clean(trace.get("release")),
        ),
        model=_clean(last.get("model")) if last else None,
        started_at=started,
        ended_at=max(ends) if ends else None,
        tags=[t for t in trace.get("tags") or [] if isinstance(t, str)],
        metadata={"langfuse": metadata} if metadata else {},
        steps=steps,
        spans=[_span(o) for o in observations],
        metrics=Metrics(
            input_tokens=int(tokens_in) or None,
            output_tokens=int(tokens_out) or None,
            cost_usd=cost or None,
            latency_ms=(max(ends) - started).total_seconds() * 1000 if ends and started else None,
        ),
        signals=_signals(list(trace.get("scores") or []) + list(doc.get("scores") or [])),
    )
