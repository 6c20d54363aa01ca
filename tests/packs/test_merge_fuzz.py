"""Results files with arbitrary content that still pass their checksum (a buggy or
hostile client sealed them): merging refuses with one line, or merges what fits; nothing
else escapes, and a refused file changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.domain.pack import AUDIT_ENTRY, REVIEWS_ENTRY
from reviewer.domain.rubric import Rubric
from reviewer.services.merging import MergeError, merge_results
from reviewer.store.workspace import Workspace
from tests.packs.helpers import make_batch, reviews_state
from tests.packs.hostile import secret_for
from tests.packs.test_merge_rules import _forge, _results

_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "review",
                    "uid",
                    "sha256",
                    "base_sha256",
                    "history",
                    "values",
                    "status",
                    "reviewer",
                    "session_key",
                    "batch",
                    "at",
                    "actor",
                    "action",
                ]
            )
            | st.text(max_size=6),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bytes]:
    from reviewer.resources import default_rubric
    from reviewer.services.workspaces import init_workspace

    tmp = tmp_path_factory.mktemp("fuzz-merge")
    ws = init_workspace(tmp / "lead.sqlite")
    make_batch(ws, "b1", {"ana": range(3)}, items=3)
    results = _results(ws, default_rubric(), tmp, "ana", range(2), "ana")
    key = secret_for(ws, results)
    ws.close()
    assert ws.path is not None
    return ws.path, results, key


@settings(
    max_examples=60,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    reviews=st.lists(_json, max_size=4),
    audit=st.lists(_json, max_size=3),
    manifest=st.dictionaries(st.sampled_from(["reviews", "batch", "reviewer"]), _json),
)
def test_sealed_nonsense_is_refused_or_merged_never_crashes(
    genuine: tuple[Path, Path, bytes],
    tmp_path_factory: pytest.TempPathFactory,
    rubric: Rubric,
    reviews: list[Any],
    audit: list[Any],
    manifest: dict[str, Any],
) -> None:
    from reviewer.services.workspaces import open_existing
    from reviewer.store.migrate import backup_sqlite

    lead_path, results, key = genuine
    tmp = tmp_path_factory.mktemp("case")
    copy = backup_sqlite(lead_path, tmp / "lead.sqlite")
    forged = _forge(
        results,
        tmp / "forged.results",
        key,
        manifest=manifest,
        entries={
            REVIEWS_ENTRY: b"".join(orjson.dumps(r) + b"\n" for r in reviews),
            AUDIT_ENTRY: b"".join(orjson.dumps(a) + b"\n" for a in audit),
        },
    )
    ws: Workspace = open_existing(copy)
    try:
        before = reviews_state(ws)
        try:
            merge_results(ws, [forged])
        except MergeError as exc:
            assert "\n" not in str(exc)
            assert reviews_state(ws) == before
    finally:
        ws.close()
