"""What an export can be asked for, and what it reports: the export package's formats,
options and manifest as the UI sees them (the UI imports services, never ``export``).

Running an export is :func:`reviewer.services.exporting.export`.
"""

from __future__ import annotations

from reviewer.export.formats import FORMATS, ExportFormat
from reviewer.export.manifest import ExportManifest
from reviewer.export.options import DEFAULT_REQUIRE, ExportOptions

__all__ = ["DEFAULT_REQUIRE", "FORMATS", "ExportFormat", "ExportManifest", "ExportOptions"]
