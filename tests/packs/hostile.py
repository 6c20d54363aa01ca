"""Forging packs and results the way an attacker can: change anything, then seal again
(checksum and HMAC recomputed with the pack's own secret, which a reviewer holds)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from reviewer.packfile import (
    SealedFile,
    SealedWriter,
    manifest_checksum,
    manifest_mac,
)
from reviewer.store.tables import PackRow
from reviewer.store.workspace import Workspace


def pack_secret(pack: Path) -> bytes:
    with zipfile.ZipFile(pack) as z:
        return bytes.fromhex(orjson.loads(z.read("manifest.json"))["secret"])


def reseal_pack(
    src: Path, dest: Path, changes: dict[str, Any], *, raw: bytes | None = None
) -> Path:
    """A copy of a pack with manifest fields changed (or its manifest replaced by ``raw``),
    its checksum and HMAC made right again with the secret it carries."""
    with zipfile.ZipFile(src) as z:
        manifest = orjson.loads(raw if raw is not None else z.read("manifest.json"))
        entries = {n: z.read(n) for n in z.namelist() if n != "manifest.json"}
    manifest.update(changes)
    try:
        key = bytes.fromhex(manifest["secret"])
    except (KeyError, TypeError, ValueError):
        key = b"attacker"
    manifest["mac"] = manifest_mac(manifest, key)
    manifest["checksum"] = manifest_checksum(manifest)
    dest.unlink(missing_ok=True)
    with zipfile.ZipFile(dest, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
        z.writestr("manifest.json", orjson.dumps(manifest))
    return dest


def forge_results(
    src: Path,
    dest: Path,
    key: bytes,
    *,
    manifest: dict[str, object] | None = None,
    entries: dict[str, bytes] | None = None,
) -> Path:
    """A copy of a results file with changes, sealed again under ``key`` (the pack's secret
    for a reviewer who forges; any other key for a third party)."""
    with SealedFile(src, "agentops-reviewer-results", "results file") as f:
        fields = {**f.manifest, **(manifest or {})}
        data = {name: f.read(name) for name in f.manifest["entries"]}
    fields.pop("mac", None)
    writer = SealedWriter(dest)
    for name, blob in {**data, **(entries or {})}.items():
        writer.add(name, blob)
    writer.seal(fields, key)
    writer.commit()
    return dest


def files_outside(root: Path, data_dir: Path) -> dict[str, str]:
    """Every file under ``root`` but outside ``data_dir``: relative path → SHA-256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_relative_to(data_dir)
    }


def secret_for(lead: Workspace, results: Path) -> bytes:
    """The secret the lead's workspace keeps for the pack a results file answers (what the
    reviewer of that pack holds)."""
    with SealedFile(results, "agentops-reviewer-results", "results file") as f:
        pack_id = f.manifest["pack_id"]
    with lead.read() as s:
        secret = s.scalar(select(PackRow.secret).where(PackRow.pack_id == pack_id))
    assert secret is not None
    return bytes.fromhex(secret)
