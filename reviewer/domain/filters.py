"""The session filter language of ``--where``, parsed into a :class:`FilterSpec`.

Example::

    agent=support-agent and version=1.1,2.0 and model~gpt and started>=2026-10-01
    and tag=refund and tool_error and feedback<0 and not escalated
    and judge.helpfulness<0.5 and steps=5..20

Grammar (keywords and field names are case-insensitive; blanks between tokens are free)::

    filter  := clause ( "and" clause )*
    clause  := [ "not" ] FLAG
             | FIELD OP value ( "," value )*
    value   := WORD | '"' text '"'          (inside quotes, \\" is a quote and \\\\ a backslash)
    OP      := "=" | "!=" | "~" | "!~" | "<" | "<=" | ">" | ">="

A WORD runs up to a blank, a comma, a quote or one of ``= ! < > ~``; quote any value that
holds those (``agent="sales and support"``). Fields and what they take:

- ``agent``, ``version``, ``model``: ``=`` / ``!=`` exact (a comma list means one of /
  none of), ``~`` / ``!~`` contains, ignoring case (a list: any / none).
- ``tag``: the same over the session's tags (``tag=refund``: it has that tag).
- ``started``: ``=``, ``<``, ``<=``, ``>``, ``>=`` with a date (``2026-10-01``: a whole UTC
  day, so ``started=2026-10-01`` is that day and ``started<=2026-10-31`` includes the 31st)
  or an ISO time (``2026-10-01T12:00:00+02:00``; UTC without an offset);
  ``started=2026-10-01..2026-10-31`` is an inclusive range.
- ``feedback``, ``steps``, ``tool_calls``, ``cost``, ``latency_ms`` and ``judge.NAME`` (the
  score of the judge called NAME): numbers with ``=``, ``!=`` (comma lists allowed), ``<``,
  ``<=``, ``>``, ``>=``; ``=LOW..HIGH`` is an inclusive range, either end may be left out
  (``steps=5..``, ``cost=..0.01``).
- flags ``tool_error``, ``escalated``, ``negative_feedback`` (feedback below 0),
  ``task_success``: no operator; ``not FLAG`` is the opposite.

Every clause must hold (there is no ``or``: use comma lists). A session without the field
(no version, no feedback, no such judge) fails ``=``, ``~``, comparisons and flags, and passes
their opposites ``!=``, ``!~`` and ``not FLAG``: each opposite is exactly the sessions the
positive form leaves out.

Parsing is pure: :func:`parse_where` returns a :class:`FilterSpec` or raises
:class:`FilterError` naming the problem and the character where it is. Turning a spec into
SQL, with bound parameters only, is ``reviewer.store.filters``' job.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Op = Literal["=", "!=", "~", "!~", "<", "<=", ">", ">=", "range", "between", "flag", "not"]

TEXT_FIELDS = ("agent", "version", "model", "tag")
NUMBER_FIELDS = ("feedback", "steps", "tool_calls", "cost", "latency_ms")
TIME_FIELDS = ("started",)
FLAGS = ("tool_error", "escalated", "negative_feedback", "task_success")
JUDGE_PREFIX = "judge."
FIELDS = (*TEXT_FIELDS, *TIME_FIELDS, *NUMBER_FIELDS, "judge.NAME", *FLAGS)
"""Every name the language knows, in the order the help lists them."""

_OPERATORS = ("!=", "!~", "<=", ">=", "=", "~", "<", ">")
_STOP = set(' \t\r\n,"=!<>~')
_ONE_MICROSECOND = timedelta(microseconds=1)


class FilterError(ValueError):
    """The filter text cannot be understood; the message names the problem and where."""

    def __init__(self, problem: str, position: int | None = None) -> None:
        self.problem = problem
        self.position = position
        """0-based index into the text, or None when the problem is not at one place."""
        where = f" (at character {position + 1})" if position is not None else ""
        super().__init__(problem + where)


class Clause(BaseModel):
    """One condition every selected session must meet.

    - text, tag and number fields with ``=``, ``!=``, ``~``, ``!~``: ``values`` holds the
      alternatives; with ``<``, ``<=``, ``>``, ``>=``: the one value.
    - ``range`` (numbers): ``low <= x <= high``; a missing end is open.
    - ``between`` (``started``): ``low <= t < high`` (UTC); a missing end is open.
    - ``flag`` / ``not``: the flag holds / does not hold.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    op: Op
    values: list[str | float] = Field(default_factory=list)
    low: float | datetime | None = None
    high: float | datetime | None = None

    @property
    def judge(self) -> str | None:
        """The judge's name for ``judge.NAME`` clauses."""
        return (
            self.field.removeprefix(JUDGE_PREFIX) if self.field.startswith(JUDGE_PREFIX) else None
        )


