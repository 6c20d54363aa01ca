"""Files shipped with the app, loaded through importlib.resources."""

from __future__ import annotations

from importlib import resources

from reviewer.domain.rubric import Rubric


def read_bytes(name: str) -> bytes:
    return resources.files(__name__).joinpath(name).read_bytes()


def default_rubric() -> Rubric:
    return Rubric.model_validate_json(read_bytes("default_rubric.json"))
