"""Hostile packs and results, generated (issue #21): whatever a crafted pack names, opening
it touches no file outside the data folder; whatever a reviewer signs into results, merge
changes nothing the rules do not allow (the pack's reviewer's reviewer reviews of the pack's
items, under its rubric) and refuses the whole file when anything else is in it."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from reviewer.domain.pack import AUDIT_ENTRY, REVIEWS_ENTRY
from reviewer.domain.review import Review, ReviewRole, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.merging import MergeError, merge_results
from reviewer.services.packs import PackError, create_pack, open_pack, write_results
from reviewer.store.migrate import backup_sqlite
from reviewer.store.reviews import review_snapshot, snapshot_sha256
from reviewer.store.tables import AuditEntry, ReviewRow
from reviewer.store.workspace import Workspace
from tests.packs.helpers import BAD, GOOD, key, make_batch, review_item, reviews_state
from tests.packs.hostile import files_outside, forge_results, reseal_pack, secret_for

HOSTILE = settings(
    max_examples=40,
    deadline=None,  # opening a pack creates a workspace: tens of ms, more on a busy CI
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_paths = st.sampled_from(
    [
        "../../victim",
        "../victim",
        "/tmp/victim",
        "/",
        "..",
        ".",
        "",
        "a/b",
        "a\\b",
        "C:\\victim",
        "victim\x00",
        "~/victim",
        "%2e%2e%2fvictim",
        "vict\u202eim",
        "x" * 5000,
    ]
) | st.text(max_size=40)
_names = _paths | st.sampled_from(["ana", "bob", "b1", "Ana María", "ana.", "ana "])


@dataclass(frozen=True)
class Lead:
    """A lead's workspace with a batch, ana's pack of items 0-3 and genuine results."""

    path: Path
    pack: Path
    results: Path
    key: bytes
    bobs_uid: str
    anas_uid: str


@pytest.fixture(scope="module")
def lead(tmp_path_factory: pytest.TempPathFactory) -> Lead:
    from reviewer.resources import default_rubric
    from reviewer.services.workspaces import init_workspace

    rubric = default_rubric()
    tmp = tmp_path_factory.mktemp("hostile-lead")
    data = tmp / "user-data"
    ws = init_workspace(tmp / "lead.sqlite")
    make_batch(ws, "b1", {"ana": range(4), "bob": range(4, 8)}, items=8)
    make_batch(ws, "b2", {"ana": [0]}, items=8)
    anas = review_item(ws, rubric, 1, "ana", values=BAD)
    bobs = review_item(ws, rubric, 5, "bob")
    pack = create_pack(ws, "b1", "ana", tmp / "ana.reviewpack")
    offline = open_pack(pack.path, data_dir=data)
    review_item(offline, rubric, 0, "ana")
    review_item(offline, rubric, 1, "ana", uid=anas.uid, values=GOOD)
    results = write_results(offline, tmp / "ana.results").path
    offline.close()
    key_ = secret_for(ws, results)
    ws.close()
    assert ws.path is not None
    return Lead(ws.path, pack.path, results, key_, bobs.uid, anas.uid)


# --- packs -----------------------------------------------------------------------------

_manifest_changes = st.fixed_dictionaries(
    {},
    optional={
        "pack_id": _paths,
        "reviewer": _names,
        "workspace_id": _paths,
        "batch": st.fixed_dictionaries(
            {
                "name": _names,
                "spec": st.just({}),
                "created_at": st.just("2026-10-01T00:00:00Z"),
            }
        ),
    },
)


@HOSTILE
@given(
    changes=_manifest_changes,
    item_edits=st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "entry": _paths | st.sampled_from(["reviews.jsonl", "sessions/000002.json"]),
                "position": st.integers(-3, 10) | st.just(10**12),
                "session_key": st.sampled_from([key(0), key(5), "../x"]),
                "session_revision": st.integers(-1, 3),
            },
        ),
        max_size=4,
    ),
    duplicate_items=st.booleans(),
)
def test_a_hostile_pack_touches_nothing_outside_the_data_folder(
    lead: Lead,
    tmp_path_factory: pytest.TempPathFactory,
    changes: dict[str, Any],
    item_edits: list[dict[str, Any]],
    duplicate_items: bool,
) -> None:
    root = tmp_path_factory.mktemp("case")
    data = root / "user-data"
    (data / "packs").mkdir(parents=True)
    victim = root / "victim.sqlite"
    victim.write_bytes(lead.path.read_bytes())  # something precious just outside
    with zipfile.ZipFile(lead.pack) as z:
        raw = orjson.loads(z.read("manifest.json"))
    items = raw["items"]
    for n, edit in enumerate(item_edits):
        items[n % len(items)].update(edit)
    if duplicate_items:
        items.append(dict(items[0]))
    raw["items"] = items
    if "batch" in changes:
        changes["batch"] = {**raw["batch"], **changes["batch"]}
    hostile = reseal_pack(lead.pack, root / "hostile.reviewpack", changes, raw=orjson.dumps(raw))
    before = files_outside(root, data)
    try:
        ws = open_pack(hostile, data_dir=data)
    except PackError as exc:
        assert "\n" not in str(exc)
        event("refused")
    else:
        event("opened")
        assert ws.path is not None and ws.path.parent == (data / "packs").resolve()
        ws.close()
    assert files_outside(root, data) == before
    assert all(p.resolve().is_relative_to(data.resolve()) for p in data.rglob("*"))


# --- results ---------------------------------------------------------------------------

_reviews = st.fixed_dictionaries(
    {
        "pos": st.integers(0, 7),
        "reviewer": st.sampled_from(["ana", "ana", "bob", "lead"]),
        "role": st.sampled_from(list(ReviewRole)),
        "batch": st.sampled_from(["b1", "b1", "b2", None]),
        "revision": st.sampled_from([1, 1, 2]),
        "rubric_version": st.sampled_from([1, 1, 2]),
        "uid": st.sampled_from(["fresh", "fresh", "bobs", "anas", "dup"]),
        "values": st.sampled_from([GOOD, BAD, {"quality": "9"}]),
        "huge": st.booleans(),
    }
)


def _allowed(r: dict[str, Any]) -> bool:
    """What the rules let a results file of ana's pack (items 0-3 of b1) hold."""
    return (
        r["reviewer"] == "ana"
        and r["role"] is ReviewRole.REVIEWER
        and r["batch"] == "b1"
        and r["pos"] < 4
        and r["revision"] == 1
        and r["rubric_version"] == 1
        and r["uid"] in ("fresh", "anas")
        and r["values"] != {"quality": "9"}
        and not (r["uid"] == "anas" and r["pos"] != 1)
    )


