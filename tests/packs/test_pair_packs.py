"""Packs of pairwise batches: both sessions of each pair travel, a blind batch's pack does
not tell which side is which version, preferences come back signed and merge under the same
rules as reviews (only the pack's reviewer, only the pack's pairs, all or nothing)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.domain.batch import Batch, SamplingSpec
from reviewer.domain.pack import PREFERENCES_ENTRY, PackManifest
from reviewer.domain.preference import Preference, Winner
from reviewer.services.audit import audit_trail
from reviewer.services.merging import MergeError, merge_results
from reviewer.services.packs import create_pack, open_pack, read_pack_manifest, write_results
from reviewer.services.pairwise import create_pair_batch, pair_spec
from reviewer.services.preferences import (
    is_pair_batch,
    load_pair_queue,
    open_pair,
    save_preference,
)
from reviewer.services.workspaces import init_workspace
from reviewer.store.preferences import preference_sha256, preference_snapshot
from reviewer.store.workspace import Workspace
from tests.packs.hostile import forge_results, secret_for
from tests.pairwise.helpers import fill_trials
from tests.store.test_postgres import pg_url as pg_url  # the fixture, for this module


def _lead(tmp_path: Path, *, blind: bool = False) -> tuple[Workspace, Batch]:
    ws = init_workspace(tmp_path / "lead.sqlite")
    fill_trials(ws, tasks=8)
    spec = SamplingSpec(
        size=8,
        seed=4,
        pairs=pair_spec("metadata.task_id", "version=1.0,2.0"),
        reviewers=["ann", "ben"],
        blind=blind,
    )
    return ws, create_pair_batch(ws, "cmp", spec)


def _positions(batch: Batch, reviewer: str) -> list[int]:
    return [i.position for i in batch.items if reviewer in i.reviewers]


def _pick_two(item_left: str | None) -> Winner:
    """Always the 2.0 side, wherever it is shown."""
    return Winner.RIGHT if item_left == "A" else Winner.LEFT


def test_a_pair_batch_goes_out_in_a_pack_and_its_preferences_come_back(
    tmp_path: Path,
) -> None:
    lead, batch = _lead(tmp_path)
    mine = _positions(batch, "ann")
    assert len(mine) == 4
    lefts = {i.position: i.pair.left for i in batch.items if i.pair is not None}
    # ann gave one preference at home before the pack was cut: it travels with the pack
    first = save_preference(
        lead,
        Preference(batch="cmp", position=mine[0], reviewer="ann", winner=Winner.TIE),
        submit=True,
    )
    pack = create_pack(lead, "cmp", "ann", tmp_path / "ann.reviewpack")
    assert (pack.items, pack.preferences) == (4, 1)
    manifest = read_pack_manifest(pack.path)
    assert all(i.pair is not None and i.pair.left == lefts[i.position] for i in manifest.items)

    # Offline: the pack opens as a pairwise batch, both sessions side by side
    offline = open_pack(pack.path)
    assert is_pair_batch(offline, "cmp")
    queue = load_pair_queue(offline, "cmp", "ann")
    assert [e.position for e in queue.entries] == mine
    assert [e.status for e in queue.entries] == ["submitted", "to do", "to do", "to do"]
    home = {i.position: i for i in batch.items}
    for pos in mine:
        item = open_pair(offline, queue, pos)
        want = home[pos]
        assert want.pair is not None
        assert (item.left.id, item.right.id) == (want.session_key, want.pair.session_key)
        assert "2.0" in item.left_header + item.right_header  # not blind: versions shown
    carried = open_pair(offline, queue, mine[0]).preference
    assert carried is not None
    assert (carried.uid, carried.winner, carried.status) == (first.uid, Winner.TIE, "submitted")
    for pos in mine[1:]:
        pref = Preference(batch="cmp", position=pos, reviewer="ann", winner=_pick_two(lefts[pos]))
        save_preference(offline, pref, submit=True)
    results = write_results(offline, tmp_path / "ann.results")
    offline.close()
    assert (results.reviews, results.preferences, results.submitted) == (0, 3, 3)

    report = merge_results(lead, [results.path], actor="lead")
    assert (report.added, report.updated, report.flagged) == (3, 0, 0)
    again = merge_results(lead, [results.path], actor="lead")
    assert again.files[0].already_merged and again.added == 0

    # At home: ann's queue is done, the audit trail names the pack, stats and export see them
    assert {e.status for e in load_pair_queue(lead, "cmp", "ann").entries} == {"submitted"}
    merged = [a for a in audit_trail(lead) if a.action == "merge"]
    assert len(merged) == 3 and all(a.after and a.after["pack_id"] for a in merged)
    lead.close()
    out = tmp_path / "pairs.jsonl"
    run = CliRunner().invoke(
        main,
        [
            *("export", str(tmp_path / "lead.sqlite"), "--level", "pair"),
            *("--format", "jsonl", "--out", str(out)),
        ],
    )
    assert run.exit_code == 0, run.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(r["pair_id"] for r in rows) == sorted(f"cmp#{p}" for p in mine)
    for r in rows:
        if r["pair_id"] != f"cmp#{mine[0]}":
            assert r["winning_session"] is not None and "-v2.0-" in r["winning_session"]
    stats = CliRunner().invoke(main, ["stats", str(tmp_path / "lead.sqlite"), "--json"])
    assert stats.exit_code == 0, stats.stderr
    (c,) = json.loads(stats.stdout)["pairwise"]["comparisons"]
    assert c["items"] == 4 and c["win_rate"] == pytest.approx(3.5 / 4)  # ties split


def test_a_blind_batch_pack_does_not_tell_which_side_is_which_version(tmp_path: Path) -> None:
    lead, _batch = _lead(tmp_path, blind=True)
    pack = create_pack(lead, "cmp", "ann", tmp_path / "ann.reviewpack")
    with zipfile.ZipFile(pack.path) as z:
        raw = orjson.loads(z.read("manifest.json"))
        sessions = [orjson.loads(z.read(n)) for n in z.namelist() if n.startswith("sessions/")]
    manifest = PackManifest.model_validate(raw)
    assert len(sessions) == 2 * len(manifest.items)
    assert all(i.pair is not None and i.pair.left is None for i in manifest.items)
    assert manifest.batch.spec["pairs"]["a"] == "A" and manifest.batch.spec["pairs"]["b"] == "B"
    for s in sessions:  # session ids here name the version: they go under neutral ones
        assert s["id"].startswith("pair-") and s["source"]["file"] is None
        assert s["agent"] == {"name": None, "version": None} and s["model"] is None
        assert s["metadata"] == {"task_id": s["metadata"]["task_id"]}
    with zipfile.ZipFile(pack.path) as z:
        for name in z.namelist():
            assert b"-v1.0-" not in z.read(name) and b"-v2.0-" not in z.read(name)
    offline = open_pack(pack.path)
    queue = load_pair_queue(offline, "cmp", "ann")
    assert queue.blind
    for entry in queue.entries:
        item = open_pair(offline, queue, entry.position)
        shown = item.left_header + item.right_header
        assert "1.0" not in shown and "2.0" not in shown
        save_preference(
            offline,
            Preference(batch="cmp", position=entry.position, reviewer="ann", winner=Winner.TIE),
            submit=True,
        )
    results = write_results(offline, tmp_path / "ann.results")
    offline.close()
    assert merge_results(lead, [results.path]).added == len(queue.entries)


@pytest.fixture
def genuine(tmp_path: Path) -> tuple[Workspace, Batch, Path]:
    lead, batch = _lead(tmp_path)
    pack = create_pack(lead, "cmp", "ann", tmp_path / "ann.reviewpack")
    offline = open_pack(pack.path)
    pos = _positions(batch, "ann")[0]
    save_preference(
        offline,
        Preference(batch="cmp", position=pos, reviewer="ann", winner=Winner.LEFT),
        submit=True,
    )
    out = write_results(offline, tmp_path / "ann.results").path
    offline.close()
    return lead, batch, out


def _forge(
    lead: Workspace, genuine: Path, dest: Path, prefs: list[Preference], **manifest: Any
) -> Path:
    lines = []
    for p in prefs:
        digest = preference_sha256(preference_snapshot(p))
        lines.append({"preference": p.model_dump(mode="json"), "sha256": digest})
    return forge_results(
        genuine,
        dest,
        secret_for(lead, genuine),
        manifest={"preferences": len(prefs), **manifest},
        entries={PREFERENCES_ENTRY: b"".join(orjson.dumps(x) + b"\n" for x in lines)},
    )


def _state(lead: Workspace) -> list[tuple[int, str]]:
    return [
        (e.position, e.status)
        for who in ("ann", "ben")
        for e in load_pair_queue(lead, "cmp", who).entries
    ]


def test_a_preference_for_a_pair_not_in_the_pack_is_refused_and_nothing_merges(
    genuine: tuple[Workspace, Batch, Path], tmp_path: Path
) -> None:
    lead, batch, results = genuine
    before = _state(lead)
    ann, ben = _positions(batch, "ann"), _positions(batch, "ben")
    honest = Preference(batch="cmp", position=ann[1], reviewer="ann", winner=Winner.RIGHT)
    stray = Preference(batch="cmp", position=ben[0], reviewer="ann", winner=Winner.LEFT)
    forged = _forge(lead, results, tmp_path / "forged.results", [honest, stray])
    with pytest.raises(MergeError, match=f"pair {ben[0] + 1} is not an item of this pack") as e:
        merge_results(lead, [forged])
    assert "nothing was merged" in str(e.value)
    refused = {r.review_uid: r.reason for r in e.value.refused}
    assert stray.uid in refused and honest.uid not in refused
    assert _state(lead) == before


def test_a_preference_by_someone_else_is_refused(
    genuine: tuple[Workspace, Batch, Path], tmp_path: Path
) -> None:
    lead, batch, results = genuine
    before = _state(lead)
    ann = _positions(batch, "ann")
    as_ben = Preference(batch="cmp", position=ann[1], reviewer="ben", winner=Winner.RIGHT)
    forged = _forge(lead, results, tmp_path / "ben.results", [as_ben])
    with pytest.raises(MergeError, match="it is by ben, in ann's pack"):
        merge_results(lead, [forged])
    # results of ann's pack claiming to be ben's do not match the pack either
    renamed = _forge(lead, results, tmp_path / "renamed.results", [], reviewer="ben")
    with pytest.raises(MergeError, match=r"does not match pack .* \(reviewer or batch\)"):
        merge_results(lead, [renamed])
    assert _state(lead) == before


def test_a_preference_changed_in_transit_is_refused(
    genuine: tuple[Workspace, Batch, Path], tmp_path: Path
) -> None:
    lead, _batch, results = genuine
    with zipfile.ZipFile(results) as z:
        (line,) = [orjson.loads(x) for x in z.read(PREFERENCES_ENTRY).splitlines()]
    line["preference"]["winner"] = "right"  # hash left as it was
    changed = forge_results(
        results,
        tmp_path / "changed.results",
        secret_for(lead, results),
        entries={PREFERENCES_ENTRY: orjson.dumps(line) + b"\n"},
    )
    with pytest.raises(MergeError, match="fails its checksum: preference"):
        merge_results(lead, [changed])
    third_party = forge_results(results, tmp_path / "third.results", b"x" * 32)
    with pytest.raises(MergeError, match="fails its authentication"):
        merge_results(lead, [third_party])


def test_a_preference_edited_at_home_and_offline_is_kept_aside(
    genuine: tuple[Workspace, Batch, Path], tmp_path: Path
) -> None:
    lead, batch, results = genuine
    pos = _positions(batch, "ann")[0]
    # meanwhile at home, ann (on the lead's machine) gave that pair another answer
    home = save_preference(
        lead,
        Preference(batch="cmp", position=pos, reviewer="ann", winner=Winner.BOTH_BAD),
        submit=True,
    )
    report = merge_results(lead, [results], actor="lead")
    assert (report.added, report.flagged) == (0, 1)
    (conflict,) = report.files[0].conflicts
    assert conflict.review_uid == home.uid and "second preference" in conflict.reason
    queue = load_pair_queue(lead, "cmp", "ann")
    kept = open_pair(lead, queue, pos).preference
    assert kept is not None and kept.winner is Winner.BOTH_BAD  # the one in use stays
    aside = [a for a in audit_trail(lead, review_uid=conflict.kept_uid)]
    assert [a.action for a in aside] == ["conflict"]
    assert aside[0].after is not None and aside[0].after["values"]["winner"] == "left"


@pytest.mark.postgres
def test_a_pair_pack_of_a_postgres_workspace_merges_back_into_it(
    pg_url: str, tmp_path: Path
) -> None:
    lead = init_workspace(pg_url)
    fill_trials(lead, tasks=6)
    spec = SamplingSpec(
        size=6, seed=2, pairs=pair_spec("metadata.task_id", "version=1.0,2.0"), reviewers=["ann"]
    )
    batch = create_pair_batch(lead, "cmp", spec)
    pack = create_pack(lead, "cmp", "ann", tmp_path / "ann.reviewpack")
    offline = open_pack(pack.path)
    for item in batch.items:
        pref = Preference(batch="cmp", position=item.position, reviewer="ann", winner=Winner.TIE)
        save_preference(offline, pref, submit=True)
    results = write_results(offline, tmp_path / "ann.results")
    offline.close()
    assert merge_results(lead, [results.path]).added == 6
    assert merge_results(lead, [results.path]).files[0].already_merged
    assert {e.status for e in load_pair_queue(lead, "cmp", "ann").entries} == {"submitted"}
    lead.close()
