"""The transcript plan: what each step card shows, worked out without Qt."""

from __future__ import annotations

from reviewer.domain.session import Role, Step
from reviewer.ui.transcript_plan import (
    FOLD_CHARS,
    LINE_LIMIT,
    Style,
    build_card,
    build_plan,
    link_spans,
    markdown_spans,
)
from tests.helpers.factories import make_session


def test_every_step_gets_a_card_with_role_time_and_tool_name() -> None:
    cards = build_plan(make_session(tool_error=True))
    assert [c.role for c in cards] == [
        Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT
    ]  # fmt: skip
    assert "lookup_order" in cards[3].header and "⚠ error" in cards[3].header
    assert cards[3].is_error
    assert "(+5.0 s)" in cards[4].header
    assert '"order": 42' in cards[2].body, "tool-call arguments pretty-printed"


def test_markdown_changes_the_look_never_the_text() -> None:
    text = "# Title\nSome **bold** and `code` and ![img](file:///etc/passwd)\n```\nx = 1\n```"
    spans = markdown_spans(text)
    styles = {s.style for s in spans}
    assert {Style.HEADING, Style.BOLD, Style.CODE, Style.LINK} <= styles
    link = next(s for s in spans if s.style is Style.LINK)
    assert link.href == "file:///etc/passwd"
    assert text[link.start : link.end] == "[img](file:///etc/passwd)"


def test_long_output_is_folded_and_long_lines_cut() -> None:
    s = make_session()
    s.steps[3] = Step(role=Role.TOOL, tool_call_id="call_1", content="y" * 50_000)
    card = build_card(s, 3)
    assert card.folded
    assert card.body.endswith("click to show all")
    assert max(len(line) for line in card.body.split("\n")) <= LINE_LIMIT
    assert len(card.body) < FOLD_CHARS + 200
    assert card.source_text == "y" * 50_000
    expanded = build_card(s, 3, expanded=True)
    assert not expanded.folded and expanded.body.count("y") == 50_000


def test_a_long_system_prompt_starts_collapsed() -> None:
    s = make_session()
    s.steps[0] = Step(role=Role.SYSTEM, content="Rule one.\n" * 30)
    card = build_card(s, 0)
    assert card.body.startswith("Rule one.")
    assert "System prompt collapsed (31 lines" in card.body
    assert card.spans[-1].style is Style.NOTE
    assert build_card(s, 0, expanded=True).body.count("Rule one.") == 30


def test_big_json_tool_output_is_pretty_printed() -> None:
    s = make_session()
    s.steps[3] = Step(role=Role.TOOL, tool_call_id="call_1", content='{"a":{"b":[1,2]}}')
    card = build_card(s, 3)
    assert card.body == '{\n  "a": {\n    "b": [\n      1,\n      2\n    ]\n  }\n}'
    assert card.spans[0].style is Style.CODE


def test_a_step_kept_raw_shows_its_note_and_pretty_json_as_code() -> None:
    from reviewer.ingest.messages import messages_to_steps

    s = make_session()
    [raw] = messages_to_steps([{"role": "user", "content": [{"type": "hologram", "n": 3}]}])
    s.steps[1] = raw
    card = build_card(s, 1)
    assert card.body == '(shape not recognised)\n{\n  "type": "hologram",\n  "n": 3\n}'
    assert [(sp.start, sp.end, sp.style) for sp in card.spans] == [(0, len(card.body), Style.CODE)]


def test_links_are_found_whatever_the_case_and_however_many_colons() -> None:
    many = " ".join(f"k{i}: v" for i in range(30))
    for text, link in [
        ("run JavaScript:void now", "JavaScript:void"),
        ("DATA:text/html,x", "DATA:text/html,x"),
        (f"{many} Mailto:a@b.c", "Mailto:a@b.c"),
        ("time 10:30, see [the docs](docs/x.md)", "[the docs](docs/x.md)"),
        ("at HTTPS://example.org/a", "HTTPS://example.org/a"),
        (f"{many} and no link", None),
    ]:
        found = [text[s.start : s.end] for s in link_spans(text)]
        assert found == ([link] if link else [])
