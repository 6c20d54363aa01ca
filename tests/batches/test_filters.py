"""The --where language: what it parses to, how it fails, and what it selects in SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from reviewer.domain.filters import Clause, FilterError, parse_where
from reviewer.services.filters import apply_filter
from reviewer.services.importing import store_sessions
from reviewer.store.tables import SessionRow
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def test_the_example_of_the_docs_parses_clause_by_clause() -> None:
    spec = parse_where(
        "agent=support-agent and version=1.2 and model~gpt and started>=2026-10-01"
        " and tag=refund and tool_error and feedback<0 and escalated"
        " and judge.helpfulness<0.5 and steps=5..20"
    )
    assert [(c.field, c.op) for c in spec.clauses] == [
        ("agent", "="), ("version", "="), ("model", "~"), ("started", "between"),
        ("tag", "="), ("tool_error", "flag"), ("feedback", "<"), ("escalated", "flag"),
        ("judge.helpfulness", "<"), ("steps", "range"),
    ]  # fmt: skip
    assert spec.clauses[1].values == ["1.2"], "versions stay text"
    assert spec.clauses[3].low == datetime(2026, 10, 1, tzinfo=UTC)
    assert spec.clauses[3].high is None
    assert spec.clauses[9].low == 5 and spec.clauses[9].high == 20


def test_quotes_lists_case_and_blanks() -> None:
    spec = parse_where('AGENT = "sales and support"  AND  version=1.0,"2,0" and NOT escalated')
    assert spec.clauses == [
        Clause(field="agent", op="=", values=["sales and support"]),
        Clause(field="version", op="=", values=["1.0", "2,0"]),
        Clause(field="escalated", op="not"),
    ]
    assert parse_where("tag=rock-and-roll").clauses[0].values == ["rock-and-roll"]
    assert parse_where(r'model="say \"hi\" \\ bye"').clauses[0].values == ['say "hi" \\ bye']
    assert parse_where("  ").clauses == []
    assert parse_where(None).clauses == []


def test_dates_are_whole_utc_days_and_times_are_instants() -> None:
    day = datetime(2026, 10, 1, tzinfo=UTC)
    next_day = day + timedelta(days=1)

    def bounds(text: str) -> tuple[object, object]:
        (c,) = parse_where(text).clauses
        return c.low, c.high

    assert bounds("started=2026-10-01") == (day, next_day)
    assert bounds("started<2026-10-01") == (None, day)
    assert bounds("started<=2026-10-01") == (None, next_day)
    assert bounds("started>2026-10-01") == (next_day, None)
    assert bounds("started>=2026-10-01") == (day, None)
    assert bounds("started=2026-10-01..2026-10-31") == (day, datetime(2026, 11, 1, tzinfo=UTC))
    noon_paris = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)
    assert bounds("started>=2026-10-01T12:00:00+02:00") == (noon_paris, None)
    assert bounds("started<2026-10-01T10:00:00") == (None, noon_paris), "no offset: UTC"


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("colour=red", "unknown field 'colour'", 1),
        ("versoin=1.0", "did you mean 'version'?", 1),
        ("steps>many", "steps takes numbers; 'many' is not one", 7),
        ("version>2", "version takes =, !=, ~ (contains) or !~, not >", 9),
        ("tool_error and", "a condition is missing at the end", 15),
        ("tool_error and and escalated", "a condition is missing before 'and'", 16),
        ("started<soon", "started takes a date (2026-10-01) or an ISO time", 9),
        ("started~2026", "started takes =, <, <=, >, >= or a range, not ~", 9),
        ("feedback", "feedback needs an operator and a value", 1),
        ("not feedback<0", "'not' goes only before a flag", 5),
        ("agent=sales and support", "unknown flag 'support'", 17),
        ("agent=sales and support", 'needs quotes, as in agent="sales and support"', 17),
        ("agent=", "expected a value after '='", 7),
        ('agent="open', "a quoted value is not closed", 7),
        ("steps=20..5", "the range 20..5 is empty", 7),
        ("steps<1,2", "a list of values goes with = or !=, not <", 9),
        ("steps=..", "a range needs at least one end", 7),
        ("tool_error=1", "tool_error is a flag", 11),
        ("judge.=0.5", "judge.NAME needs the judge's name", 1),
        ("model~gpt escalated", "expected 'and' before 'escalated'", 11),
        ("version=1.0 or version=2.0", "there is no 'or'", 13),
        ("cost=nan", "cost takes finite numbers", 6),
        ("a!b", "'!' is not an operator", 2),
    ],
)
def test_bad_filters_name_the_problem_and_where_it_is(text: str, message: str, column: int) -> None:
    with pytest.raises(FilterError) as info:
        parse_where(text)
    assert message in str(info.value)
    assert str(info.value).endswith(f"(at character {column})")
    assert info.value.position == column - 1
    assert "\n" not in str(info.value)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list('agentvrsiomdlfbckpj_.=!<>~,"\\ 0123456789-:T')), max_size=40
    )
)
def test_any_text_parses_or_fails_with_a_positioned_filter_error(text: str) -> None:
    try:
        parse_where(text)
    except FilterError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def _clauses(draw: st.DrawFn) -> tuple[str, Clause]:
    kind = draw(st.sampled_from(["text", "number", "range", "flag"]))
    if kind == "text":
        field = draw(st.sampled_from(["agent", "version", "model", "tag"]))
        op = draw(st.sampled_from(["=", "!=", "~", "!~"]))
        values = draw(st.lists(_TEXT, min_size=1, max_size=3))
        text = f"{field.upper() if draw(st.booleans()) else field} {op} "
        return text + ",".join(_quote(v) for v in values), Clause(field=field, op=op, values=values)
    if kind == "number":
        field = draw(st.sampled_from(["feedback", "steps", "cost", "judge.Helpful-ness"]))
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        value = draw(st.floats(-1e6, 1e6, allow_nan=False))
        return f"{field}{op}{value!r}", Clause(field=field, op=op, values=[value])
    if kind == "range":
        low, high = sorted(draw(st.lists(st.integers(-50, 50), min_size=2, max_size=2)))
        return f"steps={low}..{high}", Clause(field="steps", op="range", low=low, high=high)
    flag = draw(st.sampled_from(["tool_error", "escalated", "negative_feedback", "task_success"]))
    negated = draw(st.booleans())
    return ("NOT " if negated else "") + flag, Clause(field=flag, op="not" if negated else "flag")


@settings(max_examples=200, deadline=None)
@given(st.lists(_clauses(), min_size=1, max_size=5), st.sampled_from([" and ", "  AND\t", " And "]))
def test_written_clauses_parse_back_to_themselves(
    clauses: list[tuple[str, Clause]], joiner: str
) -> None:
    spec = parse_where(joiner.join(text for text, _ in clauses))
    assert spec.clauses == [clause for _, clause in clauses]


# --- in SQL -------------------------------------------------------------------------------


def _sessions(ws: Workspace) -> None:
    """Twelve sessions with one field varied per group, so each filter's count is known."""
    specs = [
        make_session("a", version="1.0", feedback=-1.0, tool_error=True),
        make_session("b", version="1.0", feedback=1.0),
        make_session("c", version="2.0", feedback=None),
        make_session("d", version="2.0", feedback=-0.5),
        make_session("e", version="2.1"),
        make_session("f", version="2.1"),
        make_session("g", version="2.1"),
        make_session("h", version="1.0", tags=["refund", "web"]),
        make_session("i", version="1.0", tags=["refund-request"]),
        make_session("j", version="1.0"),
        make_session("k", version="1.0"),
        make_session("l", version="1.0"),
    ]
    specs[3].started_at = T0 + timedelta(days=3)
    specs[4].started_at = T0 + timedelta(days=30)
    specs[4].signals.escalated = True
    specs[5].model = "GPT-4.1"
    specs[6].model = "claude-sonnet-4"
    specs[9].agent.name = "sales and support"
    specs[10].signals.judge_scores = {"helpfulness": 0.2}
    specs[11].signals.judge_scores = {"helpfulness": 0.9}
    store_sessions(ws, specs)


