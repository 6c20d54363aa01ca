"""Small builders of domain objects for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from reviewer.domain.session import Agent, Role, Session, Signals, Step, ToolCall

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def make_session(
    key: str = "s-1",
    *,
    text: str = "Where is my order 42?",
    version: str = "1.0",
    tool_error: bool = False,
    feedback: float | None = None,
    **extra: Any,
) -> Session:
    steps = [
        Step(role=Role.SYSTEM, content="You are a support agent. Follow the refund policy."),
        Step(role=Role.USER, content=text, timestamp=T0),
        Step(
            role=Role.ASSISTANT,
            timestamp=T0 + timedelta(seconds=2),
            tool_calls=[ToolCall(id="call_1", name="lookup_order", arguments={"order": 42})],
        ),
        Step(
            role=Role.TOOL,
            tool_call_id="call_1",
            is_error=tool_error,
            content='{"error": "timeout"}' if tool_error else '{"status": "shipped"}',
        ),
        Step(
            role=Role.ASSISTANT,
            content="Your order 42 has shipped.",
            timestamp=T0 + timedelta(seconds=5),
        ),
    ]
    return Session(
        id=key,
        agent=Agent(name="support-agent", version=version),
        model="gpt-4o-mini",
        started_at=T0,
        steps=steps,
        signals=Signals(user_feedback=feedback),
        **extra,
    )
