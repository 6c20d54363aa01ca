"""A reviewer who forges results (signing them with the pack's secret, which they hold)
gains no lead powers: merge takes only the pack's reviewer's reviewer reviews of the items
recorded for the pack, under its rubric; anything else is refused, listed, and nothing of
the file is merged. Someone without the secret cannot change a file in transit."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from reviewer.cli import main
from reviewer.domain.pack import AUDIT_ENTRY, REVIEWS_ENTRY
from reviewer.domain.review import Review, ReviewRole
from reviewer.domain.rubric import Rubric
from reviewer.services.importing import store_sessions
from reviewer.services.merging import MergeError, merge_results
from reviewer.services.packs import create_pack, open_pack, write_results
from reviewer.store.reviews import review_snapshot, snapshot_sha256
from reviewer.store.rubrics import find_rubric
from reviewer.store.tables import AuditEntry, RubricRow
from reviewer.store.workspace import Workspace
from tests.helpers.factories import make_session
from tests.packs.helpers import GOOD, key, make_batch, review_item, reviews_state
from tests.packs.hostile import forge_results, secret_for


@pytest.fixture
def lead(workspace: Workspace) -> Workspace:
    make_batch(workspace, "b1", {"ana": range(7), "bob": range(7, 10)}, items=10)
    make_batch(workspace, "b2", {"ana": [0]}, items=10)
    return workspace


@pytest.fixture
def genuine(lead: Workspace, rubric: Rubric, tmp_path: Path) -> Path:
    pack = create_pack(lead, "b1", "ana", tmp_path / "ana.reviewpack")
    offline = open_pack(pack.path)
    review_item(offline, rubric, 0, "ana")
    out = write_results(offline, tmp_path / "ana.results").path
    offline.close()
    return out


def _lines(results: Path, entry: str) -> list[dict[str, Any]]:
    with zipfile.ZipFile(results) as z:
        return [orjson.loads(x) for x in z.read(entry).splitlines() if x.strip()]


def _line(review: Review) -> dict[str, Any]:
    """A results line for ``review``, its content hash right."""
    digest = snapshot_sha256(review_snapshot(review))
    return {"review": review.model_dump(mode="json"), "sha256": digest, "history": [digest]}


def _forged(
    lead: Workspace,
    genuine: Path,
    dest: Path,
    reviews: list[dict[str, Any]],
    audit: list[dict[str, Any]] | None = None,
) -> Path:
    return forge_results(
        genuine,
        dest,
        secret_for(lead, genuine),
        entries={
            REVIEWS_ENTRY: b"".join(orjson.dumps(r) + b"\n" for r in reviews),
            AUDIT_ENTRY: b"".join(orjson.dumps(a) + b"\n" for a in audit or []),
        },
    )


def _review(rubric: Rubric, pos: int, **change: Any) -> Review:
    fields: dict[str, Any] = {
        "session_key": key(pos),
        "batch": "b1",
        "reviewer": "ana",
        "rubric_name": rubric.name,
        "rubric_version": rubric.version,
        "values": dict(GOOD),
        "status": "submitted",
        **change,
    }
    return Review.model_validate(fields)


def test_forged_lead_reviews_are_refused_listed_and_nothing_is_merged(
    lead: Workspace, rubric: Rubric, genuine: Path, tmp_path: Path
) -> None:
    """Issue #21: adjudicator and gold reviews, sessions outside the pack and the batch,
    and another reviewer's name, in a file re-signed by the reviewer."""
    honest = _lines(genuine, REVIEWS_ENTRY)
    hostile = [
        _review(rubric, 1, role=ReviewRole.ADJUDICATOR),
        _review(rubric, 2, role=ReviewRole.GOLD),
        _review(rubric, 8),  # bob's item, in the batch but not in ana's pack
        _review(rubric, 0, batch="b2"),  # another batch
        _review(rubric, 1, reviewer="bob"),
        _review(rubric, 2, session_revision=7),  # a revision the pack did not carry
    ]
    forged = _forged(
        lead, genuine, tmp_path / "forged.results", honest + [_line(r) for r in hostile]
    )
    before = reviews_state(lead)
    with pytest.raises(MergeError) as err:
        merge_results(lead, [forged])
    refused = err.value.refused
    assert [r.review_uid for r in refused] == [r.uid for r in hostile]
    reasons = [r.reason for r in refused]
    assert "role is adjudicator" in reasons[0] and "role is gold" in reasons[1]
    assert "not an item of this pack" in reasons[2] and "outside batch 'b1'" in reasons[3]
    assert "by bob, in ana's pack" in reasons[4] and "revision 7" in reasons[5]
    message = str(err.value)
    assert "\n" not in message and "forged.results" in message and "nothing was merged" in message
    assert "role is adjudicator" in message and "and 3 more" in message
    assert reviews_state(lead) == before == []  # not even the honest review of item 0


