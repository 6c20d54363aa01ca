"""Workspace addresses on either database, and workspaces taken back to an older schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command

from reviewer.store import migrate
from reviewer.store.workspace import Workspace
from tests.helpers.postgres import temporary_database


@contextmanager
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database's URL, dropped afterwards; the test is skipped when no
    server answers."""
    with temporary_database() as url:
        if url is None:
            pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
        yield url


def sqlite_or_postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The body of a fixture parametrised "sqlite" / "postgres": a SQLite file's path, or a
    fresh PostgreSQL database's URL (:func:`postgres_url`)."""
    if request.param == "sqlite":
        yield str(tmp_path / "ws.sqlite")
        return
    with postgres_url() as url:
        yield url


BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""The params of a :func:`sqlite_or_postgres` fixture."""


def downgrade(ws: Workspace, revision: str) -> None:
    """Take ``ws`` back to schema ``revision``, as an older app would have left it."""
    with ws.engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
