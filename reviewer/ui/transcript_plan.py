"""What the transcript shows, worked out without Qt so it can run on a worker thread.

A plan is a list of step cards; each card is a header line and a body of plain text with
styled ranges (light markdown for the assistant, pretty JSON for tools). Session text is
never interpreted as markup: the markdown markers stay in the text and only change its
look, so the shown text is the source text and copying returns it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from reviewer.domain.session import UNRECOGNISED, Role, Session, Step

FOLD_CHARS = 3_000
"""A body longer than this is folded behind "show all"."""
FOLD_LINES = 40
LINE_LIMIT = 2_000
"""Longer lines are cut into pieces this long: Qt lays out unbroken lines in quadratic time."""
EXPANDED_LIMIT = 200_000
"""Even "show all" stops here; "Copy step" still copies everything."""
JSON_PRETTY_LIMIT = 1_000_000
"""Bigger tool output is shown as recorded instead of being parsed for pretty-printing."""


class Style(StrEnum):
    BODY = "body"
    CODE = "code"
    HEADING = "heading"
    BOLD = "bold"
    LINK = "link"
    NOTE = "note"
    """A fold notice: clicking it shows everything."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    style: Style
    href: str | None = None


@dataclass
class Card:
    step: int
    role: Role
    header: str
    body: str
    spans: list[Span] = field(default_factory=list)
    is_error: bool = False
    folded: bool = False
    """Part of the body is hidden; the last line is a NOTE that shows it."""
    source_text: str = ""
    """Everything the step holds, for "Copy step" (whatever was folded)."""


_LINK = re.compile(
    r"\[([^\]\n]{0,500})\]\(([^)\s]{1,2000})\)|\b((?:https?|file|ftp|javascript|data|mailto):[^\s<>\"')\]]{1,2000})",
    re.I,
)
_BOLD = re.compile(r"\*\*([^*\n]{1,500})\*\*")
_CODE = re.compile(r"`([^`\n]{1,500})`")
_HEADING = re.compile(r"^#{1,6} .*$", re.M)
_FENCE = re.compile(r"^```[^\n]*\n.*?(?:^```[ \t]*$|\Z)", re.M | re.S)


