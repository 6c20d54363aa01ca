"""Judgements become suggestions for the rubric dimensions they match."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reviewer.domain.rubric import Rubric
from reviewer.domain.session import Judgement, Signals
from reviewer.domain.suggestions import offered_value, outcomes, suggest, take_offered


def test_values_are_offered_only_when_the_dimension_accepts_them(rubric: Rubric) -> None:
    quality = rubric.dimension("quality")
    correctness = rubric.dimension("correctness")
    assert quality is not None and correctness is not None
    assert offered_value(quality, 5.0) == "5"
    assert offered_value(quality, "4") == "4"
    assert offered_value(quality, 4.5) is None, "not on the scale: shown, not offered"
    assert offered_value(quality, True) is None
    assert offered_value(correctness, "Correct") == "correct"
    assert offered_value(correctness, "maybe") is None


def test_a_rubric_maps_other_judge_names_to_a_dimension(rubric: Rubric) -> None:
    mapped = rubric.model_copy(
        update={
            "dimensions": [
                d.model_copy(update={"judge": ["helpfulness"]}) if d.name == "quality" else d
                for d in rubric.dimensions
            ]
        }
    )
    judged = [
        Judgement(name="helpfulness", value=4, explanation="mostly right", source="gpt-judge"),
        Judgement(name="policy", value="compliant"),
        Judgement(name="unrelated", value=0.3),
    ]
    shown = suggest(mapped, judged)
    assert set(shown) == {"quality", "policy"}
    assert shown["quality"].offered == "4" and shown["quality"].judge == "helpfulness (gpt-judge)"
    assert suggest(rubric, judged).keys() == {"policy"}, "without the mapping only by name"


def test_enter_takes_offers_for_unset_dimensions_and_outcomes_say_what_became_of_them(
    rubric: Rubric,
) -> None:
    shown = suggest(
        rubric,
        [
            Judgement(name="quality", value=5),
            Judgement(name="correctness", value="correct"),
            Judgement(name="policy", value="compliant"),
        ],
    )
    values = take_offered({"quality": "3"}, shown)  # the reviewer's own 3 stays
    assert values == {"quality": "3", "correctness": "correct", "policy": "compliant"}
    values["failure_categories"] = ["tool_failure"]
    record = outcomes(rubric, values, shown)
    assert record["quality"].outcome == "changed" and record["quality"].suggested == "5"
    assert record["correctness"].outcome == "taken"
    assert record["failure_categories"].outcome == "none"
    assert "rationale" not in record
    assert outcomes(rubric, {}, shown)["quality"].outcome == "shown"


def test_judgement_values_are_numbers_text_or_yes_no() -> None:
    signals = Signals.model_validate(
        {"judgements": [{"name": "ok", "value": True}, {"name": "q", "value": 0.5}]}
    )
    assert [j.value for j in signals.judgements] == [True, 0.5]
    with pytest.raises(ValidationError):
        Judgement.model_validate({"name": "x", "value": {"nested": 1}})
