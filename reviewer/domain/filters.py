"""The session filter language of ``--where``: clauses joined by ``and``.

    agent=support-agent and version=2.0 and model~gpt and started>=2026-10-01
    and tag=refund and tool_error and escalated and feedback<0
    and judge.helpfulness<0.5 and steps=5..20

Each clause is ``FIELD OP VALUE`` or a bare flag. Fields and operators:

- ``agent``, ``version``, ``model``: ``=``, ``!=``, ``~`` (contains)
- ``tag``: ``=`` (the session carries the tag)
- ``started``: ``<``, ``<=``, ``>``, ``>=``, ``=`` with a date (``2026-10-01``) or an ISO time (UTC)
- ``feedback``, ``steps``, ``cost``, ``latency_ms``, ``judge.NAME``: ``=``, ``!=``, ``<``, ``<=``,
  ``>``, ``>=`` with a number; ``steps=5..20`` is a range
- flags: ``tool_error``, ``escalated``, ``negative_feedback``, and ``not tool_error`` etc.

Values may be quoted with double quotes. The parser builds a :class:`FilterSpec`; turning it
into SQL (with bound parameters only) is the store's job.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

Op = Literal["=", "!=", "~", "<", "<=", ">", ">=", "range", "flag", "not"]

TEXT_FIELDS = ("agent", "version", "model")
NUMBER_FIELDS = ("feedback", "steps", "cost", "latency_ms")
FLAGS = ("tool_error", "escalated", "negative_feedback")


class FilterError(ValueError):
    """The filter text cannot be understood; the message names the problem and where."""


class Clause(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    op: Op
    value: str | float | list[float] | None = None


class FilterSpec(BaseModel):
    """A parsed filter: every clause must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = ""
    clauses: list[Clause] = []

    def time_bound(self, c: Clause) -> datetime:
        assert isinstance(c.value, str)
        return parse_when(c.value)


_CLAUSE = re.compile(
    r"""\s*(?:(?P<not>not)\s+)?(?P<field>[A-Za-z_][A-Za-z0-9_.\-]*)\s*
        (?:(?P<op><=|>=|!=|=|<|>|~)\s*(?P<value>"[^"]*"|[^\s"]+))?\s*""",
    re.X,
)


def parse_when(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{text!r} is not a date (use 2026-10-01 or an ISO time)") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _number(field: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise FilterError(f"{field}: {text!r} is not a number") from None


def _clause(field: str, op: str | None, raw: str | None, negated: bool, at: int) -> Clause:
    where = f" (at character {at + 1})"
    if op is None:
        if field not in FLAGS:
            known = ", ".join(FLAGS)
            raise FilterError(
                f"{field!r} needs an operator and a value, or is not a flag ({known}){where}"
            )
        return Clause(field=field, op="not" if negated else "flag")
    if negated:
        raise FilterError(f"'not' goes only before a flag{where}")
    value = (raw or "").strip('"')
    if field in TEXT_FIELDS:
        if op not in ("=", "!=", "~"):
            raise FilterError(f"{field} takes =, != or ~ (contains), not {op}{where}")
        return Clause(field=field, op=op, value=value)
    if field == "tag":
        if op != "=":
            raise FilterError(f"tag takes =, not {op}{where}")
        return Clause(field=field, op="=", value=value)
    if field == "started":
        if op in ("~", "!="):
            raise FilterError(f"started takes <, <=, >, >= or =, not {op}{where}")
        parse_when(value)
        return Clause(field=field, op=op, value=value)
    if field in NUMBER_FIELDS or field.startswith("judge."):
        if field.startswith("judge.") and len(field) == len("judge."):
            raise FilterError(f"judge.NAME needs the judge's name{where}")
        if op == "~":
            raise FilterError(f"{field} is a number: use =, !=, <, <=, > or >={where}")
        if op == "=" and ".." in value:
            lo, _, hi = value.partition("..")
            return Clause(field=field, op="range", value=[_number(field, lo), _number(field, hi)])
        return Clause(field=field, op=op, value=_number(field, value))
    known = ", ".join((*TEXT_FIELDS, "tag", "started", *NUMBER_FIELDS, "judge.NAME", *FLAGS))
    raise FilterError(f"unknown field {field!r}{where}; known fields: {known}")


def parse_where(text: str | None) -> FilterSpec:
    """Parse ``--where`` text; raise :class:`FilterError` naming the problem and its place."""
    if text is None or not text.strip():
        return FilterSpec()
    clauses: list[Clause] = []
    pieces: list[tuple[int, str]] = []
    last = 0
    for sep in re.finditer(r"\band\b", text):
        pieces.append((last, text[last : sep.start()]))
        last = sep.end()
    pieces.append((last, text[last:]))
    for start, part in pieces:
        lead = len(part) - len(part.lstrip())
        if not part.strip():
            raise FilterError(f"empty clause around 'and' (at character {start + 1})")
        m = _CLAUSE.fullmatch(part)
        if m is None:
            raise FilterError(f"cannot read {part.strip()!r} (at character {start + lead + 1})")
        clauses.append(_clause(m["field"], m["op"], m["value"], m["not"] is not None, start + lead))
    return FilterSpec(text=text.strip(), clauses=clauses)
