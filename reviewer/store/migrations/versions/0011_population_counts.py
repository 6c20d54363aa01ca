"""counts of the sessions a batch draws from, kept on write; indexes for queues and analytics

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

``population_counts`` holds, per range of 256 session ids and per stratum (agent, version,
model, tool error, escalated), how many latest sessions there are and how many of them have
a submitted review. Triggers on ``sessions`` and ``reviews`` keep it up to date in the same
transaction as the change, whoever writes (import, save, merge, a second revision); this
revision fills it in for the sessions already stored. A batch drawn without ``--where``
then reads these counts instead of every session (at 10M sessions: a tenth of a second
instead of seconds).

Every change adds to one row of its range and stratum, made when there is none: two
writers making the first one at once make two, whose sums still count right. On PostgreSQL
a change never waits for another writer's row of the counts (reviewers submitting at once):
it takes the first row of its range and stratum no one holds, or makes one; and a change of
a review's submitted state first locks its session's row, so two reviews of one session
submitted at once (or a new revision arriving meanwhile) are counted one after the other.
SQLite has one writer at a time anyway. Inserts, updates and deletes of sessions are
counted per statement on PostgreSQL (an import's chunk: a few rows), per row on SQLite.

Also: ``assignments (reviewer, item_id)`` and ``batch_items (batch_id, id, position,
session_id)``, which a reviewer's queue of a batch reads without visiting either table, and
``sessions (id, agent_version, started_at)``, which the analytics read the version and day
of each reviewed session from (a million of ten million: without visiting the table).

The block width and the SQL are copied here as they are at this revision (see
``reviewer.store.tables.POPULATION_BLOCK``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BLOCK = 256
KEY = ("agent_name", "agent_version", "model", "has_tool_error", "escalated")

FILL = (
    "INSERT INTO population_counts (block, agent_name, agent_version, model, has_tool_error,"
    " escalated, latest, reviewed)"
    f" SELECT s.id / {BLOCK}, s.agent_name, s.agent_version, s.model, s.has_tool_error,"
    " s.escalated, count(*), sum(CASE WHEN EXISTS (SELECT 1 FROM reviews r"
    " WHERE r.session_id = s.id AND r.status = 'submitted') THEN 1 ELSE 0 END)"
    " FROM sessions s WHERE s.is_latest"
    f" GROUP BY s.id / {BLOCK}, s.agent_name, s.agent_version, s.model, s.has_tool_error,"
    " s.escalated"
)
"""Count the sessions stored (also what tests/perf fills a generated workspace with)."""


def _sqlite_match(row: str) -> str:
    return f"block = {row}.id / {BLOCK} AND " + " AND ".join(f"{c} IS {row}.{c}" for c in KEY)


def _sqlite_add(row: str, latest: str, reviewed: str, when: str) -> str:
    """Statements adding ``latest`` and ``reviewed`` to the counts of session ``row`` (a
    trigger's NEW or OLD, or a session looked up by id) when ``when`` holds."""
    cols = ", ".join(KEY)
    values = ", ".join(f"{row}.{c}" for c in KEY)
    return (
        f"INSERT INTO population_counts (block, {cols}, latest, reviewed)"
        f" SELECT {row}.id / {BLOCK}, {values}, 0, 0 WHERE ({when}) AND NOT EXISTS"
        f" (SELECT 1 FROM population_counts WHERE {_sqlite_match(row)});"
        f" UPDATE population_counts SET latest = latest + ({latest}),"
        f" reviewed = reviewed + ({reviewed}) WHERE ({when}) AND id ="
        f" (SELECT min(id) FROM population_counts WHERE {_sqlite_match(row)});"
    )


def _submitted(session_id: str) -> str:
    return (
        f"(SELECT count(*) FROM reviews WHERE session_id = {session_id} AND status = 'submitted')"
    )


def _sqlite_review(session_id: str, delta: int, when: str = "1") -> str:
    """A statement counting session ``session_id`` as reviewed (+1) when its first submitted
    review came, or as not (-1) when its last one went, if it is a latest revision and
    ``when`` holds."""
    change = f"{_submitted(session_id)} = {1 if delta > 0 else 0}"
    match = " AND ".join(f"p.{c} IS s.{c}" for c in KEY)
    return (
        f"UPDATE population_counts SET reviewed = reviewed + ({delta})"
        f" WHERE ({when}) AND {change} AND id = (SELECT min(p.id) FROM population_counts p"
        f" JOIN sessions s ON p.block = s.id / {BLOCK} AND {match}"
        f" WHERE s.id = {session_id} AND s.is_latest);"
    )


SQLITE_TRIGGERS = {
    "population_session_insert": "AFTER INSERT ON sessions WHEN NEW.is_latest BEGIN "
    + _sqlite_add("NEW", "1", f"{_submitted('NEW.id')} > 0", "1")
    + " END",
    "population_session_update": f"AFTER UPDATE OF is_latest, {', '.join(KEY)} ON sessions"
    " BEGIN "
    + _sqlite_add("OLD", "-1", f"-({_submitted('OLD.id')} > 0)", "OLD.is_latest")
    + _sqlite_add("NEW", "1", f"{_submitted('NEW.id')} > 0", "NEW.is_latest")
    + " END",
    "population_session_delete": "AFTER DELETE ON sessions WHEN OLD.is_latest BEGIN "
    + _sqlite_add("OLD", "-1", f"-({_submitted('OLD.id')} > 0)", "1")
    + " END",
    "population_review_insert": "AFTER INSERT ON reviews WHEN NEW.status = 'submitted' BEGIN "
    + _sqlite_review("NEW.session_id", 1)
    + " END",
    "population_review_update": "AFTER UPDATE OF status, session_id ON reviews"
    " WHEN (OLD.status = 'submitted') <> (NEW.status = 'submitted')"
    " OR OLD.session_id <> NEW.session_id BEGIN "
    + _sqlite_review("OLD.session_id", -1, "OLD.status = 'submitted'")
    + " "
    + _sqlite_review("NEW.session_id", 1, "NEW.status = 'submitted'")
    + " END",
    "population_review_delete": "AFTER DELETE ON reviews WHEN OLD.status = 'submitted' BEGIN "
    + _sqlite_review("OLD.session_id", -1)
    + " END",
}

_PG_KEY_ARGS = "b integer, a text, v text, m text, t boolean, e boolean"
_PG_MATCH = (
    "block = b AND agent_name IS NOT DISTINCT FROM a AND agent_version IS NOT DISTINCT FROM v"
    " AND model IS NOT DISTINCT FROM m AND has_tool_error IS NOT DISTINCT FROM t"
    " AND escalated IS NOT DISTINCT FROM e"
)
_PG_GROUPED = (
    f"SELECT x.id / {BLOCK} AS b, x.agent_name AS a, x.agent_version AS v, x.model AS m,"
    " x.has_tool_error AS t, x.escalated AS e, {sign} count(*) AS l, {sign} count(*) FILTER"
    " (WHERE EXISTS (SELECT 1 FROM reviews r WHERE r.session_id = x.id"
    " AND r.status = 'submitted')) AS r FROM {rows} x WHERE x.is_latest GROUP BY 1, 2, 3, 4, 5, 6"
)

PG_FUNCTIONS = {
    "population_counts_add": f"({_PG_KEY_ARGS}, dl integer, dr integer) RETURNS void"
    " LANGUAGE plpgsql AS $$ BEGIN"
    " UPDATE population_counts SET latest = latest + dl, reviewed = reviewed + dr"
    f" WHERE id = (SELECT id FROM population_counts WHERE {_PG_MATCH}"
    " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED);"
    " IF NOT FOUND THEN INSERT INTO population_counts (block, agent_name, agent_version,"
    " model, has_tool_error, escalated, latest, reviewed) VALUES (b, a, v, m, t, e, dl, dr);"
    " END IF; END $$",
    "population_counts_sessions": "() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE g record; BEGIN"
    " IF TG_OP = 'INSERT' THEN FOR g IN "
    + _PG_GROUPED.format(sign="", rows="new_rows")
    + " LOOP PERFORM population_counts_add(g.b, g.a, g.v, g.m, g.t, g.e, g.l::integer,"
    " g.r::integer); END LOOP;"
    " ELSIF TG_OP = 'DELETE' THEN FOR g IN "
    + _PG_GROUPED.format(sign="-", rows="old_rows")
    + " LOOP PERFORM population_counts_add(g.b, g.a, g.v, g.m, g.t, g.e, g.l::integer,"
    " g.r::integer); END LOOP;"
    " ELSE FOR g IN SELECT b, a, v, m, t, e, sum(l) AS l, sum(r) AS r FROM ("
    + _PG_GROUPED.format(sign="", rows="new_rows")
    + " UNION ALL "
    + _PG_GROUPED.format(sign="-", rows="old_rows")
    + ") d GROUP BY b, a, v, m, t, e HAVING sum(l) <> 0 OR sum(r) <> 0"
    " LOOP PERFORM population_counts_add(g.b, g.a, g.v, g.m, g.t, g.e, g.l::integer,"
    " g.r::integer); END LOOP; END IF; RETURN NULL; END $$",
    "population_counts_review": "(sid integer, d integer) RETURNS void LANGUAGE plpgsql AS $$"
    " DECLARE s record; n bigint; BEGIN"
    " SELECT id, is_latest, agent_name, agent_version, model, has_tool_error, escalated INTO s"
    " FROM sessions WHERE id = sid FOR NO KEY UPDATE;"
    " IF NOT FOUND OR NOT s.is_latest THEN RETURN; END IF;"
    " SELECT count(*) INTO n FROM reviews WHERE session_id = sid AND status = 'submitted';"
    " IF (d > 0 AND n = 1) OR (d < 0 AND n = 0) THEN PERFORM population_counts_add("
    f" s.id / {BLOCK}, s.agent_name, s.agent_version, s.model, s.has_tool_error,"
    " s.escalated, 0, d); END IF; END $$",
    "population_counts_reviews": "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'submitted' AND NOT (TG_OP = 'UPDATE'"
    " AND NEW.status = 'submitted' AND NEW.session_id = OLD.session_id) THEN"
    " PERFORM population_counts_review(OLD.session_id, -1); END IF;"
    " IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'submitted' AND NOT (TG_OP = 'UPDATE'"
    " AND OLD.status = 'submitted' AND OLD.session_id = NEW.session_id) THEN"
    " PERFORM population_counts_review(NEW.session_id, 1); END IF;"
    " RETURN NULL; END $$",
}

PG_TRIGGERS = {
    "population_session_insert": "AFTER INSERT ON sessions REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE PROCEDURE population_counts_sessions()",
    "population_session_update": "AFTER UPDATE ON sessions REFERENCING OLD TABLE AS old_rows"
    " NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE PROCEDURE population_counts_sessions()",
    "population_session_delete": "AFTER DELETE ON sessions REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE PROCEDURE population_counts_sessions()",
    "population_review_insert": "AFTER INSERT ON reviews FOR EACH ROW"
    " WHEN (NEW.status = 'submitted') EXECUTE PROCEDURE population_counts_reviews()",
    "population_review_delete": "AFTER DELETE ON reviews FOR EACH ROW"
    " WHEN (OLD.status = 'submitted') EXECUTE PROCEDURE population_counts_reviews()",
    "population_review_update": "AFTER UPDATE OF status, session_id ON reviews FOR EACH ROW"
    " WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.session_id <> NEW.session_id)"
    " EXECUTE PROCEDURE population_counts_reviews()",
}


def upgrade() -> None:
    op.create_table(
        "population_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block", sa.Integer(), nullable=False),
        sa.Column("agent_name", sa.String(200), nullable=True),
        sa.Column("agent_version", sa.String(200), nullable=True),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("has_tool_error", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=True),
        sa.Column("latest", sa.Integer(), nullable=False),
        sa.Column("reviewed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_population_counts"),
    )
    op.create_index("ix_population_counts_block", "population_counts", ["block"])
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        for name, body in PG_FUNCTIONS.items():
            conn.execute(sa.text(f"CREATE FUNCTION {name} {body}"))
        triggers = PG_TRIGGERS
    else:
        triggers = SQLITE_TRIGGERS
    conn.execute(sa.text(FILL))
    for name, body in triggers.items():
        conn.execute(sa.text(f"CREATE TRIGGER {name} {body}"))
    op.create_index(
        "ix_sessions_id_version_started", "sessions", ["id", "agent_version", "started_at"]
    )
    op.create_index("ix_assignments_reviewer_item", "assignments", ["reviewer", "item_id"])
    op.create_index(
        "ix_batch_items_batch_item", "batch_items", ["batch_id", "id", "position", "session_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_batch_items_batch_item", table_name="batch_items")
    op.drop_index("ix_assignments_reviewer_item", table_name="assignments")
    op.drop_index("ix_sessions_id_version_started", table_name="sessions")
    conn = op.get_bind()
    for name in PG_TRIGGERS:
        table = "sessions" if "session" in name else "reviews"
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"DROP TRIGGER {name} ON {table}"))
        else:
            conn.execute(sa.text(f"DROP TRIGGER {name}"))
    if conn.dialect.name == "postgresql":
        for name in reversed(PG_FUNCTIONS):
            conn.execute(sa.text(f"DROP FUNCTION {name}"))
    op.drop_index("ix_population_counts_block", table_name="population_counts")
    op.drop_table("population_counts")
