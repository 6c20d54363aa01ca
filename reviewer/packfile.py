"""Sealed zip files (review packs and results): entries hashed in a manifest that is
checksummed (damage) and authenticated with an HMAC under the pack's secret (tampering),
written atomically, read without trusting them (see ``reviewer.ingest.archive``)."""

from __future__ import annotations

import hashlib
import hmac
import zipfile
import zlib
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from reviewer.atomic import AtomicFile
from reviewer.domain.pack import (
    FORMAT_VERSION,
    MANIFEST_ENTRY,
    OLDEST_FORMAT_VERSION,
    is_entry_name,
)
from reviewer.ingest.archive import MAX_RATIO, ArchiveError, SafeZip

MAX_ENTRY_BYTES = 512 * 1024 * 1024
"""No entry of a pack or results file may expand beyond this (sessions are single entries)."""
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
"""Entry timestamps are fixed so the same content gives the same bytes."""


class PackFileError(ValueError):
    """A pack or results file is unreadable, damaged or of the wrong kind; one line."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def validation_line(exc: ValidationError) -> str:
    """The first problem pydantic found, as ``where: what``."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def manifest_checksum(raw: dict[str, Any]) -> str:
    """SHA-256 of a manifest without its ``checksum`` key, as sorted-key compact JSON."""
    body = {k: v for k, v in raw.items() if k != "checksum"}
    return sha256_hex(orjson.dumps(body, option=orjson.OPT_SORT_KEYS))


