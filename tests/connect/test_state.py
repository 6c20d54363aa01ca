"""What the workspace keeps of connections: it upgrades from before them, and a pull that
stops midway keeps a consistent cursor."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
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
        if request.url.path.endswith("/span_annotations"):
            return httpx.Response(200, json={"data": [], "next_cursor": None})
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


def _stub_phoenix(spans_of: dict[str, list[dict]], listed: list[list[dict]]) -> HttpClient:
    """Phoenix's two listings from fixed data: ``listed`` pages of new spans (one page per
    call with no cursor), ``spans_of`` the OTLP spans of each trace."""
    pages = iter(listed)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/span_annotations"):
            return httpx.Response(200, json={"data": [], "next_cursor": None})
        if request.url.path.endswith("/otlpv1"):
            wanted = request.url.params.get_list("trace_id")
            data = [sp for t in wanted for sp in spans_of.get(t, [])]
            return httpx.Response(200, json={"data": data})
        return httpx.Response(200, json={"data": next(pages), "next_cursor": None})

    ep = Endpoint("Phoenix", "http://phoenix.test", "default")
    return HttpClient(ep, retries=0, transport=httpx.MockTransport(handler))


def _llm_span(
    trace: str, span: str, question: str, answer: str | None, start: int, conv: str = "conv-grow"
) -> dict:
    attrs = [
        ("openinference.span.kind", "LLM"),
        ("session.id", conv),
        ("llm.input_messages.0.message.role", "user"),
        ("llm.input_messages.0.message.content", question),
    ]
    if answer is not None:
        attrs += [
            ("llm.output_messages.0.message.role", "assistant"),
            ("llm.output_messages.0.message.content", answer),
        ]
    return {
        "trace_id": trace,
        "span_id": span,
        "name": "ChatCompletion",
        "start_time_unix_nano": 1_700_000_000_000_000_000 + start * 10**9,
        "end_time_unix_nano": 1_700_000_000_000_000_000 + start * 10**9 + 5 * 10**8,
        "attributes": [{"key": k, "value": {"string_value": v}} for k, v in attrs],
        "status": {"code": 1},
    }


def test_a_trace_that_grew_since_the_last_pull_becomes_a_revision(tmp_path: Path) -> None:
    from reviewer.services import browse

    ws = init_workspace(tmp_path / "ws.sqlite")
    trace = "ab" * 16
    first = _llm_span(trace, "01" * 8, "Where is order 7?", None, 1)
    spans_of = {trace: [first]}
    listed = [
        [{"id": "S1", "context": {"trace_id": trace, "span_id": "01" * 8}}],
        [{"id": "S2", "context": {"trace_id": trace, "span_id": "02" * 8}}],
        [],
    ]
    c = _stub_phoenix(spans_of, listed)
    assert pull(ws, "phoenix", c).imported == 1
    # the agent answered later: a second span of the same trace is stored in Phoenix
    spans_of[trace] = [first, _llm_span(trace, "02" * 8, "Where is order 7?", "Friday.", 2)]
    grown = pull(ws, "phoenix", c)
    assert (grown.traces, grown.imported, grown.revised) == (1, 0, 1)
    [sid] = browse.session_ids(ws)
    latest = browse.get_session(ws, sid)
    assert [st.content for st in latest.steps] == ["Where is order 7?", "Friday."]
    # nothing new: nothing fetched, nothing changes
    assert pull(ws, "phoenix", c).traces == 0
    ws.close()


def test_cancel_after_a_page_keeps_it_and_its_cursor(tmp_path: Path) -> None:
    from reviewer.services.progress import Progress

    ws = init_workspace(tmp_path / "ws.sqlite")
    t1, t2 = "01" * 16, "02" * 16
    spans_of = {
        t1: [_llm_span(t1, "01" * 8, "one?", "1", 1)],
        t2: [_llm_span(t2, "02" * 8, "two?", "2", 2)],
    }
    listed = [[{"id": "S1", "context": {"trace_id": t1, "span_id": "01" * 8}}]]
    progress = Progress()
    progress.update = lambda done, total=None, message="": (  # type: ignore[method-assign]
        progress.cancel() if done else None,
        progress.check(),
    )
    stopped = pull(ws, "phoenix", _stub_phoenix(spans_of, listed), progress=progress)
    assert (stopped.cancelled, stopped.traces, stopped.imported) == (True, 1, 1)
    with ws.read() as s:
        assert get_cursor(s, connection_id(s, "phoenix", "http://phoenix.test", "default")) == "S1"
    ws.close()


def test_pull_where_imports_only_the_sessions_it_matches_and_counts_the_rest(
    tmp_path: Path,
) -> None:
    """``--where`` judges the pulled sessions as ``sample``/``export`` judge stored ones;
    the cursor moves past the others (the next pull does not fetch them again). Progress
    knows from the start how many traces there are to fetch."""
    from reviewer.services.filters import FilterError
    from reviewer.services.progress import Progress

    ws = init_workspace(tmp_path / "ws.sqlite")
    t1, t2, t3 = "01" * 16, "02" * 16, "03" * 16
    spans_of = {
        t1: [_llm_span(t1, "01" * 8, "one?", "Done.", 1, conv="answered")],
        t2: [_llm_span(t2, "02" * 8, "two?", None, 2, conv="unanswered")],
        t3: [_llm_span(t3, "03" * 8, "three?", "Done.", 3, conv="answered-too")],
    }
    listed = [
        [
            {"id": f"S{n}", "context": {"trace_id": t, "span_id": f"{n:016x}"}}
            for n, t in enumerate((t1, t2, t3), start=1)
        ]
    ]
    seen: list[tuple[int, int | None]] = []
    progress = Progress(lambda done, total, _: seen.append((done, total)))
    with pytest.raises(FilterError):
        pull(ws, "phoenix", _stub_phoenix(spans_of, []), where="steps>>2")
    got = pull(ws, "phoenix", _stub_phoenix(spans_of, listed), where="steps>=2", progress=progress)
    assert (got.traces, got.imported, got.filtered_out, got.error) == (3, 2, 1, None)
    from reviewer.services import browse

    keys = sorted(browse.get_session(ws, i).id for i in browse.session_ids(ws))
    assert keys == ["answered", "answered-too"]
    assert seen[0] == (0, None) and {total for _, total in seen[1:]} == {3}
    assert seen[-1] == (3, 3)
    ws.close()
