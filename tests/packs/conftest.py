"""Pack tests keep opened packs in a throwaway user data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.services.packs import DATA_DIR_ENV


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "user-data"
    monkeypatch.setenv(DATA_DIR_ENV, str(path))
    return path
