"""A throwaway PostgreSQL database per test, where a server is reachable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.postgres import temporary_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on the local server, dropped afterwards."""
    with temporary_database("reviewer_team") as url:
        if url is None:
            pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
        yield url
