"""A lost connection is a clear state, drafts wait on this computer, and credentials never
appear in errors, logs or exports."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from reviewer.cli import main
from reviewer.domain.review import Review, ReviewStatus
from reviewer.domain.rubric import Rubric
from reviewer.services.audit import audit_trail
from reviewer.services.drafts import DraftStore, flush_drafts, save_or_keep
from reviewer.services.merging import merge_results
from reviewer.services.packs import create_pack, open_pack, write_results
from reviewer.services.reviewing import save
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.reviews import get_review
from reviewer.store.workspace import (
    Workspace,
    WorkspaceUnavailable,
    display_url,
    normalise_url,
    password_hint,
)
from tests.packs.helpers import BAD, GOOD, key, make_batch, review_item

SECRET = "s3cr3t-Pa55word"
DOWN = f"postgresql://reviewer:{SECRET}@127.0.0.1:1/team"
"""Nothing listens on port 1: connections are refused at once."""


def _unreachable() -> Workspace:
    url = normalise_url(DOWN)
    return Workspace(url, create_engine(url, pool_pre_ping=True, hide_parameters=True))


def _review(rubric: Rubric, values: dict[str, str] = GOOD) -> Review:
    return Review(
        session_key=key(0),
        batch="b1",
        reviewer="ana",
        rubric_name=rubric.name,
        rubric_version=rubric.version,
        values=values,
        status=ReviewStatus.DRAFT,
    )


def test_an_unreachable_server_is_one_clear_line_without_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert SECRET not in display_url(normalise_url(DOWN))
    with pytest.raises(WorkspaceUnavailable) as err:
        open_existing(DOWN)
    message = str(err.value)
    assert message.startswith("cannot reach the workspace postgresql+psycopg://reviewer:***@")
    assert "\n" not in message
    shown = "".join(traceback.format_exception(err.value)) + repr(err.value) + caplog.text
    assert SECRET not in shown
    for args in (["audit", DOWN], ["merge", DOWN, "x.results"], ["init", DOWN]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "cannot reach the workspace" in result.output
        assert SECRET not in result.output and len(result.output.strip().splitlines()) == 1


def test_a_lost_connection_keeps_the_draft_and_saves_it_when_back(
    workspace: Workspace, rubric: Rubric, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    make_batch(workspace, "b1", {"ana": [0]}, items=1)
    ws_id = workspace.workspace_id
    drafts = DraftStore(tmp_path / "drafts.sqlite")
    gone = _unreachable()
    with pytest.raises(WorkspaceUnavailable):
        save(gone, _review(rubric), rubric)
    outcome = save_or_keep(gone, ws_id, _review(rubric), rubric, drafts)
    gone.close()
    assert outcome.kept_locally and "kept on this computer" in outcome.message
    assert SECRET not in outcome.message and SECRET not in caplog.text
    assert SECRET.encode() not in (tmp_path / "drafts.sqlite").read_bytes()
    [kept] = drafts.pending(ws_id)
    assert kept.review.uid == outcome.review.uid

    report = flush_drafts(workspace, drafts)  # the workspace is back
    assert report.saved == [kept.review.uid] and report.remaining == 0
    assert drafts.pending(ws_id) == []
    with workspace.read() as s:
        stored = get_review(s, kept.review.uid)
        assert stored is not None and stored.values == GOOD


def test_a_draft_that_conflicts_when_flushed_is_kept_with_both_versions(
    workspace: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    make_batch(workspace, "b1", {"ana": [0]}, items=1)
    ws_id = workspace.workspace_id
    first = save(workspace, _review(rubric), rubric)  # version 1
    drafts = DraftStore(tmp_path / "drafts.sqlite")
    offline_edit = first.model_copy(update={"values": BAD})
    save_or_keep(_unreachable(), ws_id, offline_edit, rubric, drafts, expected_version=1)
    # Meanwhile, from another computer: version 2.
    review_item(workspace, rubric, 0, "ana", uid=first.uid, values={**GOOD, "quality": "1"})
    report = flush_drafts(workspace, drafts)
    assert report.saved == [] and report.remaining == 1
    [conflict] = report.conflicts
    assert conflict.attempted.values == BAD
    assert conflict.stored is not None and conflict.stored.values["quality"] == "1"
    assert len(drafts.pending(ws_id)) == 1  # not lost: still here for the reviewer


@pytest.mark.postgres
def test_a_dropped_connection_is_reported_then_recovered(pg_url: str, rubric: Rubric) -> None:
    ws = init_workspace(pg_url)
    make_batch(ws, "b1", {"ana": [0]}, items=1)
    admin = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with pytest.raises(WorkspaceUnavailable, match="cannot reach the workspace"), ws.write() as s:
        pid = s.scalar(text("SELECT pg_backend_pid()"))
        with admin.begin() as c:
            c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        s.execute(text("SELECT 1"))
    saved = save(ws, _review(rubric), rubric)  # the pool reconnects by itself
    with ws.read() as s:
        assert get_review(s, saved.uid) is not None
    admin.dispose()
    ws.close()


@pytest.mark.postgres
def test_a_password_in_the_url_never_reaches_files_or_reports(
    pg_url: str, rubric: Rubric, tmp_path: Path
) -> None:
    url = make_url(pg_url).set(password=SECRET).render_as_string(hide_password=False)
    ws = init_workspace(url)  # trust authentication ignores the password
    assert SECRET not in ws.display_name
    make_batch(ws, "b1", {"ana": range(2)}, items=2)
    pack = create_pack(ws, "b1", "ana", tmp_path / "ana.reviewpack")
    offline = open_pack(pack.path)
    review_item(offline, rubric, 0, "ana")
    results = write_results(offline, tmp_path / "ana.results")
    offline.close()
    report = merge_results(ws, [results.path], actor="lead")
    exported = "".join(r.model_dump_json() for r in audit_trail(ws))
    for blob in (
        pack.path.read_bytes(),
        results.path.read_bytes(),
        report.model_dump_json().encode(),
        exported.encode(),
    ):
        assert SECRET.encode() not in blob
    ws.close()


def test_a_pgpass_others_can_read_is_pointed_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pgpass = tmp_path / "pgpass"
    pgpass.write_text("127.0.0.1:5432:*:reviewer:secret\n")
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    failed = 'connection failed: FATAL:  password authentication failed for user "reviewer"'
    pgpass.chmod(0o644)
    assert "chmod 600" in password_hint(failed)
    pgpass.chmod(0o600)
    assert password_hint(failed) == ""
    assert password_hint("connection refused") == ""
    pgpass.unlink()
    assert "PGPASSWORD" in password_hint("fe_sendauth: no password supplied")
