"""OpenTelemetry exporters writing OTLP/JSON files as a user's application would: each
finished span (or log record) is encoded with OpenTelemetry's own OTLP encoders and written
as one ``TracesData`` / ``LogsData`` JSON line (protobuf's JSON mapping), through a
``SimpleSpanProcessor``: one span per line, in the order they end (the root span last)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class _Lines:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, message: Any) -> None:
        line = json_format.MessageToJson(message, indent=None)
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")


class OtlpJsonSpanFile(SpanExporter):
    """Appends each batch of spans to ``path`` as one OTLP/JSON ``TracesData`` line."""

    def __init__(self, path: Path) -> None:
        self._out = _Lines(path)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self._out.write(encode_spans(spans))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


class OtlpJsonLogFile(LogRecordExporter):
    """Appends each batch of log records to ``path`` as one OTLP/JSON ``LogsData`` line."""

    def __init__(self, path: Path) -> None:
        self._out = _Lines(path)

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        self._out.write(encode_logs(batch))
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
