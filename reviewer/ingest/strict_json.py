"""What orjson reads silently but loses: a duplicated key (it keeps the last value) and an
integer beyond 64 bits (it becomes a float). Both are rejected: a record is imported exactly
as written or not at all.

A cheap test on the raw bytes and orjson's own output clears almost every record; only one
it cannot clear is read again by the standard library, which sees every key and integer."""

from __future__ import annotations

import json
from typing import Any

import orjson


class LossyRecord(ValueError):
    """The record holds what orjson would not read back exactly; the message says what."""


INT_MIN = -(2**63)
INT_MAX = 2**64 - 1
"""The integers orjson reads as integers (signed and unsigned 64 bits)."""
LONG_DIGITS = 19
"""Digits an integer needs at least to fall outside 64 bits."""

_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
"""A translation table: every digit to ``0``, everything else to a space."""


def needs_strict_check(data: bytes, value: Any) -> bool:
    """False when ``value`` (orjson's reading of ``data``) provably holds every key and
    integer of ``data``.

    Keys: every colon of ``data`` is a key's or one inside a string, and orjson writes
    ``value`` back with the same strings, so it writes as many colons unless a duplicated
    key's entry was dropped (then fewer) or a string spelled a colon ``\\u003a`` (then
    more: checked the slow way). Integers: one beyond 64 bits has 19 digits or more."""
    containers = type(value) is dict or type(value) is list
    if containers and (b"\\u003" in data or orjson.dumps(value).count(b":") != data.count(b":")):
        return True
    return LONG_DIGITS * b"0" in data.translate(_DIGITS)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise LossyRecord(f"duplicate key {key[:80]!r} in an object")
            seen.add(key)
    return obj


def _integer(text: str) -> int:
    n = int(text)
    if not INT_MIN <= n <= INT_MAX:
        raise LossyRecord(
            f"integer {text[:30]}{'…' if len(text) > 30 else ''} is beyond 64 bits"
            " (it would be stored rounded); write it as a string"
        )
    return n


def check_lossless(data: bytes, value: Any) -> None:
    """Raise :class:`LossyRecord` when ``data`` has a duplicated key or an integer beyond
    64 bits (what orjson read into ``value`` would differ from what is written)."""
    if not needs_strict_check(data, value):
        return
    json.loads(data, object_pairs_hook=_pairs, parse_int=_integer)
