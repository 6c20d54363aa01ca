"""Labels back to the tracing system a session came from, in that system's own shape.

Each label becomes one feedback item per dimension: ordinal scales as numbers, choices as
categories, yes/no as booleans (1/0), and one item per chosen tag (failure tags under the
name ``failure_tags``) plus ``failure_step``; the rationale goes in each item's comment or
explanation, and the corrected response where the system keeps corrections. With
``--level review`` every reviewer's label is sent (author: the reviewer); with
``--level session`` the consensus or adjudicated one (author: ``agentops-reviewer``).
Ids of the items are derived from the review (or session) and dimension, so sending the
same export twice updates instead of duplicating where the system upserts.

A session is used only when it was imported from that system and carries the ids it needs
(``source.ids``); the others are counted in the manifest (``not_from_<system>``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from reviewer import __version__
from reviewer.export.columns import LabelPlan
from reviewer.export.formats import ExportFormat
from reviewer.export.options import ExportOptions

NAMESPACE = uuid.UUID("6f1c1f5e-3b8a-4c55-9a59-8d0f3e2a7c41")
"""Namespace of the deterministic (UUID 5) ids of feedback items."""
TOOL = "agentops-reviewer"
INSPECT_VALUES = {"correct": "C", "partially_correct": "P", "incorrect": "I"}
"""Inspect AI's CORRECT / PARTIAL / INCORRECT score values for the ``correctness`` label."""

Line = dict[str, Any]


@dataclass(frozen=True)
class Item:
    name: str
    key: str
    """Unique within one label (the name, or name/tag)."""
    data_type: str
    """NUMERIC, BOOLEAN or CATEGORICAL."""
    score: float | None
    label: str | None


@dataclass(frozen=True)
class Label:
    """One label to send: a review's (review level) or the session's (session level)."""

    seed: str
    author: str
    role: str
    items: list[Item]
    rationale: str | None
    corrected: str | None
    when: str | None
    since: str | None
    """A time that stays the same when the label changes (the review's start, else the
    session's): Langfuse updates a score sent again with "the same id and timestamp"."""
    values: dict[str, Any]
    meta: dict[str, Any]


def _items(plan: LabelPlan, row: dict[str, Any]) -> list[Item]:
    items: list[Item] = []
    for col in plan.labels:
        v = row.get(col.name)
        if v is None or col.text:
            continue
        name = col.dimension
        if col.kind in ("int", "float"):
            items.append(Item(name, name, "NUMERIC", float(v), None))
        elif col.kind == "bool":
            items.append(Item(name, name, "BOOLEAN", 1.0 if v else 0.0, "true" if v else "false"))
        elif col.kind == "list":
            items.extend(Item(name, f"{name}/{t}", "CATEGORICAL", None, t) for t in v)
        else:
            items.append(Item(name, name, "CATEGORICAL", None, str(v)))
    for tag in row.get("failure_tags") or []:
        items.append(Item("failure_tags", f"failure_tags/{tag}", "CATEGORICAL", None, tag))
    step = row.get("failure_step")
    if step is not None:
        items.append(Item("failure_step", "failure_step", "NUMERIC", float(step), None))
    return items


def _values(plan: LabelPlan, row: dict[str, Any]) -> dict[str, Any]:
    keep = [c.name for c in plan.labels] + ["detail_" + d for d in plan.details]
    return {k: row[k] for k in (*keep, "failure_tags", "failure_step") if row.get(k) is not None}


def labels_of(
    plan: LabelPlan, level: str, session: dict[str, Any], reviews: list[dict[str, Any]]
) -> list[Label]:
    if level == "session":
        if session["label_source"] == "none":
            return []
        seed = f"{session['session_id']}@{session['session_revision']}"
        return [
            Label(
                seed=f"session:{seed}",
                author=TOOL,
                role=session["label_source"],
                items=_items(plan, session),
                rationale=session["rationale"],
                corrected=session["corrected_response"],
                when=session["last_submitted_at"],
                since=session["session_started_at"] or session["last_submitted_at"],
                values=_values(plan, session),
                meta={
                    "label_source": session["label_source"],
                    "reviewer_count": session["reviewer_count"],
                    "rubric": f"{session['rubric_name']}@{session['rubric_version']}",
                },
            )
        ]
    return [
        Label(
            seed=f"review:{r['review_uid']}",
            author=r["reviewer"],
            role=r["role"],
            items=_items(plan, r),
            rationale=r["rationale"],
            corrected=r["corrected_response"],
            when=r["submitted_at"] or r["updated_at"],
            since=r["started_at"] or r["session_started_at"] or r["updated_at"],
            values=_values(plan, r),
            meta={
                "review_uid": r["review_uid"],
                "reviewer": r["reviewer"],
                "role": r["role"],
                "status": r["status"],
                "rubric": f"{r['rubric_name']}@{r['rubric_version']}",
            },
        )
        for r in reviews
    ]


