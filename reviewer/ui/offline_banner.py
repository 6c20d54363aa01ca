"""The banner that says the workspace is out of reach, and retries while it is shown."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from reviewer.services.review_session import RETRY_OFFLINE_S, FlushOutcome


class OfflineBanner(QLabel):
    """An amber line above the bench, hidden while the workspace is reachable; while it is
    shown, ``retry`` (saving what was kept on this computer) runs every
    :data:`RETRY_OFFLINE_S` seconds."""

    def __init__(self, retry: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setContentsMargins(8, 6, 8, 6)
        self.setStyleSheet("background: #8a5a00; color: white;")
        self.hide()
        self._retry = QTimer(self)
        self._retry.setInterval(int(RETRY_OFFLINE_S * 1000))
        self._retry.timeout.connect(retry)

    def set_offline(self, offline: bool, message: str = "") -> None:
        if offline:
            self.setText(
                (message or "The workspace cannot be reached.")
                + f" Trying again every {RETRY_OFFLINE_S:.0f} s."
            )
            self.show()
            if not self._retry.isActive():
                self._retry.start()
        else:
            self.hide()
            self._retry.stop()

    def told(self, outcome: FlushOutcome, say: Callable[[str], None]) -> None:
        """After a retry of what was kept: ``say`` its notes, show or hide the banner."""
        for note in outcome.notes:
            say(note)
        if outcome.offline is not None:
            self.set_offline(outcome.offline, outcome.offline_message)

    def stop(self) -> None:
        """No more retries (the bench closes)."""
        self._retry.stop()
