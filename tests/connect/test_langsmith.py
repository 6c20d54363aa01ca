"""Push to LangSmith, against a local stand-in that answers as LangSmith's feedback API
does (create, 409 for an id it has, update by id, 429 with Retry-After, 401), every body
checked against the official SDK's ``FeedbackCreate`` model."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from langsmith import schemas
from sqlalchemy import delete

from reviewer.connect import langsmith
from reviewer.connect.http import HttpClient
from reviewer.domain.session import Source
from reviewer.services.importing import store_sessions
from reviewer.services.pushing import push
from reviewer.store.tables import SentLabel
from reviewer.store.workspace import Workspace
from tests.connect.helpers import JsonStub, latest, reopen, revise
from tests.export.conftest import FINE, WRONG, add_review
from tests.helpers.factories import make_session

KEY = "lsv2_pt_planted_0c4e"
RUN = "0f0e5c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
PROJECT = "9c3f2a5e-0d4b-4c1e-8f7a-2b6d1e0c5a44"
runs: list[dict[str, Any]] = []
"""Runs the stand-in holds (a test fills it)."""
queries: list[dict[str, Any]] = []
"""Bodies of every ``POST /runs/query``."""


@pytest.fixture
def stub() -> Iterator[tuple[str, dict[str, dict[str, Any]], list[str]]]:
    feedback: dict[str, dict[str, Any]] = {}
    calls: list[str] = []
    throttle = [1]
    del runs[:], queries[:]

    class Handler(JsonStub):
        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            calls.append(self.command)
            if self.headers.get("x-api-key") != KEY:
                return self.reply(401, {"detail": "Invalid token"})
            if throttle[0]:
                throttle[0] -= 1
                return self.reply(429, {"detail": "Too many requests"}, {"Retry-After": "2"})
            if self.command == "GET":  # GET /sessions?name=…&limit=1
                assert self.path.startswith("/sessions?") and "name=support" in self.path
                return self.reply(200, [{"id": PROJECT, "name": "support"}])
            if self.path == "/runs/query":
                assert body is not None
                queries.append(body)
                if "trace" in body:
                    mine = [r for r in runs if r["trace_id"] == body["trace"]]
                    return self.reply(200, {"runs": mine, "cursors": {"next": None}})
                assert body["session"] == [PROJECT]
                listed = sorted(
                    (r for r in runs if not body.get("is_root") or r["parent_run_id"] is None),
                    key=lambda r: r["start_time"],
                    reverse=True,  # newest first, as LangSmith lists
                )
                listed = [r for r in listed if r["start_time"] >= body.get("start_time", "")]
                at = int(body.get("cursor") or 0)
                shown = listed[at : at + body["limit"]]
                more = at + body["limit"] < len(listed)
                nxt = str(at + body["limit"]) if more else None
                return self.reply(200, {"runs": shown, "cursors": {"next": nxt}})
            if self.command == "POST":
                assert self.path == "/feedback"
                created = schemas.FeedbackCreate(**body)  # the SDK's own request model
                assert created.session_id is not None and created.start_time is not None
                if body["id"] in feedback:
                    return self.reply(409, {"detail": "Feedback already exists"})
                feedback[body["id"]] = body
                return self.reply(200, body)
            fid = self.path.removeprefix("/feedback/")
            if fid not in feedback:
                return self.reply(404, {"detail": "Feedback not found"})
            if self.command == "DELETE":
                del feedback[fid]
                return self.reply(200, {"message": "Feedback deleted"})
            assert set(body) <= {"score", "value", "comment", "correction"}
            feedback[fid] = {**feedback[fid], **body}
            return self.reply(200, feedback[fid])

        do_GET = do_POST = do_PATCH = do_DELETE = handle_one

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_port}", feedback, calls
    httpd.shutdown()
    httpd.server_close()


def test_feedback_created_once_then_updated_by_id(
    stub: tuple[str, dict[str, dict[str, Any]], list[str]],
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, feedback, calls = stub
    monkeypatch.setenv("LANGSMITH_API_KEY", KEY)
    ids = {"run_id": RUN, "trace_id": RUN, "session_id": PROJECT}
    store_sessions(workspace, [make_session("ls", source=Source(format="langsmith", ids=ids))])
    alice = add_review(workspace, "ls", "alice", WRONG)
    waits: list[float] = []

    def client() -> HttpClient:
        return HttpClient(langsmith.endpoint(url, "support"), sleep=waits.append)

    first = push(workspace, "langsmith", client())
    assert first.error is None and first.sent == len(feedback) > 0 and waits == [2.0]
    keys = {f["key"] for f in feedback.values()}
    assert {"quality", "correctness", "corrected_response"} <= keys
    assert all(f["session_id"] == PROJECT for f in feedback.values())

    assert push(workspace, "langsmith", client()).sent == 0
    changed = revise(workspace, alice, quality="4")
    del calls[:]
    third = push(workspace, "langsmith", client())
    assert third.sent == 1 and calls == ["PATCH"]  # updated in place, not created again
    assert len(feedback) == first.sent
    assert [f["score"] for f in feedback.values() if f["key"] == "quality"] == [4.0]

    # a push cut off after LangSmith took its items but before they were recorded: the
    # next push creates them again, LangSmith answers 409, and they are updated instead
    with workspace.write() as s:
        s.execute(delete(SentLabel))
    del calls[:]
    resent = push(workspace, "langsmith", client())
    assert resent.sent == first.sent and len(feedback) == first.sent
    assert calls.count("POST") == calls.count("PATCH") == first.sent

    add_review(workspace, "ls", "bob", FINE, minutes=3)
    monkeypatch.setenv("LANGSMITH_API_KEY", "wrong-planted")
    refused = push(workspace, "langsmith", client())
    assert refused.exit_code == 2 and "(credentials from LANGSMITH_API_KEY)" in str(refused.error)
    assert "planted" not in refused.model_dump_json()
    monkeypatch.setenv("LANGSMITH_API_KEY", KEY)
    fourth = push(workspace, "langsmith", client())
    assert fourth.error is None and fourth.sent > 0
    assert len(feedback) == first.sent + fourth.sent

    # alice reopens her review: the feedback she sent is deleted from LangSmith, once
    reopen(workspace, changed)
    del calls[:]
    withdrawn = push(workspace, "langsmith", client())
    assert (withdrawn.sent, withdrawn.withdrawn) == (0, first.sent)
    assert calls == ["DELETE"] * first.sent and len(feedback) == fourth.sent
    assert push(workspace, "langsmith", client()).withdrawn == 0


def _runs(n: int) -> list[dict[str, Any]]:
    """A root chain run and its LLM child, as ``/runs/query`` returns runs."""
    root = f"00000000-0000-4000-8000-{n:012d}"
    child = f"00000000-0000-4000-9000-{n:012d}"
    when = f"2026-12-02T10:{n // 60:02d}:{n % 60:02d}.000000"
    question = [{"role": "user", "content": f"Refund for order {n}?"}]
    return [
        {
            "id": root,
            "trace_id": root,
            "parent_run_id": None,
            "session_id": PROJECT,
            "name": "support-agent",
            "run_type": "chain",
            "start_time": when,
            "end_time": when,
            "inputs": {"question": f"Refund for order {n}?"},
            "outputs": {"answer": "Yes."},
        },
        {
            "id": child,
            "trace_id": root,
            "parent_run_id": root,
            "session_id": PROJECT,
            "name": "ChatOpenAI",
            "run_type": "llm",
            "start_time": when,
            "end_time": when,
            "inputs": {"messages": question},
            "outputs": {"choices": [{"message": {"role": "assistant", "content": "Yes."}}]},
        },
    ]


def test_pull_root_runs_since_the_last_pull_then_push_back(
    stub: tuple[str, dict[str, dict[str, Any]], list[str]],
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reviewer.services import browse
    from reviewer.services.pulling import pull

    url, feedback, _ = stub
    monkeypatch.setenv("LANGSMITH_API_KEY", KEY)
    for n in range(150):  # two pages of root runs
        runs.extend(_runs(n))
    waits: list[float] = []

    def client() -> HttpClient:
        return HttpClient(langsmith.endpoint(url, "support"), sleep=waits.append)

    first = pull(workspace, "langsmith", client())
    assert (first.traces, first.imported, first.error) == (150, 150, None)
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert s.source.format == "langsmith" and s.source.ids["session_id"] == PROJECT
    assert [st.content for st in s.steps][-1] == "Yes."

    runs.extend(_runs(150))
    del queries[:]
    second = pull(workspace, "langsmith", client())
    assert (second.traces, second.imported) == (1, 1)
    assert queries[0]["start_time"] == "2026-12-02T10:02:29.000000"  # where the last ended

    key = f"00000000-0000-4000-8000-{150:012d}"
    add_review(workspace, key, "alice", FINE)
    done = push(workspace, "langsmith", client())
    assert done.sent == len(feedback) > 0
    assert {f["run_id"] for f in feedback.values()} == {key}


def test_a_trace_that_gained_runs_since_the_last_pull_becomes_a_revision(
    stub: tuple[str, dict[str, dict[str, Any]], list[str]],
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reviewer.services.pulling import pull

    url, _, _ = stub
    monkeypatch.setenv("LANGSMITH_API_KEY", KEY)
    for n in range(3):
        runs.extend(_runs(n))

    def client() -> HttpClient:
        return HttpClient(langsmith.endpoint(url, "support"), sleep=lambda _: None)

    assert pull(workspace, "langsmith", client()).imported == 3
    assert pull(workspace, "langsmith", client()).traces == 0  # nothing new
    key = f"00000000-0000-4000-8000-{0:012d}"
    before = latest(workspace, key)

    # a follow-up LLM call joins the oldest trace after the pull
    later = "2026-12-02T11:00:00.000000"
    follow_up = [{"role": "user", "content": "And the refund?"}]
    answer = {"choices": [{"message": {"role": "assistant", "content": "Refunded."}}]}
    runs.append(
        {
            **runs[1],
            "id": "00000000-0000-4000-9999-000000000000",
            "start_time": later,
            "end_time": later,
            "inputs": {"messages": follow_up},
            "outputs": answer,
        }
    )
    grown = pull(workspace, "langsmith", client())
    assert (grown.traces, grown.imported, grown.revised, grown.duplicates) == (1, 0, 1, 0)
    after = latest(workspace, key)
    assert len(after.steps) > len(before.steps)
    assert after.steps[-1].content == "Refunded."
    assert pull(workspace, "langsmith", client()).traces == 0
