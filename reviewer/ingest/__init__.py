"""Importers: one module per input format, content-based detection, a streaming pipeline."""
