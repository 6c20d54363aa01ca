"""The ``--where`` filter for services: parsing (``domain.filters``) and its SQL, which
lives in the store (:mod:`reviewer.store.filters`). Kept so existing imports work."""

from __future__ import annotations

from reviewer.domain.filters import FilterError, FilterSpec, parse_where
from reviewer.store.filters import apply_filter, condition, latest_session_ids

__all__ = [
    "FilterError",
    "FilterSpec",
    "apply_filter",
    "condition",
    "latest_session_ids",
    "parse_where",
]
