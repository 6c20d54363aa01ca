"""Real Phoenix and MLflow servers for the whole test run (each started on first use)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connect import servers


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Server]:
    with servers.phoenix(tmp_path_factory.mktemp("phoenix")) as s:
        yield s


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Server]:
    with servers.mlflow(tmp_path_factory.mktemp("mlflow")) as s:
        yield s