def manifest_mac(raw: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 under ``key`` of a manifest without its ``checksum`` and ``mac`` keys, as
    sorted-key compact JSON (what was parsed is what is authenticated)."""
    body = {k: v for k, v in raw.items() if k not in ("checksum", "mac")}
    return hmac.new(key, orjson.dumps(body, option=orjson.OPT_SORT_KEYS), "sha256").hexdigest()


def mac_matches(raw: dict[str, Any], key: bytes) -> bool:
    """Whether the manifest's ``mac`` is right for ``key`` (compared in constant time)."""
    mac = raw.get("mac")
    if not isinstance(mac, str) or not key:
        return False
    return hmac.compare_digest(mac.encode(), manifest_mac(raw, key).encode())


class SealedWriter:
    """Write entries, then :meth:`seal` with a manifest: the file appears only when sealed."""

    def __init__(self, out: Path) -> None:
        self.out = out
        out.parent.mkdir(parents=True, exist_ok=True)
        self._file = AtomicFile(out, mode=0o600)
        self._zip = zipfile.ZipFile(self._file.file, "w")
        self.entries: dict[str, str] = {}

    def add(self, name: str, data: bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
        info.external_attr = 0o644 << 16
        # Our own reader refuses entries expanding more than MAX_RATIO times (zip bombs):
        # store very repetitive content uncompressed rather than write an unreadable file.
        packed = len(zlib.compress(data, 6)) if data else 1
        ratio_ok = len(data) / max(packed, 1) < MAX_RATIO / 2
        info.compress_type = zipfile.ZIP_DEFLATED if ratio_ok else zipfile.ZIP_STORED
        self._zip.writestr(info, data)
        self.entries[name] = sha256_hex(data)

    def seal(self, manifest: dict[str, Any], key: bytes) -> str:
        """Write the manifest (with entry hashes, its HMAC under ``key`` and checksum) and
        return the checksum."""
        manifest = {**manifest, "entries": dict(sorted(self.entries.items()))}
        manifest["mac"] = manifest_mac(manifest, key)
        manifest["checksum"] = manifest_checksum(manifest)
        info = zipfile.ZipInfo(MANIFEST_ENTRY, date_time=_FIXED_TIME)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(
            info, orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
        )
        self._zip.close()
        self._file.finish()
        return str(manifest["checksum"])

    def commit(self) -> None:
        """Move the sealed file into place (atomic on one filesystem)."""
        self._file.commit()

    def discard(self) -> None:
        self._zip.close()
        self._file.discard()


class SealedFile:
    """A verified sealed file: every entry matches the manifest's hashes and checksum, and
    holds only the entry names packs use. Its HMAC is checked by the caller, who knows the
    key (:func:`mac_matches`)."""

    def __init__(self, path: Path, expected_format: str, what: str) -> None:
        self.path = path
        try:
            self._zip = SafeZip(path, MAX_ENTRY_BYTES)
        except ArchiveError as exc:
            raise PackFileError(f"{path.name} is not a readable {what}: {exc}") from None
        try:
            self.manifest = self._verify(expected_format, what)
        except BaseException:
            self._zip.close()
            raise

    def _verify(self, expected_format: str, what: str) -> dict[str, Any]:
        name = self.path.name
        if MANIFEST_ENTRY not in self._zip.names:
            raise PackFileError(f"{name} is not a {what} (it has no {MANIFEST_ENTRY})")
        try:
            raw = orjson.loads(self._zip.read(MANIFEST_ENTRY))
        except (orjson.JSONDecodeError, ArchiveError) as exc:
            raise PackFileError(f"{name}: its manifest is damaged ({exc})") from None
        if not isinstance(raw, dict):
            raise PackFileError(f"{name}: its manifest is damaged (not a JSON object)")
        kind = raw.get("format")
        if kind != expected_format:
            raise PackFileError(
                f"{name} is {_describe(kind)}, not a {what}"
                if isinstance(kind, str)
                else f"{name} is not a {what}"
            )
        version = raw.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise PackFileError(
                f"{name} was written by a newer version of AgentOps Reviewer "
                f"(format version {version}); upgrade the app to read it"
            )
        if version < OLDEST_FORMAT_VERSION:
            raise PackFileError(
                f"{name} was written by an older version of AgentOps Reviewer (format version "
                f"{version}), before packs and results were authenticated, and is refused; "
                "make the reviewer a new pack with this version (`reviewer pack create`)"
            )
        unsafe = sorted(n for n in self._zip.names if not is_entry_name(n))
        if unsafe:
            raise PackFileError(f"{name} holds an entry not allowed in a {what}: {unsafe[0]!r}")
        if raw.get("checksum") != manifest_checksum(raw):
            raise PackFileError(f"{name} fails its checksum: the file was changed or damaged")
        entries = raw.get("entries")
        if not isinstance(entries, dict):
            raise PackFileError(f"{name} fails its checksum: it lists no entries")
        listed = sorted(n for n in entries if not isinstance(n, str) or not is_entry_name(n))
        if listed:
            raise PackFileError(f"{name} lists an entry not allowed in a {what}: {listed[0]!r}")
        extra = set(self._zip.names) - set(entries) - {MANIFEST_ENTRY}
        if extra:
            raise PackFileError(f"{name} holds entries its manifest does not list: {min(extra)}")
        for entry, digest in entries.items():
            if entry not in self._zip.names:
                raise PackFileError(f"{name} is incomplete: entry {entry} is missing")
            try:
                data = self._zip.read(entry)
            except (ArchiveError, zipfile.BadZipFile, zlib.error, OSError) as exc:
                raise PackFileError(f"{name}: entry {entry} is unreadable ({exc})") from None
            if sha256_hex(data) != digest:
                raise PackFileError(
                    f"{name} fails its checksum: entry {entry} was changed or damaged"
                )
        return raw

    def read(self, entry: str) -> bytes:
        """An entry's bytes (already verified against the manifest)."""
        data = self._zip.read(entry)
        if sha256_hex(data) != self.manifest["entries"].get(entry):
            raise PackFileError(f"{self.path.name}: entry {entry} changed while reading")
        return data

    def lines(self, entry: str) -> list[bytes]:
        return [ln for ln in self.read(entry).splitlines() if ln.strip()]

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SealedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _describe(kind: str) -> str:
    return {
        "agentops-reviewer-pack": "a review pack",
        "agentops-reviewer-results": "a results file",
    }.get(kind, f"a {kind!r} file")
