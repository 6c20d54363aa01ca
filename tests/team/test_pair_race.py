"""Two apps saving the same reviewer's preference of a pair at once (PostgreSQL): the
second gets a clean conflict naming the stored preference, never a raw database error."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select, text

from reviewer.domain.preference import Preference, Winner
from reviewer.services.preferences import PreferenceRaceError, save_preference
from reviewer.services.workspaces import init_workspace
from reviewer.store.tables import BatchItemRow, PreferenceReviewRow
from reviewer.store.workspace import open_workspace
from tests.team.pool import make_pair_pool


def _waiting_on_a_lock(url: str) -> bool:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as c:
            return bool(
                c.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND datname = current_database()"
                    )
                )
            )
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_racing_pair_saves_end_in_a_conflict_not_an_integrity_error(pg_url: str) -> None:
    ws = init_workspace(pg_url)
    make_pair_pool(ws, "pool", 1)
    other = open_workspace(pg_url)
    mine = Preference(batch="pool", position=0, reviewer="ana", winner=Winner.RIGHT)
    with ThreadPoolExecutor(1) as pool, other.write() as s:
        # The other app inserts ana's preference and has not committed yet…
        item_id = s.scalar(select(BatchItemRow.id))
        assert item_id is not None
        now = datetime.now(UTC)
        s.add(
            PreferenceReviewRow(
                uid="theirs", item_id=item_id, reviewer="ana", winner="left", dimensions={},
                status="submitted", updated_at=now, submitted_at=now,
            )
        )  # fmt: skip
        s.flush()
        # …while this one saves too: it waits on the unique constraint…
        saving = pool.submit(save_preference, ws, mine, submit=True)
        deadline = time.monotonic() + 10
        while not _waiting_on_a_lock(pg_url):
            assert time.monotonic() < deadline, "the second save never reached the database"
            assert not saving.done(), saving.exception()
        # …and the other app commits first (leaving the with block).
    with pytest.raises(PreferenceRaceError, match="saved elsewhere") as err:
        saving.result(timeout=10)
    assert err.value.stored is not None and err.value.stored.winner is Winner.LEFT
    assert err.value.attempted.winner is Winner.RIGHT
    with ws.read() as s:
        assert s.scalars(select(PreferenceReviewRow.uid)).all() == ["theirs"]
    other.close()
    ws.close()
