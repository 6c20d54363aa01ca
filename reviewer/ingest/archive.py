"""Reading zip archives (Inspect `.eval` logs, review packs) without trusting them:
nothing is extracted to disk, and unsafe or oversized entries are refused."""

from __future__ import annotations

import stat
import zipfile
import zlib
from itertools import pairwise
from pathlib import Path, PurePosixPath

MAX_RATIO = 100
"""Refuse entries that expand more than this many times (zip bombs)."""


DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError)
"""What zipfile raises for an entry whose bytes are damaged (or compressed in a way we cannot
read): bad CRC, bad compressed data, a size field that lies, a truncated file."""


class ArchiveError(ValueError):
    """The archive is unsafe or damaged; one line for the user."""


def _check(info: zipfile.ZipInfo, max_entry_bytes: int) -> None:
    name = info.filename
    parts = PurePosixPath(name).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise ArchiveError(f"unsafe entry name {name!r}")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ArchiveError(f"entry {name!r} is a symbolic link")
    if info.file_size > max_entry_bytes:
        raise ArchiveError(f"entry {name!r} is larger than {max_entry_bytes:,} bytes")
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        raise ArchiveError(f"entry {name!r} expands more than {MAX_RATIO}× (a zip bomb?)")


LOCAL_HEADER = 30
"""Fixed size of a zip local file header, before its name and extra field."""


def _no_overlaps(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse entries whose data share bytes (a crafted archive: one blob, many entries)."""
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for a, b in pairwise(ordered):
        end = a.header_offset + LOCAL_HEADER + len(a.filename.encode()) + a.compress_size
        if b.header_offset < end:
            raise ArchiveError(f"entries {a.filename!r} and {b.filename!r} overlap")


class SafeZip:
    """A checked view of a zip file: every entry vetted before anything is read."""

    def __init__(self, path: Path, max_entry_bytes: int) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArchiveError(f"not a readable zip archive ({exc})") from None
        self.max_entry_bytes = max_entry_bytes
        seen: set[str] = set()
        for info in self._zip.infolist():
            _check(info, max_entry_bytes)
            if info.filename in seen:
                raise ArchiveError(f"entry {info.filename!r} appears twice")
            seen.add(info.filename)
        _no_overlaps(self._zip.infolist())
        self.names = sorted(seen)

    def read(self, name: str) -> bytes:
        """The entry's bytes; a damaged entry (bad CRC, bad compressed data, a size field
        that lies, a truncated file) raises :class:`ArchiveError`."""
        try:
            with self._zip.open(name) as f:
                data = f.read(self.max_entry_bytes + 1)
        except DAMAGED as exc:
            raise ArchiveError(f"entry {name!r} is damaged ({exc or type(exc).__name__})") from None
        if len(data) > self.max_entry_bytes:
            raise ArchiveError(f"entry {name!r} is larger than it claims")
        return data

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