def _secs(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def _header(
    session: Session, index: int, step: Step, t0: datetime | None, names: dict[str, str]
) -> str:
    parts = [f"#{index}", step.role.value.capitalize() if step.role is not Role.TOOL else "Tool"]
    if step.role is Role.TOOL:
        name = names.get(step.tool_call_id or "") or step.name
        if name:
            parts.append(name)
        if step.is_error:
            parts.append("⚠ error")
    elif step.name:
        parts.append(step.name)
    if step.timestamp is not None:
        stamp = f"{step.timestamp:%H:%M:%S}"
        if t0 is not None and step.timestamp >= t0:
            stamp += f" (+{(step.timestamp - t0).total_seconds():.1f} s)"
        parts.append(stamp)
    if step.latency_ms is not None:
        parts.append(_secs(step.latency_ms))
    tokens = [t for t in (step.input_tokens, step.output_tokens) if t is not None]
    if tokens:
        parts.append(f"{sum(tokens):,} tokens")
    return "  ·  ".join(parts)


def pretty_json(value: Any) -> str | None:
    """``value`` (a JSON string or a parsed value) indented, or None if it is not JSON."""
    if isinstance(value, str):
        text = value.strip()
        if not text or text[0] not in "{[" or len(text) > JSON_PRETTY_LIMIT:
            return None
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return None
    try:
        return json.dumps(value, indent=2, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return None


def _cut_long_lines(text: str) -> str:
    if len(text) <= LINE_LIMIT or max(map(len, text.split("\n"))) <= LINE_LIMIT:
        return text
    out = []
    for line in text.split("\n"):
        while len(line) > LINE_LIMIT:
            out.append(line[:LINE_LIMIT])
            line = line[LINE_LIMIT:]
        out.append(line)
    return "\n".join(out)


def _fold(text: str, expanded: bool) -> str:
    """The part of ``text`` shown."""
    shown = text[: EXPANDED_LIMIT if expanded else FOLD_CHARS]
    if not expanded:
        lines = shown.split("\n", FOLD_LINES)
        if len(lines) > FOLD_LINES:
            shown = "\n".join(lines[:FOLD_LINES])
    return shown


def markdown_spans(text: str, offset: int = 0) -> list[Span]:
    """Styled ranges of light markdown in ``text``; the text itself is never changed."""
    spans: list[Span] = []
    fenced: list[tuple[int, int]] = []
    # Each pattern runs only when its marker is in the text at all: a search for a string
    # is far faster than a pattern anchored at line starts tried at every position.
    if "```" in text:
        for m in _FENCE.finditer(text):
            spans.append(Span(offset + m.start(), offset + m.end(), Style.CODE))
            fenced.append((m.start(), m.end()))

    def free(a: int) -> bool:
        return not any(s <= a < e for s, e in fenced)

    for marker, pattern, style in _MARKED:
        if marker in text:
            for m in pattern.finditer(text):
                if free(m.start()):
                    spans.append(Span(offset + m.start(), offset + m.end(), style))
    spans.extend(link_spans(text, offset))
    return spans


_MARKED = (("#", _HEADING, Style.HEADING), ("**", _BOLD, Style.BOLD), ("`", _CODE, Style.CODE))
"""Light markdown after fences: a marker every match holds, its pattern and its style."""
_LINK_HINTS = ("://", "](", "javascript:", "mailto:", "data:", "file:")
_SCHEMES = tuple(h[:-1] for h in _LINK_HINTS if h[-1] == ":" and h[0].isalpha())
_COLONS_CHECKED = 16
"""Up to this many colons, each is looked at for a scheme before it; past it the whole text
is searched (lowered) for every hint."""


def _may_link(text: str) -> bool:
    """Whether ``text`` holds one of :data:`_LINK_HINTS`, case aside."""
    if "://" in text or "](" in text:
        return True
    if text.count(":") > _COLONS_CHECKED:
        lowered = text.lower()
        return any(h in lowered for h in _LINK_HINTS)
    at = text.find(":")
    while at != -1:  # every other hint is a scheme right before a colon
        if text[max(0, at - 10) : at].lower().endswith(_SCHEMES):
            return True
        at = text.find(":", at + 1)
    return False


def link_spans(text: str, offset: int = 0) -> list[Span]:
    """Links in ``text`` (markdown links, images and bare URLs); they open only on request."""
    if not _may_link(text):
        return []  # the common case, checked far faster than by the full pattern
    out = []
    for m in _LINK.finditer(text):
        href = m.group(2) or m.group(3)
        out.append(Span(offset + m.start(), offset + m.end(), Style.LINK, href=href))
    return out


def _body(session: Session, step: Step, expanded: bool) -> tuple[str, list[Span], str]:
    """Body text, styled ranges and the whole source text of one step."""
    pieces: list[tuple[str, str]] = []  # (kind, text)
    if step.content:
        if UNRECOGNISED in step.metadata:  # kept raw: the note and pretty JSON, as code
            pieces.append(("json", step.content))
        elif step.role is Role.TOOL:
            pretty = pretty_json(step.content)
            pieces.append(("json", pretty) if pretty is not None else ("plain", step.content))
        else:
            pieces.append(("markdown" if step.role is Role.ASSISTANT else "plain", step.content))
    for call in step.tool_calls:
        args = pretty_json(call.arguments)
        if args is None:
            args = call.arguments if isinstance(call.arguments, str) else repr(call.arguments)
        pieces.append(("call", f"→ {call.name}  ({call.id})"))
        pieces.append(("json", args))
    source = "\n".join(t for _, t in pieces)
    text_parts: list[str] = []
    spans: list[Span] = []
    pos = 0
    budget_left = EXPANDED_LIMIT if expanded else FOLD_CHARS
    for kind, raw in pieces:
        if budget_left <= 0:
            break
        part = _cut_long_lines(raw[:budget_left] if len(raw) > budget_left else raw)
        budget_left -= len(part)
        if text_parts:
            pos += 1  # the newline joining parts
        if kind == "markdown":
            spans.extend(markdown_spans(part, pos))
        elif kind == "json":
            spans.append(Span(pos, pos + len(part), Style.CODE))
        elif kind == "call":
            spans.append(Span(pos, pos + len(part), Style.BOLD))
        else:
            spans.extend(link_spans(part, pos))
        text_parts.append(part)
        pos += len(part)
    return "\n".join(text_parts), spans, source


def tool_names(session: Session) -> dict[str, str]:
    """Tool name by call id, for labelling tool results."""
    return {c.id: c.name for s in session.steps for c in s.tool_calls}


def build_card(
    session: Session,
    index: int,
    *,
    expanded: bool = False,
    t0: datetime | None = None,
    names: dict[str, str] | None = None,
) -> Card:
    step = session.steps[index]
    header = _header(session, index, step, t0, tool_names(session) if names is None else names)
    card = Card(index, step.role, header, "", is_error=step.is_error)
    text, spans, source = _body(session, step, expanded)
    card.source_text = source
    first = text.split("\n", 1)[0][:200] if step.role is Role.SYSTEM else ""
    if step.role is Role.SYSTEM and not expanded and len(source) > len(first):
        lines = source.count("\n") + 1
        card.body = (
            first
            + f"\n▸ System prompt collapsed ({lines:,} lines, {len(source):,} characters)"
            + " — click to show"
        )
        card.spans = [Span(len(first) + 1, len(card.body), Style.NOTE)]
        card.folded = True
        return card
    shown = _fold(text, expanded)
    card.spans = [
        Span(sp.start, min(sp.end, len(shown)), sp.style, sp.href)
        for sp in spans
        if sp.start < len(shown)
    ]
    more = len(source) - len(shown) + shown.count("\n") - source.count("\n")
    if more > 0:
        note = (
            f"▸ about {more:,} more characters — click to show all"
            if not expanded
            else f"▸ about {more:,} more characters not shown — Copy step copies everything"
        )
        card.body = shown + "\n" + note
        card.spans.append(Span(len(shown) + 1, len(card.body), Style.NOTE))
        card.folded = not expanded
    else:
        card.body = shown
    return card


def build_plan(
    session: Session,
    expanded: frozenset[int] = frozenset(),
    *,
    start: int = 0,
    stop: int | None = None,
) -> list[Card]:
    """One card per step, in order (steps ``start`` to ``stop`` when given)."""
    t0 = session.started_at or next((s.timestamp for s in session.steps if s.timestamp), None)
    names = tool_names(session)
    end = len(session.steps) if stop is None else min(stop, len(session.steps))
    return [
        build_card(session, i, expanded=i in expanded, t0=t0, names=names)
        for i in range(start, end)
    ]


def metadata_lines(session: Session, *, blind: bool = False) -> list[tuple[str, str]]:
    """Label/value pairs for the metadata panel (agent identity hidden in blind mode)."""
    out: list[tuple[str, str]] = [("Session", session.id)]
    if not blind:
        agent = " ".join(x for x in (session.agent.name, session.agent.version) if x)
        if agent:
            out.append(("Agent", agent))
        if session.model:
            out.append(("Model", session.model))
    if session.started_at:
        out.append(("Started", f"{session.started_at:%Y-%m-%d %H:%M:%S} UTC"))
    m = session.metrics
    if m.latency_ms is not None:
        out.append(("Latency", _secs(m.latency_ms)))
    if m.input_tokens is not None or m.output_tokens is not None:
        out.append(("Tokens", f"{m.input_tokens or 0:,} in / {m.output_tokens or 0:,} out"))
    if m.cost_usd is not None:
        out.append(("Cost", f"${m.cost_usd:,.4f}"))
    out.append(("Steps", f"{len(session.steps)} ({session.tool_call_count} tool calls)"))
    sig = session.signals
    if sig.user_feedback is not None:
        fb = f"{sig.user_feedback:+.2g}"
        if sig.feedback_comment:
            fb += f" — {sig.feedback_comment}"
        out.append(("User feedback", fb))
    if sig.escalated is not None:
        out.append(("Escalated", "yes" if sig.escalated else "no"))
    if sig.task_success is not None:
        out.append(("Task success", "yes" if sig.task_success else "no"))
    for name, value in sorted(sig.judge_scores.items()):
        out.append((f"Judge: {name}", f"{value:.2f}"))
    if session.tags:
        out.append(("Tags", ", ".join(session.tags)))
    out.append(
        (
            "Source",
            session.source.format + (f" · {session.source.file}" if session.source.file else ""),
        )
    )
    return out
