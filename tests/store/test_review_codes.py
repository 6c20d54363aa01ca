"""The option codes and failure flag stored beside each review (revision 0010): written by
every save, filled in by the upgrade, and giving the same figures as the values and tags."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from reviewer.domain.option_codes import encode
from reviewer.domain.review import Review, ReviewStatus
from reviewer.domain.rubric import Dimension, DimensionKind, Option, Rubric
from reviewer.resources import default_rubric
from reviewer.services.analytics import StatsQuery, compute_stats
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store import migrate
from reviewer.store.reviews import save_review
from reviewer.store.rubrics import store_rubric
from reviewer.store.workspace import Workspace
from tests.helpers.workspaces import downgrade
from tests.services.test_analytics_postgres import _fill
from tests.store.test_postgres import pg_url as pg_url  # the fixture, for this module

QUERIES = (StatsQuery(), StatsQuery(batch="pg"), StatsQuery(where="version=1.0,2.0"))


def _other_rubric(**kinds: DimensionKind) -> Rubric:
    """A second rubric sharing dimension names with the default one, its options in another
    order and some not in it, and a boolean dimension."""
    options = {
        "quality": ["5", "3", "1"],
        "correctness": ["unsure", "incorrect", "correct"],
    }
    default = {"quality": DimensionKind.ORDINAL, "correctness": DimensionKind.CHOICE}
    dims = []
    for name, values in options.items():
        kind = kinds.get(name, default[name])
        listed = [Option(value=v, label=v) for v in values] if kind in default.values() else []
        dims.append(Dimension(name=name, label=name.title(), kind=kind, options=listed))
    dims.append(Dimension(name="solved", label="Solved", kind=DimensionKind.BOOLEAN))
    tags = [Option(value=v, label=v) for v in ("looped", "rude")]
    dims.append(Dimension(name="failures", label="Failures", kind=DimensionKind.MULTI_SELECT,
                          options=tags))  # fmt: skip
    return Rubric(name="other", dimensions=dims)


def _label_other(ws: Workspace, rubric: Rubric) -> None:
    """Reviews with the other rubric outside any batch, some solved, some not, some unset."""
    with ws.write() as s:
        _, rubric = store_rubric(s, rubric)
        for i in range(12):
            values: dict[str, Any] = {
                "quality": ["5", "3", "1"][i % 3],
                "correctness": ["unsure", "incorrect", "correct", None][i % 4],
                "failures": ["looped"] if i % 5 == 0 else [],
            }
            if i % 3:
                values["solved"] = i % 2 == 0
            review = Review(session_key=f"s-{i:03d}", reviewer=f"r{i % 2}", rubric_name="other",
                            rubric_version=rubric.version, values=values,
                            status=ReviewStatus.SUBMITTED)  # fmt: skip
            save_review(s, review, rubric)


def _figures(ws: Workspace) -> list[dict[str, Any]]:
    return [compute_stats(ws, q).model_dump(mode="json", exclude={"generated_at"}) for q in QUERIES]


def _forget_codes(ws: Workspace, where: str = "1 = 1") -> None:
    with ws.write() as s:
        s.execute(text(f"UPDATE reviews SET option_codes = NULL, failed = NULL WHERE {where}"))


def _stored(ws: Workspace) -> dict[int, tuple[Any, ...]]:
    with ws.read() as s:
        rows = s.execute(text("SELECT id, option_codes, failed FROM reviews ORDER BY id"))
        return {int(i): (c, None if f is None else bool(f)) for i, c, f in rows}


@pytest.mark.parametrize(
    "kinds",
    [
        {},
        # "correctness" a choice in one rubric, a text in the other: only the values tell
        {"correctness": DimensionKind.TEXT},
    ],
)
def test_figures_from_the_stored_codes_are_those_of_the_values_and_tags(
    tmp_path: Path, kinds: dict[str, DimensionKind]
) -> None:
    ws = init_workspace(tmp_path / "ws.sqlite")
    _fill(ws)
    _label_other(ws, _other_rubric(**kinds))
    stored = _figures(ws)
    solved = [d for d in stored[0]["quality"]["distributions"] if d["dimension"] == "solved"]
    assert [o["count"] for o in solved[0]["options"]] == [4, 4]
    assert stored[0]["quality"]["failure_categories"]
    _forget_codes(ws, "id % 2 = 0")  # some reviews without codes (written by an older app)
    assert _figures(ws) == stored
    _forget_codes(ws)
    assert _figures(ws) == stored
    ws.close()


def test_every_save_writes_the_codes_of_its_values_and_whether_it_has_tags(
    tmp_path: Path,
) -> None:
    ws = init_workspace(tmp_path / "ws.sqlite")
    _fill(ws)
    rubric = default_rubric()
    with ws.read() as s:
        rows = s.execute(text('SELECT id, "values", option_codes, failed FROM reviews')).all()
        tagged = {int(r) for r in s.scalars(text("SELECT review_id FROM review_tags"))}
    assert tagged and len(rows) > len(tagged)
    for review_id, values, codes, failed in rows:
        assert codes == encode(rubric, json.loads(values))
        assert codes is not None and bool(failed) == (review_id in tagged)
    # saved again with another value and without its tags
    review = Review(session_key="s-023", reviewer="zed", rubric_name=rubric.name,
                    rubric_version=rubric.version, status=ReviewStatus.SUBMITTED,
                    values={"quality": "5", "failure_categories": ["looped"]})  # fmt: skip
    stored = text("SELECT failed, option_codes FROM reviews WHERE id = :id")
    with ws.write() as s:
        first = save_review(s, review, rubric)
        failed, codes = s.execute(stored, {"id": first.id}).one()
        assert bool(failed) is True and codes == encode(rubric, review.values)
        again = review.model_copy(update={"values": {"quality": "3", "failure_categories": []}})
        row = save_review(s, again, rubric)
        failed, codes = s.execute(stored, {"id": row.id}).one()
        assert bool(failed) is False and codes == encode(rubric, again.values)
    ws.close()


def test_codes_are_positional_in_the_rubric_and_none_where_the_values_do_not_fit() -> None:
    other = _other_rubric()
    # digits: quality (radix 4), correctness (4), solved (3)
    assert encode(other, {}) == 0
    assert encode(other, {"quality": "5"}) == 1
    assert encode(other, {"quality": "1", "correctness": "correct"}) == 3 + 4 * 3
    assert encode(other, {"solved": False}) == 16 * 1
    assert encode(other, {"solved": True, "failures": ["looped"]}) == 16 * 2
    assert encode(other, {"quality": "4"}) is None  # not one of its options
    assert encode(other, {"solved": "yes"}) is None
    assert encode(other, {"policy": "compliant"}) is None  # not one of its dimensions
    many = [Dimension(name=f"d{i}", label="d", kind=DimensionKind.BOOLEAN) for i in range(40)]
    assert encode(Rubric(name="wide", dimensions=many), {}) is None  # 3**40 > 2**49


def test_the_upgrade_codes_as_saving_does() -> None:
    upgrade = importlib.import_module("reviewer.store.migrations.versions.0010_review_codes")
    rubrics = [default_rubric(), _other_rubric()]
    cases: list[dict[str, Any]] = [
        {}, {"quality": "5"}, {"quality": "1", "correctness": "correct", "solved": True},
        {"solved": False, "failures": ["rude"]}, {"quality": "4"}, {"solved": 1},
        {"policy": "compliant", "quality": "2"}, {"quality": None, "correctness": "incorrect"},
    ]  # fmt: skip
    for rubric in rubrics:
        coder = upgrade._coder(rubric.model_dump(mode="json"))
        for values in cases:
            assert upgrade._encode(coder, values) == encode(rubric, values), values


def test_an_older_workspace_upgrades_with_the_codes_and_flags_filled_in(
    tmp_path: Path,
) -> None:
    p = tmp_path / "old.sqlite"
    ws = init_workspace(p)
    _fill(ws)
    _label_other(ws, _other_rubric())
    saved, figures = _stored(ws), _figures(ws)
    assert all(c is not None and f is not None for c, f in saved.values())
    downgrade(ws, "0009")
    with ws.read() as s:
        columns = {r[1] for r in s.execute(text("PRAGMA table_info(reviews)"))}
    assert "option_codes" not in columns and "failed" not in columns
    # a review an older app stored with values its rubric does not have
    with ws.write() as s:
        s.execute(text("""UPDATE reviews SET "values" = '{"quality": "9"}' WHERE id = 1"""))
    ws.close()

    ws = open_existing(p)
    assert migrate.current_revision(ws) == migrate.head_revision()
    with ws.read() as s:
        # the gold labels and adjudications are read through an index, not a scan
        plan = s.execute(text("EXPLAIN QUERY PLAN SELECT id FROM reviews"
                              " WHERE role <> 'reviewer' AND role = 'gold'")).all()  # fmt: skip
    assert "ix_reviews_lead" in str(plan)
    upgraded = _stored(ws)
    assert upgraded.pop(1) == (None, saved.pop(1)[1])
    assert upgraded == saved
    after = _figures(ws)
    _forget_codes(ws)
    assert after == _figures(ws)  # the reviews without codes count as the values say
    assert after != figures  # …which for review 1 are not those saved before
    ws.close()


@pytest.mark.postgres
def test_a_postgres_workspace_upgrades_with_the_same_codes_and_figures(pg_url: str) -> None:
    ws = init_workspace(pg_url)
    _fill(ws)
    saved, figures = _stored(ws), _figures(ws)
    downgrade(ws, "0009")
    ws.close()
    ws = open_existing(pg_url)
    assert migrate.current_revision(ws) == migrate.head_revision()
    assert _stored(ws) == saved
    assert _figures(ws) == figures
    ws.close()
