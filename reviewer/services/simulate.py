"""Simulated reviews for the demo: realistic, reproducible, and marked as simulated.

The generator plants one failure (or none) in each session and records it in the session's
metadata (``planted_failure``, ``planted_failure_step``). Simulated reviewers notice a
planted failure with their own accuracy, now and then raise a false alarm, judge quality
with their own leniency, point at the failing step (sometimes one off), and write the answer
the agent should have given, rebuilt from the tool result the agent had. So agreement is
high but not perfect, failure rates differ by agent version as planted, and every view and
export has real-looking labels. Each reviewer works through their queue in order and stops
part of the way, leaving items to do.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from reviewer.domain.review import Review, ReviewRole, ReviewStatus, StepCorrection, StepLabel
from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Role, Session
from reviewer.store.batches import assignments, batch_id
from reviewer.store.reviews import save_review
from reviewer.store.sessions import load_session, session_ref
from reviewer.store.workspace import Workspace
from reviewer.synth.generator import SCENARIOS


@dataclass(frozen=True)
class Profile:
    """How one simulated reviewer behaves."""

    accuracy: float
    """Chance of noticing a planted failure."""
    leniency: float
    """Shifts quality scores up (positive) or down (negative)."""
    done: float
    """Share of their queue already reviewed."""
    pace: float
    """Median active seconds per session."""
    corrects: float
    """Chance of writing the corrected response when the answer was wrong."""


REVIEWERS: dict[str, Profile] = {
    "alice": Profile(accuracy=0.93, leniency=0.0, done=0.9, pace=70.0, corrects=0.95),
    "bob": Profile(accuracy=0.84, leniency=-0.4, done=0.8, pace=50.0, corrects=0.8),
    "carol": Profile(accuracy=0.76, leniency=0.3, done=0.7, pace=95.0, corrects=0.7),
}
GOLD = Profile(accuracy=1.0, leniency=0.0, done=1.0, pace=120.0, corrects=1.0)
"""The lead writing reference labels: sees every planted failure, corrects every answer."""
_ANYONE = Profile(accuracy=0.85, leniency=0.0, done=0.8, pace=70.0, corrects=0.8)

# Planted failure → (correctness, policy, policy concerned).
_JUDGEMENT: dict[str, tuple[str, str, str | None]] = {
    "answered_incorrectly": ("incorrect", "compliant", None),
    "hallucination": ("incorrect", "minor_violation", "every claim must come from a tool"),
    "misunderstood_query": ("incorrect", "compliant", None),
    "tool_failure": ("incorrect", "major_violation", "say so plainly when a tool fails"),
    "incomplete": ("partially_correct", "compliant", None),
    "looped": ("partially_correct", "compliant", None),
    "wrong_language": ("partially_correct", "minor_violation", "answer in the customer's language"),
    "should_have_escalated": ("correct", "major_violation", "escalate when asked for a human"),
    "unnecessary_escalation": ("partially_correct", "compliant", None),
}
_FALSE_ALARMS = ("incomplete", "looped", "other")


def _tool_values(scenario: str, result: Any) -> dict[str, Any] | None:
    """The template values the generator filled in, read back from the tool's result."""
    try:
        if scenario == "orders":
            eta = str(result["eta"])
            return {"n": result["order_id"], "status": result["status"], "day": int(eta[-2:])}
        if scenario == "travel":
            first = result["flights"][0]
            depart = str(first["depart"])
            return {
                "n": str(first["flight"])[2:],
                "day": int(depart[3:]),
                "price": first["price_eur"],
            }
        if scenario == "helpdesk":
            return {"n": str(result["articles"][0]["id"])[2:]}
        if scenario == "analytics":
            rows = dict(result["rows"])
            return {"n": rows["EU"], "price": rows["US"]}
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return None


