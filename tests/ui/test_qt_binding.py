"""Facts about the Qt binding the app relies on."""

from __future__ import annotations

import sys

from PySide6.QtGui import QTextCursor, QTextDocument


def test_text_cursor_calls_keep_python_none_alive() -> None:
    # PySide6 6.12.0 released a reference to None on every QTextCursor.setPosition call,
    # which aborted the app after a few thousand styled transcript spans.
    doc = QTextDocument()
    cursor = QTextCursor(doc)
    cursor.insertText("hello world " * 10)
    before = sys.getrefcount(None)
    for _ in range(500):
        cursor.setPosition(3)
        cursor.setPosition(8, QTextCursor.MoveMode.KeepAnchor)
    assert sys.getrefcount(None) - before > -100
