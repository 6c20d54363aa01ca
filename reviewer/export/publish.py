"""Putting an export in place: its data and its manifest, both complete or neither.

The data is written (hashed and counted as it goes) to a partial file beside the target;
then the manifest, which records the data's size and digest; only then are both renamed
into place (:mod:`reviewer.atomic`). A failed or cancelled export leaves the target as it
was, and no partial file behind.
"""

from __future__ import annotations

import gc
import hashlib
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from reviewer.atomic import AtomicFile, fsync_dir
from reviewer.export.manifest import MANIFEST_SUFFIX, DataFile, ExportManifest

__all__ = ["HashingFile", "gc_paused", "manifest_path_for", "publish"]


def manifest_path_for(out: Path) -> Path:
    return out.with_name(out.name + MANIFEST_SUFFIX)


class HashingFile(io.RawIOBase):
    """A write-only file that hashes (SHA-256) and counts what goes through to ``raw``."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.sha256.update(view)
        self.size += len(view)
        self.raw.write(view)
        return len(view)

    def tell(self) -> int:
        return self.size

    def restart(self) -> None:
        """Empty the file: what was written is forgotten."""
        self.raw.seek(0)
        self.raw.truncate()
        self.sha256 = hashlib.sha256()
        self.size = 0

    def flush(self) -> None:
        self.raw.flush()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while rows stream through (it would walk every chunk
    again and again; the rows hold no cycles, reference counting frees them)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def publish(
    out: Path,
    write: Callable[[HashingFile], None],
    describe: Callable[[DataFile], ExportManifest],
) -> ExportManifest:
    """Write the data with ``write`` to a partial file beside ``out``, then its manifest
    (``describe`` gets the data file's size and digest), and put both in place only once
    both are complete; on any failure neither is left behind."""
    manifest_path = manifest_path_for(out)
    with AtomicFile(out) as data:
        with gc_paused():
            f = HashingFile(data.file)
            write(f)
            data.finish()
        manifest = describe(DataFile(file=out.name, bytes=f.size, sha256=f.sha256.hexdigest()))
        with AtomicFile(manifest_path) as m:
            m.file.write(
                orjson.dumps(
                    manifest.model_dump(mode="json", by_alias=True),
                    option=orjson.OPT_INDENT_2,
                )
                + b"\n"
            )
            m.finish()
            # Old manifest first: at no point does a manifest describe data it does not match.
            manifest_path.unlink(missing_ok=True)
            data.commit(sync_dir=False)
            m.commit(sync_dir=False)
        fsync_dir(out.parent)
    return manifest
