"""Whatever was edited where, merging results in any order gives the same reviews, and
merging them all again changes nothing."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.domain.review import ReviewStatus
from reviewer.resources import default_rubric
from reviewer.services.merging import merge_results
from reviewer.services.packs import create_pack, open_pack, write_results
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.migrate import backup_sqlite
from tests.packs.helpers import BAD, GOOD, make_batch, review_item, reviews_state

ITEMS = 3
VALUES = [GOOD, BAD, {**GOOD, "quality": "1"}]
LOCAL = [{**GOOD, "rationale": f"the lead's edit {i}"} for i in range(len(VALUES))]
"""Edits made in the lead's workspace never equal an offline one by chance: when both sides
arrive at the same content, an offline step flagged before that was known stays flagged
(nothing is deleted), which is the one case where order shows."""
# Per item: None (untouched) or which values to give it.
edits = st.lists(
    st.one_of(st.none(), st.sampled_from(range(len(VALUES)))), min_size=ITEMS, max_size=ITEMS
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    started=edits,
    ana_day1=edits,
    ana_day2=edits,
    bob=edits,
    local=edits,
)
def test_any_merge_order_gives_the_same_reviews(
    started: list[int | None],
    ana_day1: list[int | None],
    ana_day2: list[int | None],
    bob: list[int | None],
    local: list[int | None],
) -> None:
    rubric = default_rubric()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ws = init_workspace(tmp / "lead.sqlite")
        make_batch(ws, "b1", {"ana": range(ITEMS), "bob": range(ITEMS)}, items=ITEMS)
        uids: dict[tuple[str, int], str] = {}
        for pos, v in enumerate(started):  # reviews ana had begun before her pack was made
            if v is not None:
                r = review_item(ws, rubric, pos, "ana", values=VALUES[v], status=ReviewStatus.DRAFT)
                uids[("ana", pos)] = r.uid
        files = []
        for who, days in (("ana", [ana_day1, ana_day2]), ("bob", [bob])):
            pack = create_pack(ws, "b1", who, tmp / f"{who}.reviewpack")
            offline = open_pack(pack.path, data_dir=tmp / "data")
            mine = dict(uids)
            for day, plan in enumerate(days):
                for pos, v in enumerate(plan):
                    if v is None:
                        continue
                    r = review_item(
                        offline, rubric, pos, who, values=VALUES[v], uid=mine.get((who, pos))
                    )
                    mine[(who, pos)] = r.uid
                files.append(write_results(offline, tmp / f"{who}-{day}.results").path)
            offline.close()
        for pos, v in enumerate(local):  # meanwhile, in the lead's workspace (team mode)
            if v is not None:
                review_item(
                    ws,
                    rubric,
                    pos,
                    "ana",
                    values=LOCAL[v],
                    uid=uids.get(("ana", pos)),
                )
        ws.close()

        outcomes = []
        for n, order in enumerate(itertools.permutations(files)):
            copy = tmp / f"order-{n}.sqlite"
            backup_sqlite(tmp / "lead.sqlite", copy)
            twin = open_existing(copy)
            for f in order:
                merge_results(twin, [f])
            state = [r[:7] for r in reviews_state(twin)]  # all but the version counter
            merge_results(twin, list(files))  # everything again: nothing changes
            assert [r[:7] for r in reviews_state(twin)] == state
            twin.close()
            outcomes.append(state)
        assert all(o == outcomes[0] for o in outcomes)
