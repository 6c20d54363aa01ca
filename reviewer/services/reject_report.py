"""The reject report of an import (JSON Lines), bounded whatever the number of bad records:
the first :data:`IN_FULL` rejects in full, then counts by reason."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import BinaryIO

import orjson

IN_FULL = 1000
"""Rejected records written in full (file, line, reason); the rest are counted by reason."""
REASON_CHARS = 500
"""A reason longer than this is cut (reasons are one line, usually far shorter)."""
KINDS = 100
"""Distinct reasons counted one by one; any further ones are counted together."""
OTHER_REASONS = "other reasons"
MAX_BYTES = (IN_FULL + KINDS + 1) * (REASON_CHARS + 4200)
"""The most a report can take (about 4.8 MB, with file paths up to 4,096 bytes)."""
RESERVE_BYTES = 16_000_000
"""Free space a report leaves on its disk at least; with less, no report is written."""

_NUMBERS = re.compile(r"\d+")


def reason_kind(reason: str) -> str:
    """The reason with its numbers (line, column, offset, sizes) left out: one kind of fault."""
    return _NUMBERS.sub("N", reason)


class RejectReport:
    """Writes rejected records to ``path`` as they come; :meth:`close` appends one line per
    file and kind of reason beyond the first :data:`IN_FULL`: ``{"file", "line": null,
    "reason", "not_listed": n}``. A disk too full for the report (or one that fills up)
    never stops the import: ``problem`` says what happened."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem: str | None = None
        self.written = 0
        self._out: BinaryIO | None = None
        self._counts: Counter[tuple[str, str]] = Counter()

    def open(self) -> None:
        folder = self.path.parent
        try:
            free = shutil.disk_usage(folder).free
            if free < MAX_BYTES + RESERVE_BYTES:
                self.problem = (
                    f"no reject report written: {free / 1e6:,.0f} MB free in {folder}, "
                    f"it needs {(MAX_BYTES + RESERVE_BYTES) / 1e6:,.0f} MB"
                )
                return
            self._out = self.path.open("wb")
        except OSError as exc:
            self.problem = f"no reject report written: {self.path}: {exc.strerror or exc}"

    def add(self, file: str, line: int | str | None, reason: str) -> None:
        if self._out is None:
            return
        if self.written < IN_FULL:
            self._write({"file": file, "line": line, "reason": reason[:REASON_CHARS]})
            self.written += 1
            return
        kind = reason_kind(reason[:REASON_CHARS])
        key = (file, kind)
        if key not in self._counts and len(self._counts) >= KINDS:
            key = (file, OTHER_REASONS)
        self._counts[key] += 1

    def close(self) -> None:
        if self._out is None:
            return
        for (file, kind), n in self._counts.items():
            self._write({"file": file, "line": None, "reason": kind, "not_listed": n})
        try:
            self._out.close()
        except OSError as exc:
            self._failed(exc)
        self._out = None

    def _write(self, record: dict[str, object]) -> None:
        assert self._out is not None
        try:
            self._out.write(orjson.dumps(record) + b"\n")
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        self.problem = f"the reject report {self.path} is incomplete: {exc.strerror or exc}"
        out, self._out = self._out, None
        if out is not None:
            with contextlib.suppress(OSError):  # the same full disk: what was written stays
                out.close()