def should_have_said(session: Session, failure: str) -> str | None:
    """The answer the agent should have given, or None when it cannot be told."""
    tools = [s for s in session.steps if s.role is Role.TOOL]
    if failure == "tool_failure":
        broken = next((s for s in reversed(tools) if s.is_error), None)
        name = (broken.name if broken else None) or "the system"
        return (
            f"I'm sorry, I couldn't get an answer from {name} just now (it timed out), so I"
            " can't confirm this yet. I'll try again and get back to you within the hour."
        )
    if failure == "should_have_escalated":
        return (
            "I'm sorry this has taken so long. I'm handing you over to a colleague now; they"
            " can see our whole conversation and will take it from here."
        )
    scenario = str(session.metadata.get("scenario", ""))
    template = SCENARIOS.get(scenario, {}).get("answer")
    ok = [s for s in tools if not s.is_error and s.content]
    if not isinstance(template, str) or not ok:
        return None
    try:
        values = _tool_values(scenario, json.loads(ok[-1].content))
    except ValueError:
        return None
    if values is None:
        return None
    try:
        return template.format(**{"n": "", "status": "", "day": 1, "price": 0, **values})
    except (KeyError, ValueError, IndexError):
        return None


def _label(
    session: Session, rng: random.Random, who: Profile, rubric: Rubric
) -> tuple[dict[str, Any], dict[str, str], int | None, bool]:
    """One reviewer's values, details and failure step; and whether they saw a failure."""
    planted = session.metadata.get("planted_failure")
    step = session.metadata.get("planted_failure_step")
    seen = planted if isinstance(planted, str) and rng.random() < who.accuracy else None
    false_alarm = seen is None and rng.random() < 0.3 * (1.0 - who.accuracy)
    if false_alarm:
        seen = rng.choice(_FALSE_ALARMS)
    if seen is None:
        quality = 5 if rng.random() < 0.55 + 0.3 * who.leniency else 4
        values: dict[str, Any] = {
            "quality": str(quality),
            "correctness": "correct",
            "policy": "compliant",
            "failure_categories": [],
        }
        return values, {}, None, False
    correctness, policy, concerned = _JUDGEMENT.get(seen, ("partially_correct", "compliant", None))
    if rng.random() > who.accuracy:  # a less careful reviewer lands one option off
        correctness = {"incorrect": "partially_correct", "correct": "partially_correct"}.get(
            correctness, "incorrect"
        )
    if policy == "major_violation" and rng.random() < 0.5 * (1 - who.accuracy):
        policy = "minor_violation"
    worst = 1 if correctness == "incorrect" or policy == "major_violation" else 2
    quality = rng.choices((worst, worst + 1, 3), weights=(3, 4, 2 + 4 * max(0.0, who.leniency)))[0]
    tags = [seen]
    if seen == "tool_failure" and rng.random() < 0.3:
        tags.append("hallucination")  # it claimed success after the tool failed
    elif rng.random() < 0.08:
        tags.append(rng.choice(("incomplete", "other")))
    taxonomy = rubric.taxonomy
    values = {
        "quality": str(min(5, quality)),
        "correctness": correctness,
        "policy": policy,
        "failure_categories": [t for t in dict.fromkeys(tags) if taxonomy and taxonomy.option(t)],
        "rationale": f"{seen.replace('_', ' ').capitalize()}"
        + (f" at step {step}." if isinstance(step, int) else "."),
    }
    details = {"policy": concerned} if concerned and policy != "compliant" else {}
    corrected = None
    if not false_alarm and rng.random() < who.corrects:
        corrected = should_have_said(session, seen)
    dim = rubric.corrected_response
    if corrected and dim is not None:
        values[dim.name] = corrected
    fail_step = step if isinstance(step, int) and not false_alarm else None
    if fail_step is not None and rng.random() < 0.5 * (1 - who.accuracy):
        fail_step = max(0, fail_step + rng.choice((-1, 1)))
    return values, details, fail_step, True


_STEP_ERRORS = {
    "hallucination": "hallucination",
    "answered_incorrectly": "hallucination",
    "tool_failure": "misread_result",
    "looped": "unnecessary",
    "unsafe": "policy",
    "should_have_escalated": "policy",
    "unnecessary_escalation": "unnecessary",
}


