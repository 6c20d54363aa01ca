"""Packs made before packs were signed: a workspace of that time upgrades (revision 0004
adds each pack's secret, rubric and items), and results of its old packs are refused with
a message saying to make the reviewer a new pack."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import delete, select, text

from reviewer.domain.rubric import Rubric
from reviewer.services.merging import MergeError, merge_results
from reviewer.services.packs import PackError, create_pack, open_pack, write_results
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store import migrate
from reviewer.store.tables import PackItemRow, PackRow, WorkspaceMeta
from reviewer.store.workspace import Workspace
from tests.packs.helpers import make_batch, review_item, reviews_state


def test_a_workspace_with_old_packs_upgrades_and_their_results_are_refused(
    rubric: Rubric, tmp_path: Path
) -> None:
    lead = init_workspace(tmp_path / "lead.sqlite")
    make_batch(lead, "b1", {"ana": range(3)}, items=3)
    pack = create_pack(lead, "b1", "ana", tmp_path / "ana.reviewpack")
    offline = open_pack(pack.path)
    review_item(offline, rubric, 0, "ana")
    results = write_results(offline, tmp_path / "ana.results").path
    offline.close()
    with lead.engine.begin() as conn:  # back to the schema before packs were signed
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
        assert "secret" not in {c[1] for c in conn.execute(text("PRAGMA table_info(packs)"))}
    lead.close()

    lead = open_existing(tmp_path / "lead.sqlite")
    assert migrate.current_revision(lead) == migrate.head_revision()
    with lead.read() as s:
        row = s.scalar(select(PackRow))
        assert row is not None and row.pack_id == pack.pack_id  # the old pack is still known
        assert (row.secret, row.rubric_id) == (None, None)
        assert s.scalars(select(PackItemRow)).all() == []
    with pytest.raises(MergeError, match=r"older version .* make ana a new pack") as err:
        merge_results(lead, [results])
    assert "\n" not in str(err.value)
    assert reviews_state(lead) == []

    # The way on: a new pack for ana, made and merged with this version.
    again = create_pack(lead, "b1", "ana", tmp_path / "again.reviewpack")
    offline = open_pack(again.path)
    review_item(offline, rubric, 0, "ana")
    assert merge_results(lead, [write_results(offline, tmp_path / "again.results").path]).added
    offline.close()
    lead.close()


def test_a_pack_opened_by_an_older_version_cannot_sign_results(
    workspace: Workspace, tmp_path: Path
) -> None:
    make_batch(workspace, "b1", {"ana": range(2)}, items=2)
    pack = create_pack(workspace, "b1", "ana", tmp_path / "ana.reviewpack")
    offline = open_pack(pack.path)
    with offline.write() as s:  # what an older version left in its pack workspace
        s.execute(delete(WorkspaceMeta).where(WorkspaceMeta.key == "pack_secret"))
    with pytest.raises(PackError, match="ask your lead for a new pack"):
        write_results(offline, tmp_path / "ana.results")
    assert not (tmp_path / "ana.results").exists()
    offline.close()
