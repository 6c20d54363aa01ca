"""Opening a workspace already at the newest schema skips Alembic (a tenth of a second of
every command), and the revision read from the migration files is Alembic's own head."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reviewer.services.workspaces import init_workspace
from reviewer.store import migrate


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert migrate.head_from_sources() == migrate.head_revision()


def test_a_workspace_at_the_head_opens_without_importing_alembic(tmp_path: Path) -> None:
    p = tmp_path / "w.sqlite"
    init_workspace(p).close()
    code = (
        "import sys\n"
        "from reviewer.services.workspaces import open_existing\n"
        f"open_existing({str(p)!r}).close()\n"
        "print(any(m == 'alembic' or m.startswith('alembic.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
