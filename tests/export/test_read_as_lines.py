"""Review tables read from SQLite as lines (the fast way) are the files read row by row.

The workspace holds what real ones can: awkward text (quotes, commas, line breaks, formulas,
personal data, non-Latin scripts, 40,000-character answers), labels of every JSON type
where the rubric expects another, floats that need 17 digits, missing times, and review ids
in another order than the export's.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from reviewer.domain.review import ReviewRole
from reviewer.export.options import ExportOptions
from reviewer.services import exporting
from reviewer.services.exporting import export, manifest_path_for
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from reviewer.store.workspace import Workspace
from tests.export.conftest import FINE, WRONG, add_review, build
from tests.helpers.factories import make_session

TEXTS = [
    "plain", "it's", 'say "hi"', "comma, here", "two\nlines", "crlf\r\nend", "tab\tin",
    "NULL", "", "   ", "=SUM(A1:A9)", "+1", "-2", "@cmd", "\tlead tab", "\rcr", "zoë 中文 😀",
    "mail jane.doe@example.com or +44 20 7946 0958, card 4111 1111 1111 1111",
    "back\\slash", "x" * 40_000, "'quoted'", "a''b", "trailing\n",
]  # fmt: skip
VALUES: list[Any] = [
    "5", "4.0", "2.5", 3, 1.5, True, False, None, "abc", "", [], ["tool_failure", 3, None],
    ["looped", "looped"], "not a list", {"nested": [1, "x"]}, 1e300, -0.0,
]  # fmt: skip
FLOATS = [75.5, 0.1 + 0.2, 1e-7, 1e300, 123456.789012345678, 0.0, 2.0, 1 / 3]


def _values(rng: random.Random) -> dict[str, Any]:
    pool = VALUES + TEXTS
    out: dict[str, Any] = {}
    for name in ("quality", "correctness", "policy", "failure_categories", "rationale",
                 "corrected_response", "extra"):  # fmt: skip
        if rng.random() < 0.8:
            out[name] = rng.choice(pool)
    return out


def _awkward(path: Path) -> Workspace:
    ws = init_workspace(path)
    build(ws)
    rng = random.Random(20261129)
    keys = [f"k-{rng.randrange(10**6)}-{t[:12]}" for t in TEXTS if t.strip()] + ["NULL"]
    rng.shuffle(keys)  # stored in another order than exported
    store_sessions(ws, [make_session(k, version=rng.choice(["1.0", "2.0"])) for k in keys])
    for i, key in enumerate(keys):
        for reviewer in rng.sample(["alice", "o'brien", "zoë", "=cmd", "bob"], 2):
            add_review(ws, key, reviewer, rng.choice([FINE, WRONG]), minutes=i, batch=None)
    add_review(ws, keys[0], "lead", WRONG, role=ReviewRole.ADJUDICATOR, minutes=99)
    con = sqlite3.connect(path)
    ids = [r[0] for r in con.execute("SELECT id FROM reviews")]
    for rid in ids:
        con.execute(
            'UPDATE reviews SET "values" = ?, details = ?, status_reason = ?, active_seconds = ?,'
            " failure_step = ?, simulated = ?, started_at = ? WHERE id = ?",
            (
                orjson.dumps(_values(rng)).decode(),
                orjson.dumps({"policy": rng.choice(TEXTS)} if rng.random() < 0.3 else {}).decode(),
                rng.choice([None, *TEXTS]),
                rng.choice(FLOATS),
                rng.choice([None, 0, 3, 2**40]),
                rng.choice([0, 1]),
                rng.choice([None, "2026-10-02 09:00:00.000000"]),
                rid,
            ),
        )
    for sid in [r[0] for r in con.execute("SELECT id FROM sessions")]:
        con.execute(
            "UPDATE sessions SET agent_name = ?, agent_version = ?, model = ?, started_at = ?"
            " WHERE id = ?",
            (
                rng.choice(TEXTS),
                "2.0" if sid % 3 == 0 else rng.choice([None, *TEXTS]),
                rng.choice(TEXTS),
                None,
                sid,
            ),
        )
    con.commit()
    con.close()
    return ws


@pytest.fixture
def awkward(tmp_path: Path) -> Iterator[Workspace]:
    ws = _awkward(tmp_path / "awkward.sqlite")
    yield ws
    ws.close()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each attempt's way of reading (True: as lines), in order; chunks of 7 reviews."""
    seen: list[bool] = []
    real = exporting._write_once

    def spy(*args: Any, lines: bool) -> Any:
        seen.append(lines)
        return real(*args, lines=lines)

    monkeypatch.setattr(exporting, "_write_once", spy)
    monkeypatch.setattr(exporting, "FETCH", 7)
    return seen


def _both_ways(
    ws: Workspace, tmp: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, **options: Any
) -> tuple[bytes, bytes]:
    got = []
    for lines in (True, False):
        monkeypatch.setattr(exporting, "LINES", lines)
        out = tmp / f"{lines}.{fmt}"
        manifest = export(ws, ExportOptions(format=fmt, **options), out)
        assert manifest.counts.rows > 0
        kept = json.loads(manifest_path_for(out).read_text(encoding="utf-8"))
        kept.pop("created_at")
        kept["data"].pop("file")
        got.append((out.read_bytes(), kept))
    (fast, fast_manifest), (plain, plain_manifest) = got
    assert fast_manifest == plain_manifest
    return fast, plain


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"redact_pii": True, "status": "all"},
        {"neutralise_formulas": False},
        {"where": "version=2.0"},
    ],
)
def test_reading_as_lines_writes_the_same_file(
    awkward: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reads: list[bool],
    fmt: str,
    options: dict[str, Any],
) -> None:
    fast, plain = _both_ways(awkward, tmp_path, monkeypatch, fmt, **options)
    assert fast == plain
    assert reads == [True, False]  # the fast way was taken, and needed no second attempt


def test_text_holding_a_nul_is_read_row_by_row_and_written_whole(
    awkward: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reads: list[bool]
) -> None:
    path = awkward.path
    assert path is not None
    with sqlite3.connect(path) as con:
        con.execute("UPDATE sessions SET model = 'gpt' || char(0) || '-4o' WHERE id = 3")
    fast, plain = _both_ways(awkward, tmp_path, monkeypatch, "jsonl")
    assert fast == plain and b'"gpt\\u0000-4o"' in fast
    assert reads == [True, False, False]  # lines noticed the NUL: read again row by row


def test_a_value_the_app_never_stores_is_read_row_by_row(
    awkward: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reads: list[bool]
) -> None:
    path = awkward.path
    assert path is not None
    with sqlite3.connect(path) as con:
        con.execute("UPDATE reviews SET simulated = 'yes' WHERE id = 5")
    fast, plain = _both_ways(awkward, tmp_path, monkeypatch, "csv")
    assert fast == plain
    assert reads == [True, False, False]