@HOSTILE
@given(
    reviews=st.lists(_reviews, max_size=5),
    audit_actor=st.sampled_from(["ana", "ana", "lead"]),
    audit_about=st.sampled_from(["own", "own", "bobs"]),
)
def test_forged_results_change_nothing_outside_the_rules(
    lead: Lead,
    tmp_path_factory: pytest.TempPathFactory,
    rubric: Rubric,
    reviews: list[dict[str, Any]],
    audit_actor: str,
    audit_about: str,
) -> None:
    from reviewer.services.workspaces import open_existing

    tmp = tmp_path_factory.mktemp("case")
    copy = backup_sqlite(lead.path, tmp / "lead.sqlite")
    lines: list[bytes] = []
    uids: list[str] = []
    for n, r in enumerate(reviews):
        uid = {
            "fresh": f"{n:032x}",
            "bobs": lead.bobs_uid,
            "anas": lead.anas_uid,
            "dup": uids[-1] if uids else f"{n:032x}",
        }[r["uid"]]
        if r["uid"] == "dup" and not uids:
            r["uid"] = "fresh"
        uids.append(uid)
        values = dict(r["values"])
        if r["huge"]:
            values["rationale"] = "x" * 2_000_000
        review = Review(
            uid=uid,
            session_key=key(r["pos"]),
            session_revision=r["revision"],
            batch=r["batch"],
            reviewer=r["reviewer"],
            role=r["role"],
            rubric_name=rubric.name,
            rubric_version=r["rubric_version"],
            values=values,
            status=ReviewStatus.SUBMITTED,
        )
        digest = snapshot_sha256(review_snapshot(review))
        line = {"review": review.model_dump(mode="json"), "sha256": digest, "history": [digest]}
        lines.append(orjson.dumps(line))
    audit = []
    if uids:
        about = uids[0] if audit_about == "own" else lead.bobs_uid
        at = "2026-10-02T00:00:00Z"
        audit.append({"at": at, "actor": audit_actor, "action": "submit", "review_uid": about})
    forged = forge_results(
        lead.results,
        tmp / "forged.results",
        lead.key,
        entries={
            REVIEWS_ENTRY: b"".join(x + b"\n" for x in lines),
            AUDIT_ENTRY: b"".join(orjson.dumps(a) + b"\n" for a in audit),
        },
    )
    duplicated = len(set(uids)) < len(uids)
    every_rule_kept = (
        all(_allowed(r) for r in reviews)
        and not duplicated
        and (not audit or (audit_actor == "ana" and audit_about == "own"))
    )
    ws: Workspace = open_existing(copy)
    try:
        before = reviews_state(ws)
        with ws.read() as s:
            entries = s.scalar(select(func.count()).select_from(AuditEntry))
        try:
            merge_results(ws, [forged], actor="lead")
            event("merged")
        except MergeError as exc:
            event("refused")
            assert "\n" not in str(exc)
            assert not every_rule_kept, str(exc)
            assert reviews_state(ws) == before
            with ws.read() as s:
                assert s.scalar(select(func.count()).select_from(AuditEntry)) == entries
        else:
            assert every_rule_kept
            changed = [row for row in reviews_state(ws) if row not in before]
            with ws.read() as s:
                rows = s.scalars(
                    select(ReviewRow).where(ReviewRow.uid.in_([c[0] for c in changed]))
                ).all()
                for row in rows:
                    assert (row.reviewer, row.role) == ("ana", "reviewer")
                    assert row.origin.startswith("pack:")
                actors = set(s.scalars(select(AuditEntry.actor)))
                assert actors <= {"ana", "bob", "lead"}
    finally:
        ws.close()
