"""csv, jsonl and parquet: columns, values read back by pandas, manifests, reproducibility."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from reviewer.export.options import ExportOptions
from reviewer.services.exporting import ExportError, export, manifest_path_for
from reviewer.store.workspace import Workspace
from tests.export.conftest import check_lines, lines, schema

TABLES = ("csv", "jsonl", "parquet")


def _export(ws: Workspace, path: Path, fmt: str, **options: Any) -> dict[str, Any]:
    manifest = export(ws, ExportOptions(format=fmt, **options), path)
    return manifest.model_dump(mode="json", by_alias=True)


def _read(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_parquet(path)


def _plain(value: Any) -> Any:
    """A cell as plain Python, whichever way pandas typed it."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if hasattr(value, "tolist"):
        return [_plain(v) for v in value.tolist()]
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _frame_rows(frame: pd.DataFrame, fmt: str, json_columns: tuple[str, ...]) -> list[dict]:
    rows = []
    for record in frame.to_dict(orient="records"):
        row = {k: _plain(v) for k, v in record.items()}
        if fmt == "csv":
            for c in json_columns:
                row[c] = json.loads(row[c]) if row[c] is not None else None
        rows.append(row)
    return rows


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and float(a) == float(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("level", ["review", "session"])
def test_pandas_reads_every_table_back_to_the_same_values(
    labelled: Workspace, tmp_path: Path, level: str
) -> None:
    truth_path = tmp_path / f"truth-{level}.jsonl"
    _export(labelled, truth_path, "jsonl", level=level, status="all")
    truth = check_lines(truth_path, f"export-{level}-row.schema.json")
    assert len(truth) == (9 if level == "review" else 5)
    json_columns = ("failure_tags", "batches", "reviews")[: 1 if level == "review" else 3]
    for fmt in TABLES:
        path = tmp_path / f"labels-{level}.{fmt}"
        _export(labelled, path, fmt, level=level, status="all", neutralise_formulas=False)
        got = _frame_rows(_read(path, fmt), fmt, json_columns)
        assert [list(r) for r in got] == [list(r) for r in truth], fmt  # same columns, order
        for want, row in zip(truth, got, strict=True):
            for column, value in want.items():
                assert _same(value, row[column]), (fmt, column, value, row[column])


def test_review_rows_carry_the_review_and_its_session(labelled: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    manifest = _export(labelled, path, "jsonl")
    rows = lines(path)
    # Submitted only (the draft of s-4 is left out), ordered by session, reviewer.
    assert [(r["session_id"], r["reviewer"]) for r in rows] == [
        ("s-1", "alice"), ("s-1", "bob"), ("s-2", "alice"), ("s-2", "bob"),
        ("s-3", "alice"), ("s-3", "bob"), ("s-3", "lead"), ("s-5", "carol"),
    ]  # fmt: skip
    wrong = rows[2]
    assert wrong["label_quality"] == 2 and wrong["label_correctness"] == "incorrect"
    assert wrong["failure_tags"] == ["answered_incorrectly"]
    assert wrong["failure_step"] == 4
    assert wrong["rationale"] == "Said shipped; the tool said delayed."
    assert wrong["corrected_response"].startswith("Your order 42 is delayed")
    assert wrong["submitted_at"] == "2026-10-02T09:03:00.000000Z"
    assert wrong["agent_version"] == "1.0" and wrong["model"] == "gpt-4o-mini"
    assert rows[0]["batch"] == "week-1" and rows[2]["batch"] is None
    assert rows[7]["detail_policy"] == "answer in the customer's language"
    assert manifest["counts"] == {"rows": 8, "reviews": 8, "sessions": 4}
    assert [c["name"] for c in manifest["columns"]][:3] == [
        "review_uid",
        "session_id",
        "session_revision",
    ]


def test_session_rows_hold_the_decided_label_and_every_reviewers_values(
    labelled: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "s.jsonl"
    _export(labelled, path, "jsonl", level="session")
    rows = {r["session_id"]: r for r in check_lines(path, "export-session-row.schema.json")}
    assert set(rows) == {"s-1", "s-2", "s-3", "s-5"}
    agreed = rows["s-1"]
    assert (agreed["label_source"], agreed["reviewer_count"]) == ("consensus", 2)
    assert agreed["label_quality"] == 4  # lower median of 5 and 4
    assert agreed["unanimous"] is False and agreed["batches"] == ["week-1"]
    adjudicated = rows["s-3"]
    assert adjudicated["label_source"] == "adjudicated"
    assert adjudicated["label_correctness"] == "incorrect" and adjudicated["failure_step"] == 4
    assert [r["reviewer"] for r in adjudicated["reviews"]] == ["alice", "bob", "lead"]
    assert adjudicated["reviews"][0]["label_correctness"] == "correct"
    assert rows["s-2"]["label_quality"] == 1 and rows["s-2"]["unanimous"] is False
    assert rows["s-5"]["label_source"] == "single"


def test_the_same_export_twice_gives_the_same_bytes(labelled: Workspace, tmp_path: Path) -> None:
    for fmt in (*TABLES, "openai-sft", "eval-jsonl"):
        for level in ("review", "session"):
            a, b = tmp_path / f"a-{level}.{fmt}", tmp_path / f"b-{level}.{fmt}"
            ma = _export(labelled, a, fmt, level=level)
            mb = _export(labelled, b, fmt, level=level)
            assert a.read_bytes() == b.read_bytes(), (fmt, level)
            assert ma["data"]["sha256"] == mb["data"]["sha256"]


def test_the_manifest_describes_the_data(labelled: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    _export(labelled, path, "csv", where="version=1.0", status="submitted")
    manifest_file = manifest_path_for(path)
    assert manifest_file.name == "labels.csv.manifest.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    errors = list(schema("export-manifest.schema.json").iter_errors(manifest))
    assert not errors, errors[0].message
    data = path.read_bytes()
    assert manifest["data"] == {
        "file": "labels.csv",
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert manifest["where"] == "version=1.0" and manifest["status"] == "submitted"
    assert manifest["rubrics"] == [{"name": "default", "version": 1}]
    assert manifest["counts"] == {"rows": 7, "reviews": 7, "sessions": 3}
    assert manifest["schema"] == "export-review-row.schema.json"
    assert manifest["workspace"].endswith("labels.sqlite") and manifest["app_version"]
    assert manifest["neutralise_formulas"] is True and manifest["created_at"].endswith("Z")


def test_filters_batch_and_status_narrow_the_reviews(labelled: Workspace, tmp_path: Path) -> None:
    def sessions(**options: Any) -> list[str]:
        path = tmp_path / "f.jsonl"
        _export(labelled, path, "jsonl", **options)
        return [r["session_id"] for r in lines(path)]

    assert sessions(batch="week-1") == ["s-1", "s-1"]
    assert sessions(where="version=2.0") == ["s-5"]
    assert sessions(where="version=2.0", status="all") == ["s-4", "s-5"]
    with pytest.raises(ExportError, match="no batch named 'nope'"):
        sessions(batch="nope")
    with pytest.raises(ExportError, match="unknown field 'versoin'"):
        sessions(where="versoin=2.0")


def test_csv_cells_that_start_like_formulas_are_neutralised(
    labelled: Workspace, tmp_path: Path
) -> None:
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    _export(labelled, safe, "csv")
    _export(labelled, raw, "csv", neutralise_formulas=False)
    text = safe.read_text(encoding="utf-8")
    assert '"\'=HYPERLINK(""http://x"")"' in text
    assert '"=HYPERLINK' not in text
    assert '"=HYPERLINK(""http://x"")"' in raw.read_text(encoding="utf-8")
    assert text.startswith('"review_uid","session_id"') and b'"\r\n"' in safe.read_bytes()


def test_redact_pii_masks_contact_and_card_details(labelled: Workspace, tmp_path: Path) -> None:
    from tests.export.conftest import FINE, add_review

    add_review(
        labelled,
        "s-6",
        "alice",
        {
            **FINE,
            "rationale": "Customer jane.doe@example.com, +44 20 7946 0958,"
            " card 4111 1111 1111 1111.",
        },
    )
    path = tmp_path / "r.jsonl"
    manifest = _export(labelled, path, "jsonl", where="version=2.0", redact_pii=True)
    row = next(r for r in lines(path) if r["session_id"] == "s-6")
    assert row["rationale"] == "Customer [EMAIL], [PHONE], card [CARD]."
    assert manifest["redact_pii"] is True


def test_an_empty_selection_writes_an_empty_table(labelled: Workspace, tmp_path: Path) -> None:
    for fmt in TABLES:
        path = tmp_path / f"empty.{fmt}"
        manifest = _export(labelled, path, fmt, where="agent=nobody")
        assert manifest["counts"]["rows"] == 0
        assert len(_read(path, fmt)) == 0


def test_columns_are_the_union_of_the_rubric_versions_used(
    labelled: Workspace, tmp_path: Path
) -> None:
    from reviewer.domain.rubric import Dimension, DimensionKind, Option
    from reviewer.resources import default_rubric
    from reviewer.store.rubrics import store_rubric
    from tests.export.conftest import FINE, add_review

    base = default_rubric()
    tone = Dimension(
        name="tone",
        label="Tone",
        kind=DimensionKind.ORDINAL,
        options=[Option(value=v, label=v) for v in ("0.5", "1", "1.5")],
    )
    newer = base.model_copy(update={"dimensions": [tone, *base.dimensions]})
    with labelled.write() as s:
        _, stored = store_rubric(s, newer)
    assert stored.version == 2
    add_review(labelled, "s-6", "alice", {**FINE, "tone": "1.5"}, rubric=stored)
    path = tmp_path / "u.jsonl"
    manifest = _export(labelled, path, "jsonl")
    names = [c["name"] for c in manifest["columns"]]
    assert names[10:14] == ["label_tone", "label_quality", "label_correctness", "label_policy"]
    assert {c["name"]: c["type"] for c in manifest["columns"]}["label_tone"] == "float"
    assert manifest["rubrics"] == [
        {"name": "default", "version": 1},
        {"name": "default", "version": 2},
    ]
    rows = lines(path)
    assert rows[-1]["label_tone"] == 1.5 and rows[-1]["rubric_version"] == 2
    assert rows[0]["label_tone"] is None and rows[0]["rubric_version"] == 1
