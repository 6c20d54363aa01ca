from __future__ import annotations

import pytest
from pydantic import ValidationError

from reviewer.domain.session import Role, Session, Step, ToolCall
from tests.helpers.factories import make_session


def test_derived_figures_follow_the_steps() -> None:
    s = make_session(tool_error=True)
    assert s.tool_call_count == 1
    assert s.has_tool_error is True
    assert s.final_answer == "Your order 42 has shipped."
    assert s.tool_name_for("call_1") == "lookup_order"


def test_only_assistant_steps_carry_tool_calls() -> None:
    with pytest.raises(ValidationError, match="only assistant steps"):
        Step(role=Role.USER, tool_calls=[ToolCall(id="c", name="x")])


def test_session_needs_an_id_and_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        Session(id="")
    with pytest.raises(ValidationError):
        Session.model_validate({"id": "a", "surprise": 1})


def test_tags_are_trimmed_and_deduplicated() -> None:
    assert make_session(tags=[" billing", "billing", "", "vip"]).tags == ["billing", "vip"]


def test_round_trips_through_json() -> None:
    s = make_session()
    assert Session.model_validate_json(s.model_dump_json()) == s
