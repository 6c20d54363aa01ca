"""The committed JSON Schemas are what the models generate."""

from __future__ import annotations

from reviewer.schemas import SCHEMA_DIR, all_rendered


def test_committed_schemas_match_the_models() -> None:
    stale = [
        name
        for name, text in all_rendered().items()
        if not (SCHEMA_DIR / name).exists()
        or (SCHEMA_DIR / name).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"run `python -m reviewer.schemas` to update: {stale}"


def test_no_orphan_schema_files() -> None:
    on_disk = {p.name for p in SCHEMA_DIR.glob("*.json")}
    assert on_disk <= set(all_rendered())
