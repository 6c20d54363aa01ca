"""Judge-like data the importers find (Langfuse scores, LangSmith feedback, Inspect scores)
as canonical judgements: ``{name, value, explanation?, source?}``."""

from __future__ import annotations

from typing import Any

from reviewer.domain.session import Judgement

MAX_EXPLANATION = 20_000
"""Explanations longer than this are cut (they are shown on hover)."""


def judgement(
    name: Any, value: Any, explanation: Any = None, source: Any = None
) -> Judgement | None:
    """A judgement when ``name`` is a text and ``value`` a number, text or yes/no, else None."""
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        return None
    if isinstance(value, bool | str):
        v: bool | float | str = value if not isinstance(value, str) else value.strip()
        if v == "":
            return None
    elif isinstance(value, int | float) and value == value and abs(value) != float("inf"):
        v = float(value)
    else:
        return None
    text = explanation if isinstance(explanation, str) and explanation.strip() else None
    return Judgement(
        name=name,
        value=v,
        explanation=text[:MAX_EXPLANATION] if text else None,
        source=source if isinstance(source, str) and source else None,
    )
