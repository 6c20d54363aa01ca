from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store import migrate
from reviewer.store.workspace import WorkspaceError, normalise_url
from tests.helpers.factories import make_session


def test_new_workspace_is_wal_with_foreign_keys(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "a.sqlite")
    with ws.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert migrate.current_revision(ws) == migrate.head_revision()
    assert len(ws.workspace_id) == 32
    ws.close()


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


def test_older_workspace_upgrades_with_a_backup_first(tmp_path: Path) -> None:
    """A workspace at the first revision, with data, opens at head after a backup."""
    revisions = [r.revision for r in migrate.script().walk_revisions()][::-1]
    p = tmp_path / "old.sqlite"
    ws = init_workspace(p)
    from reviewer.services.importing import store_sessions

    store_sessions(ws, [make_session("kept")])
    if len(revisions) > 1:
        with ws.engine.begin() as conn:
            cfg = migrate.alembic_config()
            cfg.attributes["connection"] = conn
            from alembic import command

            command.downgrade(cfg, revisions[0])
    else:
        # Only one revision so far: pretend the file predates it by its stamp alone.
        with ws.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            conn.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revisions[0]})
    ws.close()
    ws = open_existing(p)
    assert migrate.current_revision(ws) == migrate.head_revision()
    with ws.read() as s:
        assert s.execute(text("SELECT count(*) FROM sessions")).scalar() == 1
    ws.close()
    if len(revisions) > 1:
        backups = list(migrate.backups_dir(p).glob("pre-upgrade-*.sqlite"))
        assert len(backups) == 1
        con = sqlite3.connect(backups[0])
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()


def test_urls_and_paths_are_normalised(tmp_path: Path) -> None:
    assert normalise_url(tmp_path / "x.sqlite").startswith("sqlite:////")
    assert normalise_url("postgresql://u:p@h/db").startswith("postgresql+psycopg://")