@pytest.fixture
def sessions(workspace: Workspace) -> Workspace:
    _sessions(workspace)
    return workspace


def _keys(ws: Workspace, where: str, *, latest_only: bool = True) -> list[str]:
    q = apply_filter(select(SessionRow.session_key), parse_where(where), latest_only=latest_only)
    with ws.read() as s:
        return sorted(s.scalars(q))


CASES: list[tuple[str, str]] = [
    ("", "abcdefghijkl"),
    ("version=2.0", "cd"),
    ("version=2.0,2.1", "cdefg"),
    ("version!=1.0", "cdefg"),
    ("model~gpt", "abcdefhijkl"),  # contains, ignoring case (the default model is gpt-4o-mini)
    ("model!~gpt", "g"),
    ("model~GPT-4.1", "f"),
    ("tag=refund", "h"),
    ("tag~refund", "hi"),
    ("tag!=refund", "abcdefgijkl"),
    ("feedback<0", "ad"),
    ("negative_feedback", "ad"),
    ("not negative_feedback", "bcefghijkl"),  # sessions without feedback pass the opposite
    ("feedback!=1", "acdefghijkl"),
    ("feedback=-1..-0.5", "ad"),
    ("tool_error", "a"),
    ("not tool_error and version=1.0", "bhijkl"),
    ("escalated", "e"),
    ("not escalated", "abcdfghijkl"),
    ("started=2026-10-04", "d"),
    ("started>=2026-10-02", "de"),
    ("started<=2026-10-04", "abcdfghijkl"),
    ("started=2026-10-02..2026-10-31", "de"),
    ("judge.helpfulness<0.5", "k"),
    ("judge.helpfulness>=0.5", "l"),
    ("judge.helpfulness!=0.2", "abcdefghijl"),  # no such score: passes the opposite
    ("judge.correctness<1", ""),
    ('agent="sales and support"', "j"),
    ("steps=5", "abcdefghijkl"),
    ("steps=6..", ""),
    ("tool_calls=1", "abcdefghijkl"),
]
"""--where text → keys of the sessions it selects."""


@pytest.mark.parametrize(("where", "keys"), CASES)
def test_filters_select_in_sql(sessions: Workspace, where: str, keys: str) -> None:
    assert _keys(sessions, where) == list(keys)


def test_values_are_bound_parameters_never_sql(sessions: Workspace) -> None:
    hostile = "x' OR '1'='1"
    assert _keys(sessions, f'agent="{hostile}"') == []
    assert _keys(sessions, 'model~"%"') == [], "LIKE wildcards are matched literally"
    assert _keys(sessions, 'model~"_"') == []
    q = apply_filter(select(SessionRow.id), parse_where(f'agent="{hostile}" and model~gpt'))
    compiled = q.compile()
    assert hostile not in str(compiled)
    assert hostile in compiled.params.values()


def test_only_the_latest_revision_passes_unless_asked(sessions: Workspace) -> None:
    revised = make_session("a", version="9.9", feedback=-1.0, tool_error=True, text="changed")
    store_sessions(sessions, [revised])
    assert _keys(sessions, "tool_error") == ["a"]
    with sessions.read() as s:
        versions = s.scalars(
            apply_filter(select(SessionRow.agent_version), parse_where("tool_error"))
        ).all()
    assert versions == ["9.9"]
    assert _keys(sessions, "tool_error", latest_only=False) == ["a", "a"]