def test_a_file_changed_in_transit_fails_its_authentication(
    lead: Workspace, genuine: Path, tmp_path: Path
) -> None:
    """A third party (no secret) edits a review and reseals the checksum: refused."""
    lines = _lines(genuine, REVIEWS_ENTRY)
    lines[0]["review"]["values"]["quality"] = "1"
    review = Review.model_validate(lines[0]["review"])
    lines[0]["sha256"] = snapshot_sha256(review_snapshot(review))
    forged = forge_results(
        genuine,
        tmp_path / "transit.results",
        b"not the pack's secret",
        entries={REVIEWS_ENTRY: b"".join(orjson.dumps(x) + b"\n" for x in lines)},
    )
    with pytest.raises(MergeError, match="fails its authentication") as err:
        merge_results(lead, [genuine, forged])
    assert "transit.results" in str(err.value)
    assert reviews_state(lead) == []
    assert merge_results(lead, [genuine]).added == 1  # the genuine file alone merges


def test_reviews_under_another_rubric_version_are_refused(
    lead: Workspace, rubric: Rubric, genuine: Path, tmp_path: Path
) -> None:
    v2 = rubric.model_copy(update={"version": rubric.version + 1})
    with lead.write() as s:
        s.add(
            RubricRow(
                name=v2.name,
                version=v2.version,
                definition=v2.model_dump(mode="json"),
                created_at=make_session().steps[1].timestamp,
            )
        )
    with lead.read() as s:
        assert find_rubric(s, v2.name, v2.version) is not None
    forged = _forged(
        lead, genuine, tmp_path / "v2.results", [_line(_review(rubric, 1, rubric_version=2))]
    )
    with pytest.raises(MergeError) as err:
        merge_results(lead, [forged])
    [refusal] = err.value.refused
    assert refusal.reason == "it uses rubric default v2, not the pack's (default v1)"


def test_a_newer_revision_of_a_pack_item_is_refused(
    lead: Workspace, rubric: Rubric, genuine: Path, tmp_path: Path
) -> None:
    """The session changed at home after packing: the pack's results may only review the
    revision it carried."""
    store_sessions(lead, [make_session(key(1), text="reworded")])  # revision 2 of item 1
    forged = _forged(
        lead, genuine, tmp_path / "rev.results", [_line(_review(rubric, 1, session_revision=2))]
    )
    with pytest.raises(MergeError, match="revision 2 of it is not an item of this pack"):
        merge_results(lead, [forged])


def test_duplicated_ids_and_foreign_audit_entries_are_refused(
    lead: Workspace, rubric: Rubric, genuine: Path, tmp_path: Path
) -> None:
    bobs = review_item(lead, rubric, 8, "bob")
    [honest] = _lines(genuine, REVIEWS_ENTRY)
    audit = _lines(genuine, AUDIT_ENTRY)
    lead_entry = {**audit[0], "actor": "lead", "action": "adjudicate"}
    about_bob = {**audit[0], "review_uid": bobs.uid}
    forged = _forged(
        lead, genuine, tmp_path / "dup.results", [honest, honest], [*audit, lead_entry, about_bob]
    )
    before = reviews_state(lead)
    with pytest.raises(MergeError) as err:
        merge_results(lead, [forged])
    assert [r.reason for r in err.value.refused] == [
        "it appears twice in the file",
        "an audit entry by lead, in ana's pack",
        "an audit entry about a review this pack may not change",
    ]
    assert reviews_state(lead) == before
    with lead.read() as s:
        assert s.scalars(select(AuditEntry.actor).where(AuditEntry.actor == "lead")).all() == []


def test_more_reviews_than_the_pack_has_items_are_refused_at_once(
    lead: Workspace, rubric: Rubric, genuine: Path, tmp_path: Path
) -> None:
    many = [_line(_review(rubric, 0)) for _ in range(8)]
    forged = _forged(lead, genuine, tmp_path / "many.results", many)
    with pytest.raises(MergeError, match="holds 8 reviews for a pack of 7 items"):
        merge_results(lead, [forged])


def test_the_merge_command_lists_what_it_refused(
    lead: Workspace, rubric: Rubric, genuine: Path, tmp_path: Path
) -> None:
    forged = _forged(
        lead,
        genuine,
        tmp_path / "forged.results",
        [_line(_review(rubric, 1, role=ReviewRole.GOLD)), _line(_review(rubric, 8))],
    )
    assert lead.path is not None
    result = CliRunner().invoke(main, ["merge", str(lead.path), str(forged)])
    assert result.exit_code != 0
    out = result.output
    assert "refused 2 review(s)" in out and "nothing was merged" in out
    assert "its role is gold" in out and "is not an item of this pack" in out
    assert reviews_state(lead) == []


def test_a_pack_carries_only_the_reviewers_own_reviewer_reviews_of_its_items(
    lead: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    """ana is also a lead here: her adjudication (item 8, bob's) and gold label stay home."""
    from reviewer.services.reviewing import save

    own = review_item(lead, rubric, 0, "ana")
    for pos, role in ((8, ReviewRole.ADJUDICATOR), (1, ReviewRole.GOLD)):
        save(lead, _review(rubric, pos, role=role), rubric)
    pack = create_pack(lead, "b1", "ana", tmp_path / "ana.reviewpack")
    assert pack.reviews == 1
    with zipfile.ZipFile(pack.path) as z:
        [line] = z.read(REVIEWS_ENTRY).splitlines()
    assert orjson.loads(line)["review"]["uid"] == own.uid
