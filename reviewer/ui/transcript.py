"""A read-only transcript of one session, shown as inert plain text."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from reviewer.domain.session import Role, Session

LINE_LIMIT = 2000
"""Longer lines are cropped: Qt lays out unbroken lines in quadratic time."""
STEP_LIMIT = 20_000
"""Characters shown per step before folding."""


def _crop(text: str) -> str:
    if len(text) > STEP_LIMIT:
        text = text[:STEP_LIMIT] + f"\n… {len(text) - STEP_LIMIT:,} more characters folded"
    lines = []
    for line in text.splitlines():
        if len(line) > LINE_LIMIT:
            line = line[:LINE_LIMIT] + f" … ({len(line) - LINE_LIMIT:,} more characters)"
        lines.append(line)
    return "\n".join(lines)


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def transcript_text(session: Session) -> str:
    """The whole session as plain text, one block per step."""
    out: list[str] = []
    for i, step in enumerate(session.steps):
        head = f"#{i}  {step.role.value.upper()}"
        if step.role is Role.TOOL:
            name = session.tool_name_for(step.tool_call_id or "") or step.name or "tool"
            head += f"  {name}" + ("  ⚠ ERROR" if step.is_error else "")
        if step.timestamp:
            head += f"  {step.timestamp:%H:%M:%S}"
        out.append(head)
        if step.content:
            out.append(_crop(step.content))
        for call in step.tool_calls:
            out.append(f"→ call {call.name}  ({call.id})")
            out.append(_crop(_pretty(call.arguments)))
        out.append("")
    return "\n".join(out)


class TranscriptView(QPlainTextEdit):
    """Plain text only: nothing in a session is ever interpreted as markup."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        font: QFont = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
        self.setFont(font)
        self.setPlaceholderText("Select a session to read its transcript.")

    def show_session(self, session: Session | None) -> None:
        self.setPlainText("" if session is None else transcript_text(session))