def _id(system: str, label: Label, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{system}:{label.seed}:{key}"))


def _session_meta(session: dict[str, Any]) -> dict[str, Any]:
    return {
        "tool": TOOL,
        "session_id": session["session_id"],
        "session_revision": session["session_revision"],
    }


# --- one function per system: (ids, content, session row, label) -> lines -----------------


def _langfuse(ids: dict[str, str], content: Any, s: dict[str, Any], lab: Label) -> list[Line]:
    meta = {**_session_meta(s), **lab.meta}
    out: list[Line] = []
    for it in lab.items:
        value: Any = it.label if it.data_type == "CATEGORICAL" else it.score
        line: Line = {
            "id": _id("langfuse", lab, it.key),
            "traceId": ids["trace_id"],
            "name": it.name,
            "value": value,
            "dataType": it.data_type,
        }
        if lab.since:
            line["timestamp"] = lab.since
        if lab.rationale:
            line["comment"] = lab.rationale
        line["metadata"] = meta
        out.append(line)
    if lab.corrected:
        # Langfuse keeps one corrected output per observation: one id per (trace,
        # observation), so the builder keeps the latest reviewer's and a re-send updates it.
        where = f"{ids['trace_id']}/{ids.get('observation_id') or ''}"
        line = {
            "id": str(uuid.uuid5(NAMESPACE, f"langfuse:correction:{where}")),
            "traceId": ids["trace_id"],
        }
        if ids.get("observation_id"):
            line["observationId"] = ids["observation_id"]
        line.update({"name": "output", "value": lab.corrected, "dataType": "CORRECTION"})
        started = s.get("session_started_at") or lab.since
        if started:
            line["timestamp"] = started
        if lab.rationale:
            line["comment"] = lab.rationale
        line["metadata"] = {**meta, "corrected_at": lab.when}
        out.append(line)
    return out


def _one_correction(lines: list[Line]) -> list[Line]:
    """Langfuse: of several ``output`` corrections of one observation, the latest only."""
    latest: dict[str, Line] = {}
    for line in lines:
        if line.get("dataType") == "CORRECTION":
            seen = latest.get(line["id"])
            when = str(line["metadata"].get("corrected_at") or "")
            if seen is None or when >= str(seen["metadata"].get("corrected_at") or ""):
                latest[line["id"]] = line
    return [
        line
        for line in lines
        if line.get("dataType") != "CORRECTION" or latest.get(line["id"]) is line
    ]


def _langsmith(ids: dict[str, str], content: Any, s: dict[str, Any], lab: Label) -> list[Line]:
    info = {**_session_meta(s), **lab.meta}
    started = s.get("session_started_at") or None

    def line(key: str, name: str, score: float | None, value: str | None) -> Line:
        return {
            "run_id": ids["run_id"],
            "trace_id": ids.get("trace_id") or None,
            "key": name,
            "score": score,
            "value": value,
            "comment": lab.rationale,
            "correction": {"output": lab.corrected} if key == "corrected_response" else None,
            "feedback_id": _id("langsmith", lab, key),
            "feedback_source_type": "api",
            "source_info": info,
            # the project and the run's start: the client warns without them, and
            # deployments that shard feedback by project refuse it
            "session_id": ids.get("session_id") or None,
            "start_time": started,
        }

    out = [line(it.key, it.name, it.score, it.label) for it in lab.items]
    if lab.corrected:
        out.append(line("corrected_response", "corrected_response", None, None))
    return out


def _phoenix(ids: dict[str, str], content: Any, s: dict[str, Any], lab: Label) -> list[Line]:
    meta = {**_session_meta(s), **lab.meta}
    out: list[Line] = []
    for it in lab.items:
        out.append(
            {
                "span_id": ids["span_id"],
                "name": it.name,
                "annotator_kind": "HUMAN",
                "result": {"label": it.label, "score": it.score, "explanation": lab.rationale},
                "metadata": meta,
                "identifier": f"{TOOL}:{lab.author}:{it.key}",
            }
        )
    if lab.corrected:
        out.append(
            {
                "span_id": ids["span_id"],
                "name": "corrected_response",
                "annotator_kind": "HUMAN",
                "result": {"label": None, "score": None, "explanation": lab.corrected},
                "metadata": meta,
                "identifier": f"{TOOL}:{lab.author}:corrected_response",
            }
        )
    return out


def _mlflow(ids: dict[str, str], content: Any, s: dict[str, Any], lab: Label) -> list[Line]:
    # MLflow keeps assessment metadata as strings; its SQL store keeps the id it is given
    meta = {k: str(v) for k, v in {**_session_meta(s), **lab.meta}.items() if v is not None}

    def line(key: str, name: str, kind: str, value: Any) -> Line:
        out: Line = {
            "assessment_id": "a-" + uuid.UUID(_id("mlflow", lab, key)).hex,
            "assessment_name": name,
            "trace_id": ids["trace_id"],
            "source": {"source_type": "HUMAN", "source_id": lab.author},
            kind: {"value": value},
        }
        if lab.rationale:
            out["rationale"] = lab.rationale
        out["metadata"] = meta
        return out

    out = []
    for it in lab.items:
        value: Any = it.label
        if it.data_type == "NUMERIC":
            value = it.score
        elif it.data_type == "BOOLEAN":
            value = it.score == 1.0
        out.append(line(it.key, it.name, "feedback", value))
    if lab.corrected:
        # the name MLflow's own correctness judges read the expected answer from
        out.append(line("corrected_response", "expected_response", "expectation", lab.corrected))
    return out


def _nanos(when: str | None) -> str:
    if when is None:
        return "0"
    t = datetime.fromisoformat(when)
    seconds = int(t.timestamp())
    return str(seconds * 1_000_000_000 + t.microsecond * 1000)


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _response_id(content: Any, span_id: str) -> str | None:
    for span in content.get("spans") or []:
        if isinstance(span, dict) and span.get("id") == span_id:
            rid = (span.get("attributes") or {}).get("gen_ai.response.id")
            return rid if isinstance(rid, str) else None
    return None


def _otel(ids: dict[str, str], content: Any, s: dict[str, Any], lab: Label) -> list[Line]:
    response_id = _response_id(content, ids["span_id"])
    records = []
    for it in lab.items:
        attrs = [_attr("gen_ai.evaluation.name", it.name)]
        if it.score is not None:
            attrs.append(_attr("gen_ai.evaluation.score.value", float(it.score)))
        if it.label is not None:
            attrs.append(_attr("gen_ai.evaluation.score.label", it.label))
        if lab.rationale:
            attrs.append(_attr("gen_ai.evaluation.explanation", lab.rationale))
        if response_id:
            attrs.append(_attr("gen_ai.response.id", response_id))
        attrs.append(_attr("agentops_reviewer.author", lab.author))
        attrs.append(_attr("agentops_reviewer.item_id", _id("otel", lab, it.key)))
        records.append(
            {
                "timeUnixNano": _nanos(lab.when),
                "eventName": "gen_ai.evaluation.result",
                "traceId": ids["trace_id"],
                "spanId": ids["span_id"],
                "attributes": attrs,
            }
        )
    if not records:
        return []
    return [
        {
            "resourceLogs": [
                {
                    "resource": {"attributes": [_attr("service.name", TOOL)]},
                    "scopeLogs": [
                        {"scope": {"name": TOOL, "version": __version__}, "logRecords": records}
                    ],
                }
            ]
        }
    ]


def _sample_id(raw: str) -> int | str:
    """Inspect sample ids are ints or strings; the importer kept their text."""
    return int(raw) if raw.isdigit() and str(int(raw)) == raw else raw


def _inspect(ids: dict[str, str], content: Any, s: dict[str, Any], lab: Label) -> list[Line]:
    value = INSPECT_VALUES.get(str(lab.values.get("label_correctness")))
    if value is None:
        return []
    if lab.seed.startswith("review:"):
        # each reviewer's own score (``edit_score`` creates it): one reviewer's edit must
        # not overwrite another's on a shared scorer
        scorers = [f"{TOOL}:{lab.author}"]
    else:
        # the decided label relabels every scorer, or creates ours when none scored
        scorers = sorted((content.get("signals") or {}).get("judge_scores") or {}) or [TOOL]
    return [
        {
            "eval_id": ids.get("eval_id") or None,
            "run_id": ids.get("run_id") or None,
            "task": ids.get("task") or None,
            "sample_id": _sample_id(ids["sample_id"]),
            "epoch": int(ids.get("epoch") or 1),
            "score_name": name,
            "edit": {
                "value": value,
                "explanation": lab.rationale,
                "provenance": {
                    "author": lab.author,
                    "reason": f"human review in {TOOL}",
                    # a draft (--status all) has no submission time: Inspect stamps the edit
                    **({"timestamp": lab.when} if lab.when else {}),
                    "metadata": {**_session_meta(s), **lab.meta, "labels": lab.values},
                },
            },
        }
        for name in scorers
    ]


_SYSTEMS: dict[str, Callable[[dict[str, str], Any, dict[str, Any], Label], list[Line]]] = {
    "langfuse-scores": _langfuse,
    "langsmith-feedback": _langsmith,
    "phoenix-annotations": _phoenix,
    "mlflow-assessments": _mlflow,
    "otel-evaluations": _otel,
    "inspect-scores": _inspect,
}


def feedback_builder(fmt: ExportFormat, options: ExportOptions, plan: LabelPlan) -> Any:
    make = _SYSTEMS[fmt.name]
    system = fmt.source or fmt.name

    def build(content: bytes, session: dict[str, Any], reviews: list[dict[str, Any]]) -> Any:
        data = orjson.loads(content)
        source = data.get("source") or {}
        if source.get("format") != system:
            return f"not_from_{system.replace('-', '_')}"
        ids = {k: str(v) for k, v in (source.get("ids") or {}).items() if v not in (None, "")}
        missing = [k for k in fmt.required_ids if k not in ids]
        if missing:
            return f"no_{missing[0]}"
        lines = [
            line
            for lab in labels_of(plan, options.level, session, reviews)
            for line in make(ids, data, session, lab)
        ]
        if fmt.name == "langfuse-scores":
            lines = _one_correction(lines)
        return lines or "nothing_to_send"

    return build
