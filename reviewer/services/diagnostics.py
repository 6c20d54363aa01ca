"""What a bug report needs: versions, platform, SQLite, recent errors — never session content,
workspace paths or credentials."""

from __future__ import annotations

import importlib
import platform
import re
import sqlite3
import sys
from collections import deque
from importlib import metadata

from reviewer import __version__
from reviewer.logs import log_dir
from reviewer.secrets import mask_secrets

PACKAGES = (
    "PySide6-Essentials",
    "SQLAlchemy",
    "alembic",
    "pydantic",
    "orjson",
    "pandas",
    "pyarrow",
)
RECENT = 20
"""Warning and error lines of the log included (the newest)."""
WAL_RESET_FIXED = ((3, 51, 3), (3, 50, 7), (3, 44, 6))

_HOME = re.compile(r"(/home/|/Users/)[^/\s]+")


_MODULES = {"PySide6-Essentials": "PySide6", "SQLAlchemy": "sqlalchemy"}


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        pass  # a frozen build carries modules without their metadata
    try:
        module = importlib.import_module(_MODULES.get(pkg, pkg))
    except ImportError:
        return "not installed"
    return str(getattr(module, "__version__", "unknown"))


def wal_reset_fixed(version: tuple[int, ...] = sqlite3.sqlite_version_info) -> bool:
    """Whether this SQLite has the WAL-reset fix (3.51.3+, or the 3.50.7 / 3.44.6 backports)."""
    for fixed in WAL_RESET_FIXED:
        if version[:2] == fixed[:2]:
            return version >= fixed
    return version >= WAL_RESET_FIXED[0]


def scrub(line: str) -> str:
    """A log line with passwords in URLs and home folder names masked."""
    return _HOME.sub(r"\1~", mask_secrets(line))


def recent_problems(limit: int = RECENT) -> list[str]:
    path = log_dir() / "reviewer.log"
    if not path.is_file():
        return []
    keep: deque[str] = deque(maxlen=limit)
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if " WARNING " in line or " ERROR " in line or " CRITICAL " in line:
                keep.append(scrub(line.rstrip("\n"))[:500])
    return list(keep)


def report(extra: dict[str, str] | None = None) -> str:
    """The diagnostics as plain text, ready to paste into a bug report."""
    sqlite_line = (
        f"{sqlite3.sqlite_version} (WAL-reset fix: "
        + ("yes" if wal_reset_fixed() else "no; the app never runs unlocked checkpoints")
        + ")"
    )
    lines = [
        f"AgentOps Reviewer {__version__}",
        f"Python {platform.python_version()} ({sys.implementation.name})",
        f"Platform {platform.platform()}",
        f"SQLite {sqlite_line}",
    ]
    lines += [f"{pkg} {_version(pkg)}" for pkg in PACKAGES]
    lines += [f"{k} {v}" for k, v in (extra or {}).items()]
    problems = recent_problems()
    lines.append(f"Recent warnings and errors ({len(problems)}):")
    lines += [f"  {p}" for p in problems] or ["  none"]
    return "\n".join(lines)
