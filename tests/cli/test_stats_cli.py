"""`reviewer stats` and `reviewer report` from the command line."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.domain.rubric import Rubric
from reviewer.resources import default_rubric
from reviewer.schemas import SCHEMA_DIR
from reviewer.services.importing import store_sessions
from reviewer.services.workspaces import init_workspace
from tests.helpers.factories import make_session
from tests.services.analytics_helpers import batch, label
from tests.store.test_postgres import pg_url as pg_url  # the fixture, for this module

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "small", "span",
    "i", "table", "thead", "tbody", "tr", "th", "td", "svg", "rect", "text", "path", "line",
    "circle", "g",
}  # fmt: skip


class _Tags(HTMLParser):
    """Every element name, attribute name and attribute value of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: list[str] = []
        self.values: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attributes += [k for k, _ in attrs]
        self.values += [v or "" for _, v in attrs]


HOSTILE_KEY = '<img src="https://evil.example/x.png" onerror="alert(1)">'
HOSTILE_REVIEWER = "<script>alert('eve')</script>"


@pytest.fixture
def reviewed(tmp_path: Path) -> Path:
    """A batch of 6 sessions reviewed by ann and a hostile name, who disagree on one."""
    path = tmp_path / "ws.sqlite"
    ws = init_workspace(path)
    rubric: Rubric = default_rubric()
    made = [make_session(f"s-{i}", version=("1.0", "2.0")[i % 2]) for i in range(5)]
    made.append(make_session(HOSTILE_KEY, version="2.0"))
    store_sessions(ws, made)
    b = batch(ws, "demo", size=6, reviewers=["ann", HOSTILE_REVIEWER], overlap=1.0, seed=1)
    for item in b.items:
        bad = item.session_key == HOSTILE_KEY
        label(ws, rubric, item.session_key, "ann", batch="demo", active=40.0)
        label(ws, rubric, item.session_key, HOSTILE_REVIEWER, batch="demo",
              correctness="incorrect" if bad else "correct",
              tags=["hallucination"] if bad else [], active=80.0)  # fmt: skip
    ws.close()
    return path


def test_stats_json_follows_the_committed_schema(reviewed: Path) -> None:
    result = CliRunner().invoke(main, ["stats", str(reviewed), "--batch", "demo", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    schema = json.loads((SCHEMA_DIR / "stats.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    assert data["format_version"] == 1
    assert data["batch"] == "demo"
    assert data["coverage"]["total"]["assigned"] == 12
    assert data["coverage"]["total"]["submitted"] == 12
    assert data["agreement"]["items"] == 6
    assert data["agreement"]["disagreements_total"] == 1
    assert data["agreement"]["disagreements"][0]["session_key"] == HOSTILE_KEY
    assert [c["tag"] for c in data["quality"]["failure_categories"]] == ["hallucination"]


def test_stats_text_shows_every_section(reviewed: Path) -> None:
    result = CliRunner().invoke(main, ["stats", str(reviewed)])
    assert result.exit_code == 0, result.output
    for heading in (
        "Coverage",
        "By reviewer",
        "Per agent version",
        "Failure categories",
        "Krippendorff's alpha",
        "Cohen's kappa",
        "Disagreements: 1 (1 not adjudicated)",
    ):
        assert heading in result.output
    assert HOSTILE_REVIEWER in result.output  # printed as text, not interpreted


def test_unknown_batch_and_bad_filter_say_so_in_one_line(reviewed: Path) -> None:
    result = CliRunner().invoke(main, ["stats", str(reviewed), "--batch", "nope"])
    assert result.exit_code == 2
    assert "no batch named 'nope'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    bad = CliRunner().invoke(main, ["stats", str(reviewed), "--where", "versoin=1"])
    assert bad.exit_code == 2 and "did you mean 'version'" in bad.output


def test_report_is_one_self_contained_file_with_content_escaped(
    reviewed: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(reviewed), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "<svg" in html and "<style>" in html
    # nothing to load: only these elements, no attribute that loads, links or runs anything
    tags = _Tags()
    tags.feed(html)
    assert tags.names <= ALLOWED_TAGS, tags.names - ALLOWED_TAGS
    assert not [a for a in tags.attributes if a in ("src", "href") or a.startswith("on")]
    assert not [v for v in tags.values if "://" in v or "url(" in v]
    assert "url(" not in html and "@import" not in html
    assert HOSTILE_KEY not in html and HOSTILE_REVIEWER not in html
    assert "&lt;script&gt;alert(&#x27;eve&#x27;)&lt;/script&gt;" in html
    assert html.count("&lt;img src=&quot;https://evil.example/x.png&quot;") == 1  # as text
    for section in ("Coverage", "Quality", "Agreement", "Gold items", "Human vs automated"):
        assert f"<h2>{section}" in html


def test_report_with_unknown_batch_writes_nothing(reviewed: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        main, ["report", str(reviewed), "--out", str(out), "--batch", "nope"]
    )
    assert result.exit_code == 2
    assert not out.exists()


def _sampled_but_not_reviewed(workspace: str) -> None:
    ws = init_workspace(workspace)
    store_sessions(ws, [make_session(f"s-{i}", version=("1.0", "2.0")[i % 2]) for i in range(8)])
    ws.close()
    sampled = CliRunner().invoke(
        main, ["sample", workspace, "--name", "first", "--size", "6", "--reviewers", "ann,bo"]
    )
    assert sampled.exit_code == 0, sampled.output


def _first_look_works(workspace: str, tmp_path: Path) -> None:
    """A lead's first look right after `reviewer sample`: empty figures, no crash."""
    text = CliRunner().invoke(main, ["stats", workspace])
    assert text.exit_code == 0, text.output
    assert "no reviews yet" in text.output
    per_batch = CliRunner().invoke(main, ["stats", workspace, "--batch", "first", "--json"])
    assert per_batch.exit_code == 0, per_batch.output
    data = json.loads(per_batch.stdout)
    jsonschema.validate(data, json.loads((SCHEMA_DIR / "stats.schema.json").read_text("utf-8")))
    assert data["coverage"]["total"]["assigned"] == 6
    assert data["coverage"]["total"]["remaining"] == 6
    assert data["quality"]["reviews"] == 0
    out = tmp_path / "first.html"
    report = CliRunner().invoke(main, ["report", workspace, "--out", str(out)])
    assert report.exit_code == 0, report.output
    assert "No reviews yet" in out.read_text(encoding="utf-8")


def test_stats_and_report_right_after_sample_show_empty_figures(tmp_path: Path) -> None:
    workspace = str(tmp_path / "ws.sqlite")
    _sampled_but_not_reviewed(workspace)
    _first_look_works(workspace, tmp_path)


@pytest.mark.postgres
def test_stats_and_report_right_after_sample_on_postgres(pg_url: str, tmp_path: Path) -> None:
    _sampled_but_not_reviewed(pg_url)
    _first_look_works(pg_url, tmp_path)
