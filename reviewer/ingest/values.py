"""Reading loosely typed values that exporters write in many ways."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """A UTC datetime from ISO-8601 text (`Z` accepted) or epoch seconds / milliseconds;
    None for anything else, including the text "None"."""
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            n = float(value)
            return datetime.fromtimestamp(n / 1000 if n > 1e11 else n, tz=UTC)
        if isinstance(value, str):
            t = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None
