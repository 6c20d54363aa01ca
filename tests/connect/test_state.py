"""What the workspace keeps of connections: it upgrades from before them, and a pull that
stops midway keeps a consistent cursor."""

from __future__ import annotations

from pathlib import Path

import httpx
from alembic import command
from sqlalchemy import text

from reviewer.connect.http import Endpoint, HttpClient
from reviewer.services.pulling import pull
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store import migrate
from reviewer.store.connections import connection_id, get_cursor, set_cursor


def test_a_workspace_from_before_connections_upgrades_and_keeps_cursors(tmp_path: Path) -> None:
    p = tmp_path / "old.sqlite"
    ws = init_workspace(p)
    before = migrate.script().get_revision("0008").down_revision
    assert isinstance(before, str)
    with ws.engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, before)
        assert "connections" not in {
            r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        }
    ws.close()
    ws = open_existing(str(p))
    assert migrate.current_revision(ws) == migrate.head_revision()
    with ws.write() as s:
        cid = connection_id(s, "phoenix", "http://127.0.0.1:6006", "default")
        set_cursor(s, cid, "U3Bhbjo0Mg==")
    with ws.read() as s:
        assert connection_id(s, "phoenix", "http://127.0.0.1:6006", "default") == cid
        assert get_cursor(s, cid) == "U3Bhbjo0Mg=="
    ws.close()


def test_a_pull_cut_off_midway_keeps_what_came_and_goes_on_from_there(tmp_path: Path) -> None:
    """The second page of new spans fails for good: the first page's traces are in, with
    the cursor after them; the next pull asks from there."""
    ws = init_workspace(tmp_path / "ws.sqlite")
    asked: list[str | None] = []

    def span(n: int) -> dict:
        return {"id": f"S{n}", "context": {"trace_id": f"{n:032x}", "span_id": f"{n:016x}"}}

    def otlp(trace: str) -> dict:
        n = int(trace, 16)
        return {
            "trace_id": trace,
            "span_id": f"{n:016x}",
            "name": "agent",
            "start_time_unix_nano": 1_700_000_000_000_000_000 + n,
            "attributes": [
                {"key": "llm.input_messages.0.message.role", "value": {"string_value": "user"}},
                {"key": "llm.input_messages.0.message.content", "value": {"string_value": f"q{n}"}},
                {"key": "openinference.span.kind", "value": {"string_value": "LLM"}},
            ],
            "status": {"code": 1},
        }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/otlpv1"):
            traces = request.url.params.get_list("trace_id")
            return httpx.Response(200, json={"data": [otlp(t) for t in traces]})
        cursor = request.url.params.get("cursor")
        asked.append(cursor)
        if cursor is None:
            return httpx.Response(200, json={"data": [span(1), span(2)], "next_cursor": "S3"})
        if cursor == "S3" and len(asked) == 2:
            return httpx.Response(500, text="database is locked")
        return httpx.Response(200, json={"data": [span(2), span(3)], "next_cursor": None})

    def client() -> HttpClient:
        ep = Endpoint("Phoenix", "http://phoenix.test", "default")
        return HttpClient(ep, retries=0, transport=httpx.MockTransport(handler))

    first = pull(ws, "phoenix", client())
    assert first.error is not None and "500" in first.error
    assert (first.traces, first.imported, first.exit_code) == (2, 2, 3)
    second = pull(ws, "phoenix", client())
    assert asked[2] == "S2"  # on from the last span committed, not from the start
    assert (second.traces, second.imported, second.error) == (1, 1, None)
    ws.close()
