"""The preference form of a pair: which side is better, per-dimension choices, a rationale."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.preference import WINNER_KEYS, Winner

LABELS = {
    Winner.LEFT: "Left is better",
    Winner.RIGHT: "Right is better",
    Winner.TIE: "Tie",
    Winner.BOTH_BAD: "Both bad",
}


class PairForm(QWidget):
    """Keys 1–4 pick the winner (through :meth:`pick`); every change emits :attr:`changed`."""

    changed = Signal()
    """The reviewer changed the winner, a dimension or the rationale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._filling = False
        self.group = QButtonGroup(self)
        self.buttons: dict[Winner, QRadioButton] = {}
        box = QGroupBox("Which is better?")
        bv = QVBoxLayout(box)
        for key, winner in WINNER_KEYS.items():
            button = QRadioButton(f"{key}  {LABELS[winner]}")
            self.group.addButton(button)
            self.buttons[winner] = button
            bv.addWidget(button)
            button.toggled.connect(self._emit)
        self.dims_box = QGroupBox("Per dimension (optional)")
        self.dims_layout = QFormLayout(self.dims_box)
        self.dim_boxes: dict[str, QComboBox] = {}
        self.rationale = QPlainTextEdit()
        self.rationale.setPlaceholderText("Why (optional)")
        self.rationale.setMaximumHeight(120)
        self.rationale.textChanged.connect(self._emit)
        self.hint = QLabel("Keys: 1 left, 2 right, 3 tie, 4 both bad, Ctrl+Enter submit")
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addWidget(self.dims_box)
        layout.addWidget(QLabel("Rationale"))
        layout.addWidget(self.rationale)
        layout.addWidget(self.hint)
        layout.addStretch(1)

    def _emit(self, *_: object) -> None:
        if not self._filling:
            self.changed.emit()

    def set_dimensions(self, dims: list[tuple[str, str]]) -> None:
        if list(self.dim_boxes) == [n for n, _ in dims] and self.dim_boxes:
            return
        while self.dims_layout.rowCount():
            self.dims_layout.removeRow(0)
        self.dim_boxes = {}
        for name, label in dims:
            combo = QComboBox()
            combo.addItem("—", None)
            for winner, text in LABELS.items():
                combo.addItem(text, winner.value)
            combo.currentIndexChanged.connect(self._emit)
            self.dims_layout.addRow(label, combo)
            self.dim_boxes[name] = combo
        self.dims_box.setVisible(bool(dims))

    def fill(
        self,
        winner: Winner | None,
        dimensions: dict[str, Winner],
        rationale: str | None,
    ) -> None:
        """Show a stored preference (or an empty form) without emitting :attr:`changed`."""
        self._filling = True
        try:
            self.group.setExclusive(False)
            for w, button in self.buttons.items():
                button.setChecked(w == winner)
            self.group.setExclusive(True)
            for name, combo in self.dim_boxes.items():
                got = dimensions.get(name)
                combo.setCurrentIndex(combo.findData(got.value) if got else 0)
            self.rationale.setPlainText(rationale or "")
        finally:
            self._filling = False

    def pick(self, winner: Winner) -> None:
        self.buttons[winner].setChecked(True)

    @property
    def winner(self) -> Winner | None:
        for w, button in self.buttons.items():
            if button.isChecked():
                return w
        return None

    @property
    def dimensions(self) -> dict[str, Winner]:
        out = {}
        for name, combo in self.dim_boxes.items():
            data = combo.currentData()
            if data:
                out[name] = Winner(data)
        return out

    @property
    def rationale_text(self) -> str:
        return self.rationale.toPlainText()
