"""batch items carry their session's agent version and start time

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

The analytics group every reviewed item by its session's agent version and day. They read
both from the sessions table, one look-up per item: at 10M sessions and 1M reviewed items
that read alone took 1.3-2 s, the longest part of ``reviewer stats``. A session revision
never changes its agent version or start time (a new import is a new revision, a new row),
so each item now keeps a copy, made when the item is stored: a trigger fills both columns
from the item's session on insert (and when an item's session changes), whoever writes the
item (a draw, a pack's results, a test), on SQLite and PostgreSQL; and should a session's
version or start be corrected in place all the same (by hand, in SQL), another trigger
copies the correction to its items. This revision fills them in for the items already
stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = ("agent_version", "started_at")

FILL = (
    "UPDATE batch_items SET agent_version = (SELECT s.agent_version FROM sessions s"
    " WHERE s.id = batch_items.session_id), started_at = (SELECT s.started_at FROM sessions s"
    " WHERE s.id = batch_items.session_id)"
)
"""Copy the columns from every item's session (SQLite)."""

PG_FILL = (
    "UPDATE batch_items i SET agent_version = s.agent_version, started_at = s.started_at"
    " FROM sessions s WHERE s.id = i.session_id"
)
"""Copy the columns from every item's session (PostgreSQL: one join; also what tests/perf
fills a generated workspace with)."""

_CHANGED = (
    "OLD.agent_version IS DISTINCT FROM NEW.agent_version"
    " OR OLD.started_at IS DISTINCT FROM NEW.started_at"
)
_CORRECTED = (
    "UPDATE batch_items SET agent_version = NEW.agent_version, started_at = NEW.started_at"
    " WHERE session_id = NEW.id"
)

SQLITE_TRIGGERS = {
    "batch_items_session_insert": f"AFTER INSERT ON batch_items BEGIN {FILL}"
    " WHERE id = NEW.id; END",
    "batch_items_session_update": f"AFTER UPDATE OF session_id ON batch_items BEGIN {FILL}"
    " WHERE id = NEW.id; END",
    "sessions_items_update": "AFTER UPDATE OF agent_version, started_at ON sessions"
    f" WHEN {_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {_CORRECTED}; END",
}

PG_FUNCTIONS = {
    "batch_items_session": "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " SELECT agent_version, started_at INTO NEW.agent_version, NEW.started_at"
    " FROM sessions WHERE id = NEW.session_id; RETURN NEW; END $$",
    "sessions_items": "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    f" {_CORRECTED}; RETURN NULL; END $$",
}
PG_TRIGGERS = {
    "batch_items_session": "BEFORE INSERT OR UPDATE OF session_id ON batch_items"
    " FOR EACH ROW EXECUTE PROCEDURE batch_items_session()",
    "sessions_items_update": "AFTER UPDATE OF agent_version, started_at ON sessions"
    f" FOR EACH ROW WHEN ({_CHANGED}) EXECUTE PROCEDURE sessions_items()",
}


def upgrade() -> None:
    op.add_column("batch_items", sa.Column("agent_version", sa.String(200), nullable=True))
    op.add_column("batch_items", sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(PG_FILL))
        for name, body in PG_FUNCTIONS.items():
            conn.execute(sa.text(f"CREATE FUNCTION {name} {body}"))
        triggers = PG_TRIGGERS
    else:
        conn.execute(sa.text(FILL))
        triggers = SQLITE_TRIGGERS
    for name, body in triggers.items():
        conn.execute(sa.text(f"CREATE TRIGGER {name} {body}"))


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        for name, body in PG_TRIGGERS.items():
            table = body.split(" ON ", 1)[1].split()[0]
            conn.execute(sa.text(f"DROP TRIGGER {name} ON {table}"))
        for name in PG_FUNCTIONS:
            conn.execute(sa.text(f"DROP FUNCTION {name}"))
    else:
        for name in SQLITE_TRIGGERS:
            conn.execute(sa.text(f"DROP TRIGGER {name}"))
    for column in reversed(COLUMNS):
        op.drop_column("batch_items", column)
