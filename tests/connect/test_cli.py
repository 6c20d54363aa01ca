"""`reviewer pull` / `reviewer push` as a user runs them, and a planted key that must
appear nowhere: not in output, logs, the workspace, or anything written."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.services.workspaces import init_workspace
from tests.connect import servers
from tests.export.conftest import FINE, WRONG, add_review

SECRET = "phx-planted-secret-5e1d0b"


@pytest.fixture
def refusing() -> Iterator[str]:
    """A server on 127.0.0.1 that answers 401 to everything, as a wrong key gets."""

    class Refuse(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"detail": "Invalid token"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def _files_hold(root: Path, secret: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_pull_and_push_commands_and_the_key_is_never_written(
    server: servers.Server,
    refusing: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reviewer.logs import log_dir

    monkeypatch.setenv("PHOENIX_API_KEY", SECRET)
    ws_path = tmp_path / "ws.sqlite"
    init_workspace(ws_path).close()
    servers.send_traces(server, "cli", 0, 2)
    runner = CliRunner()
    outputs: list[str] = []

    def run(*args: str) -> tuple[int, str]:
        r = runner.invoke(main, list(args))
        outputs.append(r.output + (r.stderr if r.stderr_bytes is not None else ""))
        return r.exit_code, r.stdout

    code, out = run(
        "pull", "phoenix", str(ws_path), "--url", server.url, "--project", "cli", "--json"
    )
    assert code == 0, outputs[-1]
    assert json.loads(out)["imported"] == 2

    from reviewer.services.workspaces import open_existing

    ws = open_existing(str(ws_path))
    add_review(ws, "conv-0", "alice", WRONG)
    add_review(ws, "conv-1", "bob", FINE)
    ws.close()
    code, out = run(
        "push",
        str(ws_path),
        "--to",
        "phoenix",
        "--url",
        server.url,
        "--project",
        "cli",
        "--dry-run",
        "--json",
    )
    dry = json.loads(out)
    assert (code, dry["dry_run"]) == (0, True) and dry["sent"] > 0
    code, out = run(
        "push", str(ws_path), "--to", "phoenix", "--url", server.url, "--project", "cli"
    )
    assert code == 0 and f"sent {dry['sent']}, 0 unchanged, 0 refused" in out
    code, out = run(
        "push", str(ws_path), "--to", "phoenix", "--url", server.url, "--project", "cli"
    )
    assert code == 0 and f"sent 0, {dry['sent']} unchanged" in out
    # another project of the same server: none of these sessions came from there
    code, out = run(
        "push", str(ws_path), "--to", "phoenix", "--url", server.url, "--project", "other"
    )
    assert code == 0 and "2 sessions not pulled from here, not sent: conv-0, conv-1" in out

    # a project that does not exist, and a server that refuses the key: exit 2, named
    code, _ = run("pull", "phoenix", str(ws_path), "--url", server.url, "--project", "nope")
    assert code == 2 and f"Phoenix at {server.url} (project 'nope'): not found (404)" in outputs[-1]
    code, _ = run("pull", "phoenix", str(ws_path), "--url", refusing)
    assert code == 2
    assert f"Phoenix at {refusing} (project 'default') refused the credentials (401)" in outputs[-1]
    assert "PHOENIX_API_KEY" in outputs[-1]
    # a key in the URL goes in the Authorization header, and is shown nowhere
    code, _ = run("pull", "phoenix", str(ws_path), "--url", f"http://me:{SECRET}@{refusing[7:]}")
    assert code == 2 and f"Phoenix at {refusing} (project 'default') refused" in outputs[-1]

    code, _ = run("diagnostics")  # what a user attaches to a bug report
    assert code == 0
    for text in outputs:
        assert SECRET not in text
    assert _files_hold(tmp_path, SECRET) == []  # workspace, its WAL, backups
    assert _files_hold(log_dir(), SECRET) == []


def test_mlflow_pull_and_push_commands_and_the_token_is_never_written(
    mlflow_server: servers.Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewer.logs import log_dir
    from reviewer.services.workspaces import open_existing

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", SECRET)  # MLflow without auth ignores it
    ws_path = tmp_path / "ws.sqlite"
    init_workspace(ws_path).close()
    servers.send_mlflow_traces(mlflow_server, "cli", 0, 2)
    runner = CliRunner()
    outputs: list[str] = []
    url = mlflow_server.url

    def run(*args: str) -> tuple[int, str]:
        r = runner.invoke(main, list(args))
        outputs.append(r.output + (r.stderr if r.stderr_bytes is not None else ""))
        return r.exit_code, r.stdout

    code, out = run("pull", "mlflow", str(ws_path), "--url", url, "--project", "cli", "--json")
    assert code == 0, outputs[-1]
    assert (json.loads(out)["imported"], json.loads(out)["listed"]) == (2, 2)
    ws = open_existing(str(ws_path))
    add_review(ws, "conv-0", "alice", WRONG)
    add_review(ws, "conv-1", "bob", FINE)
    ws.close()
    push = ("push", str(ws_path), "--to", "mlflow", "--url", url, "--project", "cli")
    code, out = run(*push, "--json")
    sent = json.loads(out)["sent"]
    assert code == 0 and sent > 0
    code, out = run(*push)
    assert code == 0 and f"sent 0, {sent} unchanged" in out
    code, _ = run("pull", "mlflow", str(ws_path), "--url", url, "--project", "nope")
    assert code == 2 and f"MLflow at {url}: no experiment named 'nope'" in outputs[-1]
    for text in outputs:
        assert SECRET not in text
    assert _files_hold(tmp_path, SECRET) == []
    assert _files_hold(log_dir(), SECRET) == []


def test_an_error_from_a_server_names_the_project_as_typed(refusing: str, tmp_path: Path) -> None:
    """The error line is plain text: markup in a project name is neither styled nor eaten."""
    ws_path = tmp_path / "ws.sqlite"
    init_workspace(ws_path).close()
    project = "[bold]team[/bold]"
    result = CliRunner().invoke(
        main, ["pull", "phoenix", str(ws_path), "--url", refusing, "--project", project]
    )
    assert result.exit_code != 0
    assert f"'{project}'" in result.output and "401" in result.output


def test_pull_with_a_filter_it_cannot_read_says_where_before_anything_is_opened(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "ws.sqlite"
    init_workspace(ws).close()
    args = ["pull", "phoenix", str(ws), "--url", "http://127.0.0.1:9", "--where", "steps>>2"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "--where:" in result.output and "(at character" in result.output
