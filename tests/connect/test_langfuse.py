"""Push to Langfuse, against a local stand-in that answers in Langfuse's documented shapes
(202 / 207 with counts and messages, 429 with Retry-After, 401), every request checked
against the official SDK's request model."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from langfuse.api.core.pydantic_utilities import parse_obj_as
from langfuse.api.core.serialization import convert_and_respect_annotation_metadata
from langfuse.api.observations.types.observations_v2response import ObservationsV2Response
from langfuse.api.score_configs.types.create_score_config_request import (
    CreateScoreConfigRequest,
)
from langfuse.api.score_configs.types.score_configs import ScoreConfigs
from langfuse.api.scores.types.create_score_request import CreateScoreRequest

from reviewer.connect import langfuse
from reviewer.connect.http import HttpClient
from reviewer.domain.session import Source
from reviewer.resources import default_rubric
from reviewer.services.importing import store_sessions
from reviewer.services.pushing import push
from reviewer.store.workspace import Workspace
from tests.connect.helpers import JsonStub, latest, reopen, revise
from tests.export.conftest import FINE, WRONG, add_review
from tests.helpers.factories import make_session

PUBLIC, SECRET = "pk-lf-planted-1", "sk-lf-planted-2"
FIELDS = {
    "id",
    "traceId",
    "observationId",
    "name",
    "value",
    "dataType",
    "timestamp",
    "comment",
    "metadata",
    "configId",
}


class Langfuse:
    """What the stand-in keeps: scores by (id, timestamp), as Langfuse stores them, so a
    re-send with another timestamp shows up as a duplicate."""

    def __init__(self) -> None:
        self.scores: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests = 0
        """Requests that sent scores."""
        self.throttle = 0
        self.missing_traces = {"lf-missing"}
        self.traces: list[dict[str, Any]] = []
        """Full traces (with observations), as ``GET /api/public/traces/{id}`` gives them."""
        self.listed: list[dict[str, str]] = []
        """The query of every ``GET /api/public/traces``."""
        self.configs: dict[str, dict[str, Any]] = {}
        """Score configs by id."""
        self.observations_listed: list[dict[str, str]] = []
        """The query of every ``GET /api/public/v2/observations``."""


@pytest.fixture
def stub() -> Iterator[tuple[str, Langfuse]]:
    state = Langfuse()
    expected = "Basic " + base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()

    def observations(q: dict[str, str]) -> dict[str, Any]:
        """``GET /api/public/v2/observations``: core fields, newest first, cursor pages;
        the reply checked against the SDK's ``ObservationsV2Response``."""
        state.observations_listed.append(q)
        assert q["fields"] == "core"
        rows = sorted(
            (o for t in state.traces for o in t["observations"]),
            key=lambda o: (o["startTime"], o["id"]),
            reverse=True,
        )
        rows = [o for o in rows if o["startTime"] >= q.get("fromStartTime", "")]
        at, limit = int(q.get("cursor") or 0), int(q["limit"])
        core = ("id", "traceId", "startTime", "endTime", "parentObservationId", "type")
        data = [{**{k: o.get(k) for k in core}, "projectId": "p"} for o in rows[at : at + limit]]
        meta = {"cursor": str(at + limit)} if at + limit < len(rows) else {}
        body = {"data": data, "meta": meta}
        parse_obj_as(ObservationsV2Response, body)
        return body

    class Handler(JsonStub):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != expected:
                return self.reply(401, {"message": "Invalid credentials. Confirm keys."})
            if state.throttle:
                state.throttle -= 1
                return self.reply(429, {"message": "rate limited"}, {"Retry-After": "1"})
            url = urlsplit(self.path)
            if url.path.startswith("/api/public/traces/"):
                tid = unquote(url.path.removeprefix("/api/public/traces/"))
                found = [t for t in state.traces if t["id"] == tid]
                if not found:
                    return self.reply(404, {"message": "Trace not found"})
                return self.reply(200, found[0])
            if url.path == "/api/public/score-configs":
                q = dict(parse_qsl(url.query))
                limit, page = int(q["limit"]), int(q["page"])
                rows = list(state.configs.values())
                meta = {"page": page, "limit": limit, "totalItems": len(rows)}
                meta["totalPages"] = -(-len(rows) // limit)
                body = {"data": rows[(page - 1) * limit : page * limit], "meta": meta}
                parse_obj_as(ScoreConfigs, body)
                return self.reply(200, body)
            if url.path == "/api/public/v2/observations":
                return self.reply(200, observations(dict(parse_qsl(url.query))))
            assert url.path == "/api/public/traces"
            q = dict(parse_qsl(url.query))
            state.listed.append(q)
            assert q["orderBy"] == "timestamp.asc"
            rows = sorted(state.traces, key=lambda t: (t["timestamp"], t["id"]))
            if "fromTimestamp" in q:
                rows = [t for t in rows if t["timestamp"] >= q["fromTimestamp"]]
            limit, page = int(q["limit"]), int(q["page"])
            shown = rows[(page - 1) * limit : page * limit]
            heads = [{k: v for k, v in t.items() if k != "observations"} for t in shown]
            pages = -(-len(rows) // limit)
            meta = {"page": page, "limit": limit, "totalItems": len(rows), "totalPages": pages}
            return self.reply(200, {"data": heads, "meta": meta})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.headers.get("Authorization") != expected:
                return self.reply(401, {"message": "Invalid credentials. Confirm keys."})
            if state.throttle:
                state.throttle -= 1
                return self.reply(429, {"message": "rate limited"}, {"Retry-After": "3"})
            if self.path == "/api/public/score-configs":
                read = convert_and_respect_annotation_metadata(
                    object_=body, annotation=CreateScoreConfigRequest, direction="read"
                )
                parse_obj_as(CreateScoreConfigRequest, read)
                made = {
                    **body,
                    "id": f"cfg-{len(state.configs)}",
                    "projectId": "p",
                    "isArchived": False,
                    "createdAt": "2026-12-03T00:00:00.000Z",
                    "updatedAt": "2026-12-03T00:00:00.000Z",
                }
                state.configs[made["id"]] = made
                return self.reply(200, made)
            assert self.path == "/api/public/scores" and isinstance(body, list)
            state.requests += 1
            refused = []
            for item in body:
                assert set(item) <= FIELDS, set(item) - FIELDS
                read = convert_and_respect_annotation_metadata(
                    object_=item, annotation=CreateScoreRequest, direction="read"
                )
                score = parse_obj_as(CreateScoreRequest, read)
                assert score.id and score.trace_id and score.timestamp is not None
                if item.get("configId") is not None:  # Langfuse checks a score on its config
                    config = state.configs[item["configId"]]
                    assert (config["name"], config["dataType"]) == (item["name"], item["dataType"])
                    if config["dataType"] == "CATEGORICAL":
                        assert item["value"] in {c["label"] for c in config["categories"]}
                    if config.get("minValue") is not None:
                        assert config["minValue"] <= item["value"] <= config["maxValue"]
                if score.trace_id in state.missing_traces:
                    refused.append({"message": f"trace {score.trace_id} not found"})
                    continue
                state.scores[(score.id, item["timestamp"])] = item
            if refused:
                n = len(refused)
                return self.reply(
                    207, {"accepted": len(body) - n, "rejected": n, "errors": refused}
                )
            return self.reply(202, {"message": "Accepted"})

        def do_DELETE(self) -> None:
            if self.headers.get("Authorization") != expected:
                return self.reply(401, {"message": "Invalid credentials. Confirm keys."})
            assert self.path.startswith("/api/public/scores/")
            sid = unquote(self.path.removeprefix("/api/public/scores/"))
            held = [k for k in state.scores if k[0] == sid]
            if not held:
                return self.reply(404, {"message": "Score not found"})
            for k in held:
                del state.scores[k]
            return self.reply(200, {"message": "Score deleted"})

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_port}", state
    httpd.shutdown()
    httpd.server_close()


def _client(url: str, waits: list[float]) -> HttpClient:
    return HttpClient(langfuse.endpoint(url, "support"), sleep=waits.append)


def test_scores_are_sent_once_updated_in_place_and_refusals_reported(
    stub: tuple[str, Langfuse], workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, lf = stub
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET)
    ids = {"trace_id": "lf-trace", "observation_id": "gen-1"}
    store_sessions(
        workspace,
        [
            make_session("lf", source=Source(format="langfuse", ids=ids)),
            make_session("ot", source=Source(format="otlp", ids={"span_id": "ab" * 8})),
        ],
    )
    alice = add_review(workspace, "lf", "alice", WRONG, failure_step=2)
    add_review(workspace, "lf", "bob", FINE, minutes=2)
    add_review(workspace, "ot", "bob", FINE)
    waits: list[float] = []
    lf.throttle = 1
    first = push(workspace, "langfuse", _client(url, waits))
    assert first.error is None and first.sent == len(lf.scores) > 0
    assert waits == [1.0]  # the 429's Retry-After (the first request lists score configs)
    assert (first.not_from_here, first.not_from_here_sessions) == (1, ["ot"])
    names = {(s["metadata"]["reviewer"], s["name"]) for s in lf.scores.values()}
    assert ("alice", "output") in names and ("bob", "quality") in names
    # every score but the correction carries the score config of its rubric dimension,
    # created once per name and data type from the rubric
    configs = {(c["name"], c["dataType"]): c for c in lf.configs.values()}
    assert all(
        configs[(x["name"], x["dataType"])]["id"] == x["configId"]
        for x in lf.scores.values()
        if x["dataType"] != "CORRECTION"
    )
    assert not [x for x in lf.scores.values() if x["dataType"] == "CORRECTION" and "configId" in x]
    assert (
        configs[("quality", "NUMERIC")]["minValue"],
        configs[("quality", "NUMERIC")]["maxValue"],
    ) == (1, 5)
    assert [c["label"] for c in configs[("correctness", "CATEGORICAL")]["categories"]] == [
        o.value
        for o in default_rubric().dimension("correctness").options  # type: ignore[union-attr]
    ]

    again = push(workspace, "langfuse", _client(url, waits))
    assert (again.sent, again.unchanged, lf.requests) == (0, first.sent, 1)

    changed = revise(workspace, alice, quality="3")
    third = push(workspace, "langfuse", _client(url, waits))
    assert third.sent == 1
    assert len(lf.configs) == len(configs)  # the project's configs are found, not made again
    # the same id and timestamp: Langfuse updates the score, no second one appears
    assert len(lf.scores) == first.sent
    quality = [
        s
        for s in lf.scores.values()
        if (s["metadata"]["reviewer"], s["name"]) == ("alice", "quality")
    ]
    assert [q["value"] for q in quality] == [3.0]

    # alice reopens her review: every score she sent is deleted from Langfuse, once
    hers = [x for x in lf.scores.values() if x["metadata"]["reviewer"] == "alice"]
    reopen(workspace, changed)
    assert push(workspace, "langfuse", _client(url, waits), dry_run=True).withdrawn == len(hers)
    withdrawn = push(workspace, "langfuse", _client(url, waits))
    assert (withdrawn.sent, withdrawn.withdrawn, withdrawn.error) == (0, len(hers), None)
    assert len(lf.scores) == first.sent - len(hers)
    assert not [x for x in lf.scores.values() if x["metadata"]["reviewer"] == "alice"]
    assert push(workspace, "langfuse", _client(url, waits)).withdrawn == 0

    # a trace Langfuse does not have: a 207; nothing of that batch is taken as sent
    store_sessions(
        workspace,
        [make_session("gone", source=Source(format="langfuse", ids={"trace_id": "lf-missing"}))],
    )
    add_review(workspace, "gone", "alice", FINE)
    partial = push(workspace, "langfuse", _client(url, waits))
    assert partial.refused > 0 and partial.exit_code == 3
    assert "trace lf-missing not found" in partial.refusals[0]
    retry = push(workspace, "langfuse", _client(url, waits))
    assert retry.sent == 0 and retry.refused == partial.refused


def test_wrong_keys_stop_with_a_clear_message_without_them(
    stub: tuple[str, Langfuse], workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = stub
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-wrong-planted")
    store_sessions(
        workspace, [make_session("lf", source=Source(format="langfuse", ids={"trace_id": "t"}))]
    )
    add_review(workspace, "lf", "alice", FINE)
    waits: list[float] = []
    result = push(workspace, "langfuse", _client(url, waits))
    assert result.exit_code == 2 and result.sent == 0 and waits == []
    assert result.error == (
        f"Langfuse at {url} (project 'support') refused the credentials (401) "
        "(credentials from LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY)"
    )
    assert "planted" not in result.model_dump_json()
    # refused: nothing recorded as sent; the next push (right keys) sends it all
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET)
    assert push(workspace, "langfuse", _client(url, waits)).sent == result.items


def test_redact_pii_masks_free_text_before_it_leaves(
    stub: tuple[str, Langfuse], workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, lf = stub
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET)
    ids = {"trace_id": "lf-trace", "observation_id": "gen-1"}
    store_sessions(workspace, [make_session("lf", source=Source(format="langfuse", ids=ids))])
    add_review(
        workspace,
        "lf",
        "alice",
        {
            **WRONG,
            "rationale": "Customer jane.doe@example.com was told the wrong date.",
            "corrected_response": "We will e-mail jane.doe@example.com on Friday.",
        },
    )
    lf.throttle = 0
    done = push(workspace, "langfuse", _client(url, []), redact_pii=True)
    assert done.sent == len(lf.scores) > 0
    sent = json.dumps(list(lf.scores.values()))
    assert "jane.doe@example.com" not in sent
    assert "Customer " in sent and "on Friday." in sent


def _trace(n: int, answer: str = "It ships on Friday.") -> dict[str, Any]:
    """A trace as Langfuse's ``GET /api/public/traces/{id}`` returns it."""
    tid = f"lf-trace-{n:03d}"
    when = f"2026-12-02T10:{n // 60:02d}:{n % 60:02d}.000Z"
    return {
        "id": tid,
        "timestamp": when,
        "name": "support-agent",
        "sessionId": f"conv-{n}",
        "release": "2.1.0",
        "input": {"question": f"Where is order {n}?"},
        "output": answer,
        "scores": [],
        "observations": [
            {
                "id": f"gen-{n}",
                "traceId": tid,
                "type": "GENERATION",
                "name": "ChatOpenAI",
                "startTime": when,
                "endTime": when,
                "model": "gpt-4o-mini",
                "input": [{"role": "user", "content": f"Where is order {n}?"}],
                "output": {"role": "assistant", "content": answer},
            }
        ],
    }


def test_pull_lists_traces_by_time_and_a_second_pull_fetches_only_new_ones(
    stub: tuple[str, Langfuse], workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewer.services import browse
    from reviewer.services.pulling import pull

    url, lf = stub
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET)
    lf.traces = [_trace(n) for n in range(150)]  # two pages of 100
    lf.throttle = 1
    waits: list[float] = []
    first = pull(workspace, "langfuse", _client(url, waits))
    assert (first.traces, first.imported, first.error) == (150, 150, None)
    assert waits == [1.0]
    assert [q["page"] for q in lf.listed] == ["1", "2"]
    s = browse.get_session(workspace, browse.session_ids(workspace)[0])
    assert s.source.format == "langfuse" and s.source.ids["observation_id"].startswith("gen-")
    assert [st.content for st in s.steps][-1] == "It ships on Friday."

    lf.traces.append(_trace(150))
    lf.listed.clear()
    second = pull(workspace, "langfuse", _client(url, waits))
    assert (second.traces, second.imported) == (1, 1)
    # from the time the last pull ended on, not from the start
    assert lf.listed[0]["fromTimestamp"] == "2026-12-02T10:02:29.000Z"

    # then a push of a review goes back as scores on that trace
    add_review(workspace, "lf-trace-150", "alice", FINE)
    done = push(workspace, "langfuse", _client(url, waits))
    assert done.sent > 0 and {x["traceId"] for x in lf.scores.values()} == {"lf-trace-150"}


def test_a_trace_that_gained_observations_since_the_last_pull_becomes_a_revision(
    stub: tuple[str, Langfuse], workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewer.services.pulling import pull

    url, lf = stub
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET)
    lf.traces = [_trace(n) for n in range(3)]
    first = pull(workspace, "langfuse", _client(url, []))
    assert (first.traces, first.imported) == (3, 3)
    assert pull(workspace, "langfuse", _client(url, [])).traces == 0  # nothing new
    before = latest(workspace, "lf-trace-000")

    # the agent answered a follow-up on the oldest trace after the pull
    later = "2026-12-02T11:00:00.000Z"
    lf.traces[0]["observations"].append(
        {
            **lf.traces[0]["observations"][0],
            "id": "gen-0-b",
            "startTime": later,
            "endTime": later,
            "input": [{"role": "user", "content": "And the refund?"}],
            "output": {"role": "assistant", "content": "Refunded on Friday."},
        }
    )
    lf.observations_listed.clear()
    grown = pull(workspace, "langfuse", _client(url, []))
    assert (grown.traces, grown.imported, grown.revised, grown.duplicates) == (1, 0, 1, 0)
    # observations are listed from where the last pull's observations ended
    assert lf.observations_listed[0]["fromStartTime"] == "2026-12-02T10:00:02.000Z"
    after = latest(workspace, "lf-trace-000")
    assert len(after.steps) > len(before.steps)
    assert after.steps[-1].content == "Refunded on Friday."
    again = pull(workspace, "langfuse", _client(url, []))
    assert (again.traces, again.revised) == (0, 0)
