"""Synthetic agent sessions for demos, tests and benchmarks."""