class FilterSpec(BaseModel):
    """A parsed filter: every clause must hold. The empty spec lets everything through."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = ""
    clauses: list[Clause] = Field(default_factory=list)


# --- tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: Literal["word", "string", "op", "comma"]
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == ",":
            out.append(_Token("comma", ",", i))
            i += 1
        elif ch == '"':
            start, i, buf = i, i + 1, []
            while True:
                if i >= n:
                    raise FilterError("a quoted value is not closed with '\"'", start)
                if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\':
                    buf.append(text[i + 1])
                    i += 2
                elif text[i] == '"':
                    i += 1
                    break
                else:
                    buf.append(text[i])
                    i += 1
            out.append(_Token("string", "".join(buf), start))
        elif ch in "=!<>~":
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise FilterError(f"'{ch}' is not an operator (use =, !=, ~, !~, <, <=, >, >=)", i)
            out.append(_Token("op", op, i))
            i += len(op)
        else:
            start = i
            while i < n and text[i] not in _STOP:
                i += 1
            out.append(_Token("word", text[start:i], start))
    return out


# --- values -------------------------------------------------------------------------------


def _number(field: str, tok: _Token, text: str | None = None) -> float:
    raw = tok.text if text is None else text
    try:
        value = float(raw)
    except ValueError:
        raise FilterError(f"{field} takes numbers; {raw!r} is not one", tok.at) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise FilterError(f"{field} takes finite numbers, not {raw!r}", tok.at)
    return value


def _when(tok: _Token, raw: str) -> tuple[datetime, bool]:
    """The instant ``raw`` names, and whether it was a whole day (a date without a time)."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        pass
    else:
        return datetime(day.year, day.month, day.day, tzinfo=UTC), True
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise FilterError(
            f"started takes a date (2026-10-01) or an ISO time (2026-10-01T12:00:00Z);"
            f" {raw!r} is neither",
            tok.at,
        ) from None
    return (when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)), False


def _split_range(tok: _Token) -> tuple[str, str] | None:
    if tok.kind != "word" or ".." not in tok.text:
        return None
    lo, _, hi = tok.text.partition("..")
    return lo, hi


def _time_clause(field: str, op: str, values: list[_Token]) -> Clause:
    if op in ("!=", "~", "!~"):
        raise FilterError(f"{field} takes =, <, <=, >, >= or a range, not {op}", values[0].at)
    if len(values) > 1:
        raise FilterError(f"{field} takes one date or time, not a list", values[1].at)
    tok = values[0]
    span = _split_range(tok)
    if span is not None:
        if op != "=":
            raise FilterError(f"a range goes with =, as in {field}=2026-10-01..2026-10-31", tok.at)
        low = high = None
        if span[0]:
            low = _when(tok, span[0])[0]
        if span[1]:
            end, whole_day = _when(tok, span[1])
            high = end + (timedelta(days=1) if whole_day else _ONE_MICROSECOND)
        if low is None and high is None:
            raise FilterError("a range needs at least one end", tok.at)
        return Clause(field=field, op="between", low=low, high=high)
    when, whole_day = _when(tok, tok.text)
    after = when + (timedelta(days=1) if whole_day else _ONE_MICROSECOND)
    bounds = {
        "=": (when, after),
        "<": (None, when),
        "<=": (None, after),
        ">": (after, None),
        ">=": (when, None),
    }[op]
    return Clause(field=field, op="between", low=bounds[0], high=bounds[1])


def _number_clause(field: str, op: str, values: list[_Token]) -> Clause:
    if op in ("~", "!~"):
        raise FilterError(f"{field} is a number: use =, !=, <, <=, >, >= or a range", values[0].at)
    span = _split_range(values[0])
    if span is not None:
        if op != "=" or len(values) > 1:
            raise FilterError(f"a range goes alone with =, as in {field}=5..20", values[0].at)
        low = _number(field, values[0], span[0]) if span[0] else None
        high = _number(field, values[0], span[1]) if span[1] else None
        if low is None and high is None:
            raise FilterError("a range needs at least one end", values[0].at)
        if low is not None and high is not None and low > high:
            raise FilterError(
                f"the range {values[0].text} is empty (low end above high)", values[0].at
            )
        return Clause(field=field, op="range", low=low, high=high)
    if len(values) > 1 and op not in ("=", "!="):
        raise FilterError(f"a list of values goes with = or !=, not {op}", values[1].at)
    return Clause(field=field, op=op, values=[_number(field, v) for v in values])


