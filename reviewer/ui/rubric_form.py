"""The rubric form: one group per dimension, driven by keyboard first.

Keys (while no text field has focus): ``1``–``9`` pick the n-th option of the active
dimension and move on; a failure tag's letter toggles it; ``[`` and ``]`` move the
failure-step mark. ``Tab`` / ``Shift+Tab`` move between dimensions everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QGroupBox,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.review import Review, StepLabel
from reviewer.domain.rubric import Dimension, DimensionKind, Rubric
from reviewer.domain.suggestions import Suggestion, take_offered
from reviewer.ui.messages import plain_label

Values = dict[str, Any]


@dataclass
class FormState:
    values: Values = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    failure_step: int | None = None
    """The step cursor (the failure step when no step has a verdict)."""
    steps: dict[int, StepLabel] = field(default_factory=dict)

    def copy(self) -> FormState:
        return FormState(
            {k: list(v) if isinstance(v, list) else v for k, v in self.values.items()},
            dict(self.details),
            self.failure_step,
            dict(self.steps),
        )


class _DimensionBox(QGroupBox):
    """The widgets of one dimension."""

    def __init__(self, dim: Dimension, number: int, on_change: Callable[[], None]) -> None:
        super().__init__()
        self.dim = dim
        self.number = number
        self.buttons: list[QAbstractButton] = []
        self.group: QButtonGroup | None = None
        self.text: QPlainTextEdit | None = None
        self.detail: QLineEdit | None = None
        self.reset: QPushButton | None = None
        self._title = f"{dim.label}{' *' if dim.required else ''}"
        self.setTitle(self._title)
        self.setToolTip(dim.description)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 6)
        layout.setSpacing(2)
        self.suggestion = plain_label()
        self.suggestion.setTextFormat(Qt.TextFormat.PlainText)
        self.suggestion.setWordWrap(True)
        self.suggestion.setStyleSheet("color: #1f5fa8;")
        self.suggestion.hide()
        layout.addWidget(self.suggestion)
        kind = dim.kind
        if kind in (DimensionKind.ORDINAL, DimensionKind.CHOICE, DimensionKind.BOOLEAN):
            self.group = QButtonGroup(self)
            self.group.setExclusive(False)  # so a choice can be cleared by undo
            options = (
                [("true", "Yes"), ("false", "No")]
                if kind is DimensionKind.BOOLEAN
                else [(o.value, o.label) for o in dim.options]
            )
            for i, (value, label) in enumerate(options):
                label = label.removeprefix(f"{value} · ")  # the key shows the number already
                b = QRadioButton(f"[{i + 1}]  {label}" if i < 9 else label)
                b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                if kind is not DimensionKind.BOOLEAN:
                    b.setToolTip(dim.options[i].description)
                self.group.addButton(b, i)
                self.buttons.append(b)
                layout.addWidget(b)
            self.group.idClicked.connect(lambda i: self._exclusive(i, on_change))
            if dim.detail_label:
                self.detail = QLineEdit()
                self.detail.setPlaceholderText(dim.detail_label)
                self.detail.textEdited.connect(lambda _t: on_change())
                layout.addWidget(self.detail)
        elif kind is DimensionKind.MULTI_SELECT:
            for o in dim.options:
                key = f"[{o.hotkey}]  " if o.hotkey else ""
                check = QCheckBox(f"{key}{o.label}")
                check.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                check.setToolTip(o.description)
                check.toggled.connect(lambda _c: on_change())
                self.buttons.append(check)
                layout.addWidget(check)
        else:
            self.text = QPlainTextEdit()
            self.text.setTabChangesFocus(True)
            self.text.setPlaceholderText(dim.description)
            self.text.setMinimumHeight(60 if kind is DimensionKind.TEXT else 110)
            self.text.textChanged.connect(on_change)
            layout.addWidget(self.text)
            if kind is DimensionKind.CORRECTED_RESPONSE:
                self.reset = QPushButton("Reset to the agent's answer")
                self.reset.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                layout.addWidget(self.reset, alignment=Qt.AlignmentFlag.AlignRight)

    def _exclusive(self, checked_id: int, on_change: Callable[[], None]) -> None:
        for i, b in enumerate(self.buttons):
            if i != checked_id:
                b.setChecked(False)
        on_change()

    def set_active(self, active: bool) -> None:
        self.setTitle(("▶ " if active else "") + self._title)
        font = self.font()
        font.setBold(active)
        self.setFont(font)
        for w in (*self.buttons, self.text, self.detail):
            if w is not None:
                wf = w.font()
                wf.setBold(False)
                w.setFont(wf)

    def show_suggestion(self, s: Suggestion | None) -> None:
        """The judge's verdict beside the dimension (its explanation on hover)."""
        if s is None:
            self.suggestion.hide()
            return
        shown = s.shown_value
        if s.offered is not None and self.dim.kind is not DimensionKind.BOOLEAN:
            option = self.dim.option(str(s.offered))
            if option is not None and option.label:
                shown = option.label.removeprefix(f"{option.value} · ")
        take = "   (Enter takes it)" if s.offered is not None else "   (not an option here)"
        self.suggestion.setText(f"Judge {s.judge}: {shown}{take}")
        self.suggestion.setToolTip(s.judgement.explanation or "No explanation given")
        self.suggestion.show()

    def option_values(self) -> list[Any]:
        if self.dim.kind is DimensionKind.BOOLEAN:
            return [True, False]
        return [o.value for o in self.dim.options]


