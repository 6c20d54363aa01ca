"""Message boxes that never interpret what they show.

QMessageBox guesses rich text (``Qt.AutoText``) and would render markup, and load images,
from an error message that quotes a session. Every box of the app comes from here, with
plain text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

Icon = QMessageBox.Icon


def message_box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    *,
    details: str | None = None,
) -> QMessageBox:
    """A plain-text box with an OK button (not shown yet: call ``open()`` or ``exec()``)."""
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.NoButton, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if details:
        box.setDetailedText(details)
    return box


def inform(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str) -> QMessageBox:
    """Show a plain-text box without blocking (window-modal); returns it."""
    box = message_box(parent, icon, title, text)
    box.addButton(QMessageBox.StandardButton.Ok)
    box.open()
    return box


def ask(parent: QWidget | None, title: str, text: str) -> bool:
    """A plain-text Yes/No question (blocking, as a confirmation must be); True for Yes."""
    box = message_box(parent, Icon.Question, title, text)
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that shows its text as typed (QLabel's default would guess rich text)."""
    label = QLabel(text, parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
