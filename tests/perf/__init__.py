"""Benchmarks (not part of the default test run). Run: python -m tests.perf [NAME...]"""
