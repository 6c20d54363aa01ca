"""Logging to a rotating file in the user's log folder (never session content)."""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from platformdirs import user_log_path

from reviewer.secrets import mask_secrets

LOG_ENV = "AGENTOPS_REVIEWER_LOG_DIR"
_configured = False


def log_dir() -> Path:
    override = os.environ.get(LOG_ENV)
    return Path(override) if override else user_log_path("agentops-reviewer", appauthor=False)


class MaskingFormatter(logging.Formatter):
    """Formats as usual, then masks passwords (in the message and any traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Send our log records to ``reviewer.log`` (1 MB × 5 files). Safe to call twice."""
    global _configured
    path = log_dir() / "reviewer.log"
    if _configured:
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    except OSError:
        return None  # a read-only home must not stop the app
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("reviewer")
    logger.addHandler(handler)
    logger.setLevel(level)
    _configured = True
    return path
