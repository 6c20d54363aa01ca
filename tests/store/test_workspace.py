from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text

from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store import migrate
from reviewer.store.workspace import PAGE_SIZE, WorkspaceError, normalise_url
from tests.helpers.factories import make_session


def test_new_workspace_is_wal_with_foreign_keys(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "a.sqlite")
    with ws.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert migrate.current_revision(ws) == migrate.head_revision()
    assert len(ws.workspace_id) == 32
    ws.close()


def test_new_workspaces_have_large_pages_and_old_ones_keep_theirs(tmp_path: Path) -> None:
    """New workspaces use 16 KB pages (faster imports); a workspace made with SQLite's
    4 KB pages keeps them, and imports, backs up and restores the same."""
    from reviewer.services import backups
    from reviewer.services.importing import store_sessions

    new = init_workspace(tmp_path / "new.sqlite")
    new.close()
    old_path = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(old_path)) as con:
        con.execute("PRAGMA journal_mode=WAL")  # SQLite's default page size, 4,096
    old = open_existing(old_path)
    store_sessions(old, [make_session("a"), make_session("b")])
    copy = backups.backup_now(old_path, "manual")
    store_sessions(old, [make_session("c")])
    old.close()
    backups.restore(old_path, copy)
    sizes = {}
    for name in ("new.sqlite", "old.sqlite"):
        with closing(sqlite3.connect(tmp_path / name)) as con:
            sizes[name] = con.execute("PRAGMA page_size").fetchone()[0]
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert sizes == {"new.sqlite": PAGE_SIZE, "old.sqlite": 4096}
    assert PAGE_SIZE == 16384
    restored = open_existing(old_path)
    with restored.read() as s:
        assert s.execute(text("SELECT count(*) FROM sessions")).scalar() == 2
    restored.close()


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    init_workspace(tmp_path / "a.sqlite").close()
    with pytest.raises(WorkspaceError, match="already exists"):
        init_workspace(tmp_path / "a.sqlite")


def test_opening_a_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="reviewer init"):
        open_existing(tmp_path / "missing.sqlite")


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "junk.sqlite"
    p.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(WorkspaceError, match="not a readable workspace"):
        open_existing(p)


def test_workspace_from_a_newer_version_is_refused_unchanged(tmp_path: Path) -> None:
    p = tmp_path / "a.sqlite"
    init_workspace(p).close()
    con = sqlite3.connect(p)
    con.execute("UPDATE alembic_version SET version_num = 'ffff_future'")
    con.commit()
    con.close()
    before = p.read_bytes()
    with pytest.raises(WorkspaceError, match="newer version"):
        open_existing(p)
    assert p.read_bytes() == before


def test_revision_chain_is_linear() -> None:
    scripts = migrate.script()
    assert len(scripts.get_heads()) == 1
    for rev in scripts.walk_revisions():
        down = rev.down_revision
        assert down is None or isinstance(down, str), f"{rev.revision} merges branches"


EARLIER = [r.revision for r in migrate.script().walk_revisions()][::-1][:-1]


@pytest.mark.parametrize("revision", EARLIER)
def test_a_workspace_of_every_earlier_revision_upgrades_with_a_backup_first(
    tmp_path: Path, revision: str
) -> None:
    """Built by running the old migrations (head, then down to ``revision``), with data."""
    from alembic import command

    from reviewer.services.importing import store_sessions

    p = tmp_path / "old.sqlite"
    ws = init_workspace(p)
    store_sessions(ws, [make_session("kept")])
    with ws.engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    ws.close()
    ws = open_existing(p)
    assert migrate.current_revision(ws) == migrate.head_revision()
    with ws.read() as s:
        assert s.execute(text("SELECT count(*) FROM sessions")).scalar() == 1
        # the newest columns are there and usable
        assert s.execute(text("SELECT count(resolved_at) FROM reviews")).scalar() == 0
        assert s.execute(text("SELECT count(suggestions) FROM reviews")).scalar() == 0
        assert s.execute(text("SELECT count(record_hash) FROM sessions")).scalar() == 0
    ws.close()
    [backup] = list(migrate.backups_dir(p).glob(f"pre-upgrade-{revision}-*.sqlite"))
    con = sqlite3.connect(backup)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == revision
    assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    con.close()


def test_urls_and_paths_are_normalised(tmp_path: Path) -> None:
    assert normalise_url(tmp_path / "x.sqlite").startswith("sqlite:////")
    assert normalise_url("postgresql://u:p@h/db").startswith("postgresql+psycopg://")


def test_reviews_saved_before_0005_read_with_no_step_labels_or_suggestions(
    tmp_path: Path,
) -> None:
    """A review stored by revision 0002 (no steps, no suggestions columns) reads back whole
    after the upgrade, and takes step labels and suggestion records from then on."""
    from alembic import command

    from reviewer.domain.review import Review, ReviewStatus, StepLabel
    from reviewer.domain.suggestions import SuggestionRecord
    from reviewer.resources import default_rubric
    from reviewer.services.importing import store_sessions
    from reviewer.store.reviews import get_review, save_review

    p = tmp_path / "old.sqlite"
    ws = init_workspace(p)
    store_sessions(ws, [make_session("kept")])
    rubric = default_rubric()
    review = Review(session_key="kept", reviewer="ana", rubric_name="default",
                    rubric_version=rubric.version, values={"quality": "4"},
                    status=ReviewStatus.SUBMITTED)  # fmt: skip
    with ws.write() as s:
        save_review(s, review, rubric)
    with ws.engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    ws.close()
    ws = open_existing(p)
    with ws.read() as s:
        old = get_review(s, review.uid)
    assert old is not None and old.values == {"quality": "4"}
    assert old.steps == {} and old.suggestions == {}
    labelled = old.model_copy(
        update={
            "steps": {2: StepLabel(verdict="wrong", error_type="bad_arguments")},
            "suggestions": {
                "quality": SuggestionRecord(outcome="changed", judge="q", suggested="5")
            },
        }
    )
    with ws.write() as s:
        save_review(s, labelled, rubric)
    with ws.read() as s:
        again = get_review(s, review.uid)
    ws.close()
    assert again is not None and again.steps[2].verdict == "wrong"
    assert again.suggestions["quality"].outcome == "changed"


def _row_counts(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as con:
        tables = [
            r[0]
            for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith(("sqlite_", "alembic_"))
        ]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_upgrading_a_lived_in_workspace_loses_no_row(tmp_path: Path) -> None:
    """Every table of a 0002 workspace with batches, assignments, reviews, audit entries and
    packs keeps every row through all the upgrades (a table copied while foreign keys are on
    would take its children with it)."""
    from alembic import command

    from reviewer.services.demo import build_demo

    p = tmp_path / "lived-in.sqlite"
    ws = build_demo(p, sessions=60)
    with ws.engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    ws.close()
    before = _row_counts(p)
    assert min(before[t] for t in ("sessions", "batch_items", "reviews", "audit_log")) > 0
    ws = open_existing(p)
    assert migrate.current_revision(ws) == migrate.head_revision()
    ws.close()
    after = _row_counts(p)
    assert {t: after[t] for t in before} == before
    with closing(sqlite3.connect(p)) as con:
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
