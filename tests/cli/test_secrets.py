"""A password in a workspace URL never shows: not in output, logs, diagnostics, manifests,
reports, reject reports or packs."""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.secrets import mask_secrets
from reviewer.synth.generator import write_jsonl
from tests.helpers.postgres import temporary_database

PLANTED = "Pl4ntedS3cret"


def test_passwords_are_masked_in_every_form_they_come_in() -> None:
    for text, leaked in (
        (f"postgresql://ana:{PLANTED}@db.example:5432/reviews", PLANTED),
        (f"postgresql+psycopg://ana:{PLANTED}@h/db?password={PLANTED}2", PLANTED),
        (f"no workspace at /tmp/postgresql:/ana:{PLANTED}@h:5432/db", PLANTED),
        (f"host=h password='{PLANTED} x' dbname=d", PLANTED),
        (f"PGPASSWORD={PLANTED} reviewer stats", PLANTED),
    ):
        masked = mask_secrets(text)
        assert leaked not in masked and "***" in masked, masked
    assert mask_secrets("ana@example.org wrote to postgresql://ana@h/db") == (
        "ana@example.org wrote to postgresql://ana@h/db"
    )


@pytest.mark.parametrize("command", ["backup", "check", "restore"])
def test_backup_check_and_restore_recognise_a_url_and_mask_it(command: str) -> None:
    url = f"postgresql://ana:{PLANTED}@127.0.0.1:5432/reviews"
    result = CliRunner().invoke(main, [command, url])
    assert result.exit_code == 2
    assert "for SQLite workspaces" in result.output
    assert "no workspace at" not in result.output  # not taken for a file path
    assert PLANTED not in result.output


def _log_files() -> list[Path]:
    handlers = logging.getLogger("reviewer").handlers
    return [Path(h.baseFilename) for h in handlers if isinstance(h, logging.FileHandler)]


def _everything_written(folder: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield str(path), data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    yield f"{path}!{name}", z.read(name)


@pytest.mark.postgres
def test_a_planted_password_appears_nowhere(tmp_path: Path) -> None:
    with temporary_database() as plain:
        if plain is None:
            pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
        # trust authentication: the server ignores the password, the app must hide it
        url = plain.replace("postgres@", f"postgres:{PLANTED}@")
        out = tmp_path / "out"
        out.mkdir()
        sessions = tmp_path / "s.jsonl"
        write_jsonl(sessions, 20, 1)
        bad = tmp_path / "bad.jsonl"
        bad.write_text(sessions.read_text().splitlines()[0] + "\n{not json\n")
        runs = [
            ["init", url],
            ["import", url, str(sessions), str(bad), "--report", str(out / "rejects.jsonl")],
            ["sample", url, "--name", "b", "--size", "5", "--reviewers", "ann"],
            ["stats", url],
            ["stats", url, "--json"],
            ["stats", url, "--batch", "missing"],
            ["report", url, "--out", str(out / "report.html")],
            ["export", url, "--format", "jsonl", "--out", str(out / "labels.jsonl")],
            ["export", url, "--format", "csv", "--out", str(out / "labels.csv")],
            ["batch", "list", url],
            ["audit", url],
            ["pack", "create", url, "--batch", "b", "--reviewer", "ann",
             "--out", str(out / "ann.reviewpack")],
            ["merge", url, str(tmp_path / "missing.reviewresults")],
            ["backup", url],
            ["check", url],
            ["restore", url],
            ["init", url],  # exists already: an error naming the workspace
            ["stats", url.replace("5432", "1")],  # unreachable: an error naming the URL
            ["diagnostics"],
        ]  # fmt: skip
        outputs = []
        for args in runs:
            result = CliRunner().invoke(main, args)
            outputs.append(f"$ {args[0]}\n{result.output}\n{result.exception!r}")
        logging.getLogger("reviewer.test").error("failed to open %s", url)
        everything = "\n".join(outputs)
        assert "***" in everything  # the URL was named, masked
        assert PLANTED not in everything, everything
        for name, data in _everything_written(out):
            assert PLANTED.encode() not in data, name
        for log in _log_files():
            assert PLANTED not in log.read_text(encoding="utf-8"), log
        diagnostics = CliRunner().invoke(main, ["diagnostics"])
        assert PLANTED not in diagnostics.output
