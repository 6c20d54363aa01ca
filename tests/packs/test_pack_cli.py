"""`reviewer pack`, `reviewer merge` and `reviewer audit` from the command line."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.domain.rubric import Rubric
from reviewer.services.packs import open_pack
from reviewer.store.workspace import Workspace
from tests.packs.helpers import key, make_batch, review_item


@pytest.fixture
def lead(workspace: Workspace) -> Workspace:
    make_batch(workspace, "b1", {"ana": range(3)}, items=3)
    return workspace


def _run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def test_pack_results_merge_and_audit_from_the_command_line(
    lead: Workspace, rubric: Rubric, tmp_path: Path
) -> None:
    ws_path = lead.path
    pack = tmp_path / "ana.reviewpack"
    code, out = _run("pack", "create", ws_path, "--batch", "b1", "--reviewer", "ana", "--out", pack)
    assert code == 0, out
    assert "for ana (3 items of 'b1'" in out and zipfile.is_zipfile(pack)

    code, out = _run("pack", "open", pack, "--no-open")
    assert code == 0, out
    offline = open_pack(pack)
    assert str(offline.path) == out.strip()
    review_item(offline, rubric, 0, "ana")
    review_item(offline, rubric, 1, "ana")
    offline.close()

    results = tmp_path / "ana.reviewresults"
    code, out = _run("pack", "results", pack, "--out", results, "--json")
    assert code == 0, out
    assert json.loads(out)["reviews"] == 2

    code, out = _run("merge", ws_path, results, "--json", "--actor", "lead")
    assert code == 0, out
    report = json.loads(out)
    assert (report["added"], report["updated"], report["skipped"], report["flagged"]) == (
        2,
        0,
        0,
        0,
    )
    code, out = _run("merge", ws_path, results)
    assert code == 0 and "merged before, nothing changed" in out
    assert "total: added 0, updated 0, skipped 2, flagged 0" in out

    code, out = _run("audit", ws_path, "--session", key(0), "--json")
    assert code == 0, out
    entries = json.loads(out)
    assert [e["action"] for e in entries] == ["submit", "merge"]  # done offline, merged here
    assert {e["session_key"] for e in entries} == {key(0)}
    code, out = _run("audit", ws_path)
    assert code == 0 and out.count("\n") == 4


def test_command_line_errors_are_one_clear_line(lead: Workspace, tmp_path: Path) -> None:
    ws_path = lead.path
    cases = [
        (
            (
                "pack",
                "create",
                ws_path,
                "--batch",
                "nope",
                "--reviewer",
                "ana",
                "--out",
                tmp_path / "p",
            ),
            "no batch named 'nope'",
        ),
        (
            (
                "pack",
                "create",
                ws_path,
                "--batch",
                "b1",
                "--reviewer",
                "zed",
                "--out",
                tmp_path / "p",
            ),
            "zed has no items assigned",
        ),
        (("audit", ws_path, "--session", "nope"), "no session 'nope'"),
    ]
    junk = tmp_path / "junk.reviewresults"
    junk.write_bytes(b"PK\x03\x04 not really")
    cases.append((("merge", ws_path, junk), "not a readable results file"))
    cases.append((("pack", "results", junk, "--out", tmp_path / "r"), "not a readable"))
    for args, message in cases:
        code, out = _run(*args)
        assert code == 2, out
        assert message in out and len(out.strip().splitlines()) == 1, out
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    "args",
    [("pack",), ("pack", "create"), ("pack", "open"), ("pack", "results"), ("merge",), ("audit",)],
)
def test_every_pack_command_has_help(args: tuple[str, ...]) -> None:
    code, out = _run(*args, "--help")
    assert code == 0 and "Usage:" in out
