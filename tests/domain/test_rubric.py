from __future__ import annotations

import pytest
from pydantic import ValidationError

from reviewer.domain.rubric import Dimension, DimensionKind, Option, Rubric


def test_default_rubric_has_the_dimensions_reviewers_use(rubric: Rubric) -> None:
    names = [d.name for d in rubric.dimensions]
    assert names[:3] == ["quality", "correctness", "policy"]
    assert rubric.taxonomy is not None and len(rubric.taxonomy.options) == 11
    assert rubric.corrected_response is not None
    assert all(o.hotkey for o in rubric.taxonomy.options)


def test_required_dimensions_are_reported_missing(rubric: Rubric) -> None:
    missing = rubric.missing_required({"quality": "5", "correctness": ""})
    assert [d.name for d in missing] == ["correctness", "policy"]


def test_values_outside_the_rubric_are_named(rubric: Rubric) -> None:
    problems = rubric.problems(
        {"quality": "7", "failure_categories": ["looped", "bogus"], "nope": 1}
    )
    assert any("unknown dimension 'nope'" in p for p in problems)
    assert any("'7' is not one of" in p for p in problems)
    assert any("bogus" in p for p in problems)
    assert rubric.problems({"quality": "4", "failure_categories": ["looped"]}) == []


def test_ordinal_options_must_be_numbers() -> None:
    with pytest.raises(ValidationError, match="not a number"):
        Dimension(
            name="q",
            label="Q",
            kind=DimensionKind.ORDINAL,
            options=[Option(value="good", label="Good")],
        )


def test_failure_tag_hotkeys_are_unique_across_the_rubric() -> None:
    tags = [Option(value="a", label="A", hotkey="x"), Option(value="b", label="B", hotkey="x")]
    with pytest.raises(ValidationError, match="hotkeys"):
        Rubric(
            name="r",
            dimensions=[
                Dimension(name="t", label="T", kind=DimensionKind.MULTI_SELECT, options=tags)
            ],
        )
