"""``reviewer.domain`` names its models without building them all at import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import reviewer.domain as domain


def test_every_listed_name_is_the_model_of_its_module() -> None:
    from reviewer.domain.rubric import Rubric
    from reviewer.domain.session import Session

    assert domain.Rubric is Rubric
    assert domain.Session is Session
    for name in domain.__all__:
        assert getattr(domain, name).__name__ == name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Sessoin"):
        _ = domain.Sessoin  # type: ignore[attr-defined]


def test_importing_the_rubric_does_not_build_the_session_models() -> None:
    code = (
        "import sys, reviewer.domain.rubric; "
        "print('reviewer.domain.session' in sys.modules, 'reviewer.domain.batch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"]
