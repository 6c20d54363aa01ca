"""Throwaway PostgreSQL databases on the local server (team mode), when one is reachable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def temporary_database(prefix: str = "reviewer_test") -> Iterator[str | None]:
    """A fresh database's URL, dropped afterwards; None when no server answers."""
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError:
        admin.dispose()
        yield None
        return
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