class RubricForm(QScrollArea):
    """Shows a review's values in a rubric's form and reports every change."""

    changed = Signal()
    """The reviewer changed something (the window autosaves it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(300)
        self.rubric: Rubric | None = None
        self.final_answer: str = ""
        self.boxes: list[_DimensionBox] = []
        self.active = 0
        self._loading = False
        self._undo: list[FormState] = []
        self._last = FormState()
        self.suggestions: dict[str, Suggestion] = {}
        """The judges' suggestions shown for the open session, by dimension."""
        self._body = QWidget()
        self._layout = QVBoxLayout(self._body)
        self._layout.setContentsMargins(6, 6, 6, 6)
        self.title = plain_label("No session open")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        self.problem = plain_label()
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c62828;")
        self.problem.hide()
        self.step_label = plain_label()
        self.step_label.setTextFormat(Qt.TextFormat.PlainText)
        self.step_label.setWordWrap(True)
        self.steps_label = plain_label()
        self.steps_label.setTextFormat(Qt.TextFormat.PlainText)
        self.steps_label.setWordWrap(True)
        self.status_label = plain_label()
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self._layout.addWidget(self.title)
        self._layout.addWidget(self.problem)
        self._dims_at = self._layout.count()
        self._layout.addWidget(self.step_label)
        self._layout.addWidget(self.steps_label)
        self._layout.addStretch(1)
        self._layout.addWidget(self.status_label)
        self.setWidget(self._body)
        self.setEnabled(False)

    # Building
    def set_rubric(self, rubric: Rubric) -> None:
        if self.rubric is not None and self.rubric == rubric:
            return
        for box in self.boxes:
            self._layout.removeWidget(box)
            box.deleteLater()
        self.rubric = rubric
        self.boxes = []
        for n, dim in enumerate(rubric.dimensions):
            box = _DimensionBox(dim, n, self._user_changed)
            if box.reset is not None:
                box.reset.clicked.connect(self._reset_corrected)
            self._layout.insertWidget(self._dims_at + n, box)
            self.boxes.append(box)

    def load(self, rubric: Rubric, review: Review, final_answer: str | None, title: str) -> None:
        """Show ``review`` (its values, details and failure step) for editing."""
        self.set_rubric(rubric)
        self.final_answer = final_answer or ""
        self.title.setText(title)
        self._undo.clear()
        state = FormState(
            dict(review.values), dict(review.details), review.failure_step, dict(review.steps)
        )
        cr = rubric.corrected_response
        if cr is not None and not state.values.get(cr.name):
            state.values.pop(cr.name, None)
        self._apply(state)
        self._last = self.state()
        self.show_problem(None)
        self.setEnabled(True)
        self.set_active(self._first_unanswered())

    def set_suggestions(self, suggestions: dict[str, Suggestion]) -> None:
        """Show the judges' suggestions (none in a blind batch)."""
        self.suggestions = suggestions
        for box in self.boxes:
            box.show_suggestion(suggestions.get(box.dim.name))

    def take_suggestions(self) -> bool:
        """Enter: every offered suggestion for a dimension still unset (one undo step)."""
        if not self.isEnabled():
            return False
        before = self.state()
        values = take_offered(before.values, self.suggestions)
        if values == before.values:
            return False
        self._undo.append(self._last.copy())
        self._apply(FormState(values, before.details, before.failure_step, before.steps))
        self.show_problem(None)
        unset = [
            i for i, b in enumerate(self.boxes) if b.group is not None and b.dim.name not in values
        ]
        tags = [i for i, b in enumerate(self.boxes) if b.dim.kind is DimensionKind.MULTI_SELECT]
        self.set_active((unset or tags or [self.active])[0])  # on to what is left to do
        self.changed.emit()
        return True

    def clear(self) -> None:
        self.title.setText("No session open")
        self.setEnabled(False)

    # State
    def state(self) -> FormState:
        values: Values = {}
        details: dict[str, str] = {}
        for box in self.boxes:
            dim = box.dim
            if box.text is not None:
                text = box.text.toPlainText()
                if dim.kind is DimensionKind.CORRECTED_RESPONSE:
                    if text.strip() and text.strip() != self.final_answer.strip():
                        values[dim.name] = text
                elif text.strip():
                    values[dim.name] = text
            elif dim.kind is DimensionKind.MULTI_SELECT:
                values[dim.name] = [
                    o.value for o, b in zip(dim.options, box.buttons, strict=True) if b.isChecked()
                ]
            else:
                for value, b in zip(box.option_values(), box.buttons, strict=True):
                    if b.isChecked():
                        values[dim.name] = value
            if box.detail is not None and box.detail.text().strip():
                details[dim.name] = box.detail.text()
        return FormState(values, details, self._last.failure_step, dict(self._last.steps))

    def _apply(self, state: FormState) -> None:
        self._loading = True
        try:
            for box in self.boxes:
                dim = box.dim
                v = state.values.get(dim.name)
                if box.text is not None:
                    if dim.kind is DimensionKind.CORRECTED_RESPONSE and not v:
                        v = self.final_answer
                    if box.text.toPlainText() != (v or ""):
                        box.text.setPlainText(v if isinstance(v, str) else "")
                elif dim.kind is DimensionKind.MULTI_SELECT:
                    chosen = set(v) if isinstance(v, list) else set()
                    for o, b in zip(dim.options, box.buttons, strict=True):
                        b.setChecked(o.value in chosen)
                else:
                    for value, b in zip(box.option_values(), box.buttons, strict=True):
                        b.setChecked(v is not None and value == v)
                if box.detail is not None:
                    box.detail.setText(state.details.get(dim.name, ""))
            self._last = state.copy()
            self._show_step(state.failure_step)
            self._show_steps()
        finally:
            self._loading = False

    def _user_changed(self) -> None:
        if self._loading:
            return
        before = self._last
        now = self.state()
        if now.values == before.values and now.details == before.details:
            return
        if _non_text(now, self.boxes) != _non_text(before, self.boxes):
            self._undo.append(before.copy())
        self._last = now
        self.show_problem(None)
        self.changed.emit()

    def undo(self) -> bool:
        """Undo the last change of a choice, tag or failure step; False when none is left."""
        if not self._undo:
            return False
        previous = self._undo.pop()
        text_now = {
            b.dim.name: self._last.values.get(b.dim.name) for b in self.boxes if b.text is not None
        }
        for name, v in text_now.items():  # text fields keep their own undo
            if v is None:
                previous.values.pop(name, None)
            else:
                previous.values[name] = v
        self._apply(previous)
        self.changed.emit()
        return True

    # Failure step
    @property
    def failure_step(self) -> int | None:
        return self._last.failure_step

    def set_failure_step(self, step: int | None) -> None:
        if step == self._last.failure_step:
            return
        self._undo.append(self._last.copy())
        self._last.failure_step = step
        self._show_step(step)
        self.changed.emit()

    @property
    def steps(self) -> dict[int, StepLabel]:
        return self._last.steps

    def set_step_label(self, step: int, label: StepLabel | None) -> None:
        """Give ``step`` this verdict, error type and correction (None: clear them)."""
        now = self._last.steps.get(step)
        if label == now or (label is None and now is None):
            return
        self._undo.append(self._last.copy())
        steps = dict(self._last.steps)
        if label is None or label == StepLabel():
            steps.pop(step, None)
        else:
            steps[step] = label
        self._last.steps = steps
        self._show_steps()
        self.show_problem(None)
        self.changed.emit()

    def set_step_verdict(self, step: int, number: int) -> bool:
        """Ctrl+``number``: the rubric's ``number``-th step verdict for ``step``."""
        spec = self.rubric.steps if self.rubric is not None else None
        if not self.isEnabled() or spec is None or not 1 <= number <= len(spec.verdicts):
            return False
        now = self._last.steps.get(step) or StepLabel()
        self.set_step_label(
            step, now.model_copy(update={"verdict": spec.verdicts[number - 1].value})
        )
        return True

    def _show_steps(self) -> None:
        spec = self.rubric.steps if self.rubric is not None else None
        if spec is None:
            self.steps_label.hide()
            return
        parts = []
        for i, label in sorted(self._last.steps.items()):
            verdict = spec.verdict(label.verdict) if label.verdict else None
            text = f"#{i} {verdict.label if verdict else '—'}"
            extra = []
            error = spec.error_type(label.error_type) if label.error_type else None
            if error is not None:
                extra.append(error.label)
            if label.corrected is not None:
                extra.append("corrected")
            parts.append(text + (f" ({', '.join(extra)})" if extra else ""))
        keys = "/".join(str(n) for n in range(1, len(spec.verdicts) + 1))
        self.steps_label.setText(
            "Step verdicts: "
            + ("; ".join(parts) if parts else "none yet")
            + f"   (Ctrl+{keys} on the step cursor; Ctrl+E edits it as it should have been)"
        )
        self.steps_label.show()

    def _show_step(self, step: int | None) -> None:
        self.step_label.setText(
            "Went wrong at: "
            + (f"step #{step}" if step is not None else "—")
            + "   (click a step card; [ and ] move the mark; \\ clears it)"
        )

    # Keyboard
    def set_active(self, index: int) -> None:
        if not self.boxes:
            return
        self.active = index % len(self.boxes)
        for i, box in enumerate(self.boxes):
            box.set_active(i == self.active)
        box = self.boxes[self.active]
        self.ensureWidgetVisible(box)
        if box.text is not None:
            box.text.setFocus()
        elif self.focusWidget() is not None and isinstance(
            self.focusWidget(), QPlainTextEdit | QLineEdit
        ):
            self.setFocus()

    def next_dimension(self, step: int = 1) -> None:
        self.set_active(self.active + step)

    def pick(self, number: int) -> bool:
        """Pick the ``number``-th option (1-based) of the active dimension."""
        if not self.isEnabled() or not self.boxes:
            return False
        box = self.boxes[self.active]
        if not (1 <= number <= len(box.buttons)):
            return False
        b = box.buttons[number - 1]
        if box.dim.kind is DimensionKind.MULTI_SELECT:
            b.toggle()
            return True
        if not b.isChecked():
            b.click()
        if self.active < len(self.boxes) - 1:
            self.set_active(self.active + 1)
        return True

    def toggle_tag(self, key: str) -> bool:
        """Toggle the failure tag whose hotkey is ``key``."""
        if not self.isEnabled():
            return False
        for box in self.boxes:
            if box.dim.kind is not DimensionKind.MULTI_SELECT:
                continue
            for o, b in zip(box.dim.options, box.buttons, strict=True):
                if o.hotkey and o.hotkey.lower() == key.lower():
                    b.toggle()
                    return True
        return False

    def show_problem(self, text: str | None) -> None:
        self.problem.setText(text or "")
        self.problem.setVisible(bool(text))

    def focus_dimension(self, label: str) -> None:
        for i, box in enumerate(self.boxes):
            if box.dim.label == label:
                self.set_active(i)
                return

    def _first_unanswered(self) -> int:
        values = self._last.values
        for i, box in enumerate(self.boxes):
            if box.group is not None and values.get(box.dim.name) is None:
                return i
        return 0

    def _reset_corrected(self) -> None:
        for box in self.boxes:
            if box.dim.kind is DimensionKind.CORRECTED_RESPONSE and box.text is not None:
                box.text.setPlainText(self.final_answer)


def _non_text(state: FormState, boxes: list[_DimensionBox]) -> tuple[Any, ...]:
    texts = {b.dim.name for b in boxes if b.text is not None}
    return (
        sorted((k, repr(v)) for k, v in state.values.items() if k not in texts),
        sorted(state.details.items()),
        state.failure_step,
    )