def _step_labels(
    session: Session, who: str, values: dict[str, Any], fail_step: int | None, rubric: Rubric
) -> dict[int, StepLabel]:
    """A verdict on every agent step: correct before the failure, wrong at it (the first agent
    step from the failure step on, with an error type), mostly correct after; the wrong step
    corrected when it is an answer the reviewer rewrote. Drawn from a generator of its own
    (reviewer and session), so the rest of the simulation stays as it was."""
    spec = rubric.steps
    if spec is None:
        return {}
    rng = random.Random(f"{who}:{session.id}")
    corrected = rubric.corrected_response
    rewrite = values.get(corrected.name) if corrected is not None else None
    tags = values.get("failure_categories") or []
    error = _STEP_ERRORS.get(tags[0], "other") if tags else "other"
    labels: dict[int, StepLabel] = {}
    wrong_given = False
    for i, step in enumerate(session.steps):
        if step.role is not Role.ASSISTANT:
            continue
        if fail_step is not None and i >= fail_step and not wrong_given:
            wrong_given = True
            fix = None
            if isinstance(rewrite, str) and not step.tool_calls:
                fix = StepCorrection(content=rewrite)
            labels[i] = StepLabel(
                verdict=spec.wrong,
                error_type=error if spec.error_type(error) is not None else None,
                corrected=fix,
            )
            continue
        after = fail_step is not None and wrong_given
        partly = spec.verdict("partly") is not None and rng.random() < (0.3 if after else 0.05)
        labels[i] = StepLabel(verdict="partly" if partly else spec.verdicts[0].value)
    return labels


def simulate_batch(ws: Workspace, batch: str, rubric: Rubric, *, seed: int) -> int:
    """Fill most of ``batch`` with simulated submitted reviews; return how many were made.

    Each reviewer submits the first part of their queue (their profile's ``done`` share),
    in queue order, at their own pace; the rest stays to do.
    """
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    made = 0
    with ws.write() as s:
        queues: dict[str, list[int]] = {}
        for item in assignments(s, batch_id(s, batch)):
            queues.setdefault(item.reviewer, []).append(item.session_id)
        for reviewer, queue in queues.items():
            who = REVIEWERS.get(reviewer, _ANYONE)
            done = min(len(queue) - 1, round(who.done * len(queue)))
            clock = now - timedelta(days=2, hours=rng.uniform(0, 6))
            for session_id in queue[:done]:
                session = load_session(s, session_id)
                ref = session_ref(s, session_id)
                assert ref is not None
                values, details, fail_step, failed = _label(session, rng, who, rubric)
                effort = (1.6 if failed else 1.0) * (1 + len(session.steps) / 40)
                active = round(min(1200.0, rng.lognormvariate(0, 0.45) * who.pace * effort), 1)
                started = clock + timedelta(seconds=rng.uniform(5, 40))
                submitted = started + timedelta(seconds=active * rng.uniform(1.0, 1.3))
                clock = submitted
                save_review(
                    s,
                    Review(
                        session_key=ref[0],
                        session_revision=ref[1],
                        batch=batch,
                        reviewer=reviewer,
                        rubric_name=rubric.name,
                        rubric_version=rubric.version,
                        values=values,
                        details=details,
                        failure_step=fail_step,
                        steps=_step_labels(session, reviewer, values, fail_step, rubric),
                        status=ReviewStatus.SUBMITTED,
                        started_at=started,
                        updated_at=submitted,
                        submitted_at=submitted,
                        active_seconds=active,
                        simulated=True,
                    ),
                    rubric,
                )
                made += 1
    return made


def gold_labels(
    ws: Workspace, session_ids: list[int], rubric: Rubric, *, lead: str = "lead", seed: int = 0
) -> None:
    """Reference labels by a lead (role gold), following the planted truth exactly."""
    rng = random.Random(seed)
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    with ws.write() as s:
        for sid in session_ids:
            session = load_session(s, sid)
            ref = session_ref(s, sid)
            assert ref is not None
            values, details, fail_step, _ = _label(session, rng, GOLD, rubric)
            active = round(rng.lognormvariate(0, 0.3) * GOLD.pace, 1)
            when += timedelta(seconds=active + rng.uniform(10, 60))
            save_review(
                s,
                Review(
                    session_key=ref[0],
                    session_revision=ref[1],
                    reviewer=lead,
                    role=ReviewRole.GOLD,
                    rubric_name=rubric.name,
                    rubric_version=rubric.version,
                    values=values,
                    details=details,
                    failure_step=fail_step,
                    status=ReviewStatus.SUBMITTED,
                    started_at=when - timedelta(seconds=active),
                    updated_at=when,
                    submitted_at=when,
                    active_seconds=active,
                    simulated=True,
                ),
                rubric,
            )
