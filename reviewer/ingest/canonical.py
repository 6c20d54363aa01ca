"""The canonical session JSONL (schemas/session.schema.json): lossless."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.domain import session_dict
from reviewer.domain.session import Session, Source

NAME = "canonical"


def looks_like(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and ("schema_version" in value or "steps" in value)
        and "messages" not in value
    )


def sessions(value: Any, file: str, line: int) -> Iterator[Session]:
    session = Session.model_validate(value)
    src = session.source
    if src.file is None or src.position is None:
        session.source = Source(
            format=src.format,
            file=src.file or file,
            position=src.position or str(line),
            ids=src.ids,
        )
    yield session


def fast_record(value: Any, file: str, line: int) -> session_dict.SessionDict | None:
    """The session of a record that :func:`looks_like` one, as a plain dict with its
    provenance filled in as :func:`sessions` does; None when ``Session`` itself should look
    at it (it is invalid: ``Session`` says why)."""
    try:
        record = session_dict.validate(value)
    except ValueError:  # pydantic's ValidationError, or a rule over several fields
        return None
    src = record["source"]
    if src["file"] is None or src["position"] is None:
        record["source"] = {
            **src,
            "file": src["file"] or file,
            "position": src["position"] or str(line),
        }
    return record
