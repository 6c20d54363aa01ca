"""Ctrl+E: an agent step as it should have been — its verdict and error type, its text, or
its tool calls' names and arguments (JSON, validated) — with a diff to what the agent did."""

from __future__ import annotations

import difflib
import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.review import CorrectedToolCall, StepCorrection, StepLabel
from reviewer.domain.rubric import StepRubric
from reviewer.domain.session import Step
from reviewer.ui.messages import plain_label


def step_text(content: str | None, calls: list[tuple[str, Any]]) -> str:
    """A step's text and tool calls as the diff compares them."""
    lines = [content or ""] if content else []
    for name, arguments in calls:
        lines.append(f"→ {name}({json.dumps(arguments, indent=2, ensure_ascii=False)})")
    return "\n".join(lines)


class StepEditDialog(QDialog):
    """Edit one agent step; ``edited`` carries the label when accepted (Ctrl+Enter or OK)."""

    edited = Signal(int, object)
    """Step index, and its new :class:`StepLabel`."""

    def __init__(
        self, index: int, step: Step, label: StepLabel | None, spec: StepRubric, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Step #{index} as it should have been")
        self.index = index
        self.step = step
        self.spec = spec
        label = label or StepLabel()
        fixed = label.corrected
        self.original = step_text(step.content, [(c.name, c.arguments) for c in step.tool_calls])
        form = QFormLayout()
        self.verdict = QComboBox()
        for n, o in enumerate(spec.verdicts, start=1):
            self.verdict.addItem(f"{o.label}  (Ctrl+{n})", o.value)
        chosen = label.verdict or spec.wrong
        self.verdict.setCurrentIndex(max(0, self.verdict.findData(chosen)))
        form.addRow("Verdict", self.verdict)
        self.error_type = QComboBox()
        self.error_type.addItem("—", None)
        for o in spec.error_types:
            self.error_type.addItem(o.label, o.value)
        self.error_type.setCurrentIndex(max(0, self.error_type.findData(label.error_type)))
        form.addRow("Error type", self.error_type)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.content = QPlainTextEdit()
        self.content.setTabChangesFocus(True)
        self.content.setPlainText(fixed.content if fixed and fixed.content is not None
                                  else step.content or "")  # fmt: skip
        form.addRow("Text", self.content)
        self.calls: list[tuple[QLineEdit, QPlainTextEdit]] = []
        fixed_calls = fixed.tool_calls if fixed and fixed.tool_calls else None
        for n, call in enumerate(step.tool_calls):
            was = fixed_calls[n] if fixed_calls and n < len(fixed_calls) else None
            name = QLineEdit(was.name if was else call.name)
            arguments = QPlainTextEdit(
                json.dumps(was.arguments if was else call.arguments, indent=2, ensure_ascii=False)
            )
            arguments.setTabChangesFocus(True)
            arguments.setFont(mono)
            form.addRow(f"Tool call {n + 1}", name)
            form.addRow("Arguments (JSON)", arguments)
            self.calls.append((name, arguments))
        self.problem = plain_label()
        self.problem.setStyleSheet("color: #c62828;")
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setFont(mono)
        self.diff.setMinimumHeight(120)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(plain_label("Diff to what the agent did:"))
        layout.addWidget(self.diff, 1)
        layout.addWidget(self.buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self._accept)
        self.content.textChanged.connect(self._refresh)
        for name, arguments in self.calls:
            name.textChanged.connect(self._refresh)
            arguments.textChanged.connect(self._refresh)
        self.resize(640, 560)
        self._refresh()
        self.content.setFocus(Qt.FocusReason.OtherFocusReason)

    def label(self) -> StepLabel | str:
        """The label as edited, or why it cannot be taken (a one-line problem)."""
        calls: list[CorrectedToolCall] = []
        for n, (name, arguments) in enumerate(self.calls, start=1):
            if not name.text().strip():
                return f"tool call {n}: the name is empty"
            try:
                parsed = json.loads(arguments.toPlainText() or "{}")
            except json.JSONDecodeError as exc:
                return f"tool call {n}: arguments are not JSON ({exc.msg}, line {exc.lineno})"
            if not isinstance(parsed, dict):
                return f"tool call {n}: arguments must be a JSON object"
            calls.append(CorrectedToolCall(name=name.text().strip(), arguments=parsed))
        text = self.content.toPlainText()
        original_calls = [(c.name, c.arguments) for c in self.step.tool_calls]
        changed = step_text(text, [(c.name, c.arguments) for c in calls]) != step_text(
            self.step.content, original_calls
        )
        corrected = None
        if changed:
            corrected = StepCorrection(content=text if text.strip() else None, tool_calls=calls)
        return StepLabel(
            verdict=self.verdict.currentData(),
            error_type=self.error_type.currentData(),
            corrected=corrected,
        )

    def _refresh(self) -> None:
        result = self.label()
        ok = not isinstance(result, str)
        self.problem.setText("" if ok else str(result))
        self.problem.setVisible(not ok)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        if isinstance(result, StepLabel):
            fixed = result.corrected
            after = (
                step_text(fixed.content, [(c.name, c.arguments) for c in fixed.tool_calls])
                if fixed
                else self.original
            )
            diff = difflib.unified_diff(
                self.original.splitlines(), after.splitlines(), "agent", "corrected", lineterm=""
            )
            self.diff.setPlainText("\n".join(diff) or "(no change to the step)")

    def _accept(self) -> None:
        result = self.label()
        if isinstance(result, str):
            return  # the problem is shown; the dialog stays
        self.edited.emit(self.index, result)
        self.accept()