def _text_clause(field: str, op: str, values: list[_Token]) -> Clause:
    if op not in ("=", "!=", "~", "!~"):
        raise FilterError(f"{field} takes =, !=, ~ (contains) or !~, not {op}", values[0].at)
    for v in values:
        if not v.text:
            raise FilterError(f"{field} needs a value that is not empty", v.at)
    return Clause(field=field, op=op, values=[v.text for v in values])


# --- clauses ------------------------------------------------------------------------------


def _unknown(word: _Token, *, flag_expected: bool) -> FilterError:
    name = word.text.lower()
    if flag_expected and (name in FIELDS or name.startswith(JUDGE_PREFIX)):
        return FilterError(
            f"{word.text} needs an operator and a value, e.g. {word.text}=…", word.at
        )
    close = difflib.get_close_matches(name, [f for f in FIELDS if f != "judge.NAME"], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if flag_expected:
        return FilterError(
            f"unknown flag {word.text!r}{hint}; flags: {', '.join(FLAGS)} (a value with blanks"
            ' needs quotes, as in agent="sales and support")',
            word.at,
        )
    return FilterError(f"unknown field {word.text!r}{hint}; fields: {', '.join(FIELDS)}", word.at)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> _Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Token | None:
        tok = self.peek()
        self.i += tok is not None
        return tok

    def end(self) -> int:
        return len(self.text.rstrip())

    def parse(self) -> list[Clause]:
        clauses = [self.clause()]
        while (tok := self.take()) is not None:
            if tok.kind == "word" and tok.text.lower() == "or":
                raise FilterError(
                    "there is no 'or': clauses are joined by 'and'; for alternatives use a"
                    " comma list, as in version=1.0,2.0",
                    tok.at,
                )
            if tok.kind != "word" or tok.text.lower() != "and":
                raise FilterError(f"expected 'and' before {tok.text!r}", tok.at)
            clauses.append(self.clause())
        return clauses

    def clause(self) -> Clause:
        tok = self.take()
        if tok is None:
            raise FilterError("a condition is missing at the end", self.end())
        if tok.kind != "word":
            raise FilterError(f"expected a field or flag name, not {tok.text!r}", tok.at)
        negated = tok.text.lower() == "not"
        if negated:
            tok = self.take()
            if tok is None or tok.kind != "word":
                at = self.end() if tok is None else tok.at
                raise FilterError(f"'not' must be followed by a flag ({', '.join(FLAGS)})", at)
        if tok.text.lower() == "and":
            raise FilterError("a condition is missing before 'and'", tok.at)
        name = tok.text.lower()
        op = self.peek()
        if op is None or op.kind != "op":
            if name in FLAGS:
                return Clause(field=name, op="not" if negated else "flag")
            raise _unknown(tok, flag_expected=True)
        if negated:
            raise FilterError("'not' goes only before a flag; use != or !~ instead", tok.at)
        self.take()
        if name in FLAGS:
            raise FilterError(f"{name} is a flag: write {name} or not {name}", op.at)
        field = name
        if name.startswith(JUDGE_PREFIX):
            judge = tok.text[len(JUDGE_PREFIX) :]
            if not judge:
                raise FilterError(
                    "judge.NAME needs the judge's name, e.g. judge.helpfulness", tok.at
                )
            field = JUDGE_PREFIX + judge
        elif name not in FIELDS:
            raise _unknown(tok, flag_expected=False)
        values = self.values(op)
        if name in TEXT_FIELDS:
            return _text_clause(field, op.text, values)
        if name in TIME_FIELDS:
            return _time_clause(field, op.text, values)
        return _number_clause(field, op.text, values)

    def values(self, op: _Token) -> list[_Token]:
        out: list[_Token] = []
        while True:
            tok = self.take()
            if tok is None or tok.kind not in ("word", "string"):
                at = self.end() if tok is None else tok.at
                raise FilterError(f"expected a value after {op.text!r}", at)
            out.append(tok)
            nxt = self.peek()
            if nxt is None or nxt.kind != "comma":
                return out
            self.take()


def parse_where(text: str | None) -> FilterSpec:
    """Parse ``--where`` text; raise :class:`FilterError` naming the problem and its place."""
    if text is None or not text.strip():
        return FilterSpec()
    return FilterSpec(text=text.strip(), clauses=_Parser(text).parse())
