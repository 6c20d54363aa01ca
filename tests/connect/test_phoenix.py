"""Pull from and push to a real Arize Phoenix server (started here, SQLite, 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

from reviewer.connect import phoenix
from reviewer.connect.http import HttpClient
from reviewer.domain.review import ReviewStatus
from reviewer.domain.session import Source
from reviewer.resources import default_rubric
from reviewer.services.importing import store_sessions
from reviewer.services.pulling import pull
from reviewer.services.pushing import push
from reviewer.store.workspace import Workspace
from tests.connect import servers
from tests.connect.helpers import change_then_withdraw
from tests.export.conftest import FINE, WRONG, add_review
from tests.helpers.factories import make_session


def client(server: servers.Server, project: str) -> HttpClient:
    return HttpClient(phoenix.endpoint(server.url, project), backoff=0.05)


def labels_by_span(server: servers.Server, project: str, span_ids: list[str]) -> dict:
    with client(server, project) as c:
        got = phoenix.span_annotations(c, span_ids)
    return {
        (a["span_id"], a["name"], a["identifier"]): (
            a["annotator_kind"],
            a["result"]["score"],
            a["result"]["label"],
        )
        for a in got
    }


def test_pull_review_push_round_trip(
    server: servers.Server, workspace: Workspace, tmp_path: Path
) -> None:
    project = "support-agent"
    servers.send_traces(server, project, 0, 3)
    with client(server, project) as c:
        first = pull(workspace, "phoenix", c)
        assert (first.traces, first.imported, first.rejected, first.error) == (3, 3, 0, None)
        # incremental: nothing new, nothing fetched
        again = pull(workspace, "phoenix", c)
        assert (again.listed, again.traces, again.imported) == (0, 0, 0)
    servers.send_traces(server, project, 3, 1)
    with client(server, project) as c:
        later = pull(workspace, "phoenix", c)
    assert (later.listed, later.traces, later.imported) == (2, 1, 1)

    from reviewer.services import browse

    sessions = {
        s.id: s
        for s in map(lambda i: browse.get_session(workspace, i), browse.session_ids(workspace))
    }
    assert sorted(sessions) == ["conv-0", "conv-1", "conv-2", "conv-3"]
    conv0 = sessions["conv-0"]
    # exactly as from an OTLP file: transcript from the OpenInference LLM span, root span ids
    assert [(st.role.value, st.content) for st in conv0.steps] == [
        ("system", "You are a support agent."),
        ("user", "Where is order 0?"),
        ("assistant", "Answer to: Where is order 0?"),
    ]
    assert conv0.source.format == "otlp" and len(conv0.spans) == 2
    span0 = conv0.source.ids["span_id"]

    alice = add_review(workspace, "conv-0", "alice", WRONG, failure_step=2)
    add_review(workspace, "conv-1", "bob", FINE)
    add_review(workspace, "conv-2", "carol", FINE, status=ReviewStatus.DRAFT)
    # a session from a file, not from this Phoenix: counted and named, never sent
    store_sessions(
        workspace,
        [make_session("from-file", source=Source(format="otlp", ids={"span_id": "ab" * 8}))],
    )
    add_review(workspace, "from-file", "alice", FINE)

    with client(server, project) as c:
        dry = push(workspace, "phoenix", c, dry_run=True)
        assert (dry.sent, dry.not_from_here_sessions) == (dry.items, ["from-file"])
        pushed = push(workspace, "phoenix", c)
    assert pushed.error is None and pushed.refused == 0
    assert pushed.sent == dry.sent > 0
    assert (pushed.not_from_here, pushed.not_from_here_sessions) == (1, ["from-file"])

    spans = [sessions[k].source.ids["span_id"] for k in ("conv-0", "conv-1", "conv-2")]
    sent = labels_by_span(server, project, spans)
    assert len(sent) == pushed.sent
    assert sent[(span0, "quality", "agentops-reviewer:alice:quality")] == ("HUMAN", 2.0, None)
    assert sent[(span0, "correctness", "agentops-reviewer:alice:correctness")] == (
        "HUMAN",
        None,
        "incorrect",
    )
    assert (span0, "corrected_response", "agentops-reviewer:alice:corrected_response") in sent
    # carol's draft was never sent
    assert not [k for k in sent if k[0] == spans[2]]

    change_then_withdraw(
        workspace,
        "phoenix",
        lambda: client(server, project),
        lambda: labels_by_span(server, project, spans),
        pushed,
        alice,
    )


def test_a_label_for_a_span_phoenix_does_not_have_is_refused_and_named(
    server: servers.Server, workspace: Workspace
) -> None:
    """With ``?sync=true`` Phoenix answers 404 for an unknown span instead of dropping the
    annotation silently: the batch is sent item by item, and only that session's labels
    are refused (the trace was deleted in Phoenix after the pull, say)."""
    from reviewer.connect.http import safe_url
    from reviewer.store.connections import add_sessions, connection_id

    project = "deleted-trace"
    servers.send_traces(server, project, 0, 1)
    with client(server, project) as c:
        assert pull(workspace, "phoenix", c).imported == 1
    gone = Source(format="otlp", ids={"trace_id": "cd" * 16, "span_id": "cd" * 8})
    store_sessions(workspace, [make_session("gone", source=gone)])
    with workspace.write() as s:
        add_sessions(s, connection_id(s, "phoenix", safe_url(server.url), project), ["gone"])
    add_review(workspace, "conv-0", "alice", FINE)
    add_review(workspace, "gone", "alice", FINE)
    with client(server, project) as c:
        result = push(workspace, "phoenix", c)
    assert result.error is None and result.exit_code == 3
    assert result.refused == result.items - result.sent > 0
    assert all(r.startswith("gone: ") and "cdcdcdcdcdcdcdcd" in r for r in result.refusals)
    with client(server, project) as c:
        again = push(workspace, "phoenix", c)
    assert (again.sent, again.refused) == (0, result.refused)  # refused ones are tried again


def test_phoenix_evaluations_come_in_as_judgements_a_reviewer_is_offered(
    server: servers.Server, workspace: Workspace, tmp_path: Path
) -> None:
    """An LLM evaluation logged in Phoenix is a suggestion beside its rubric dimension once
    pulled; human annotations (a colleague's, or ours pushed before) are not."""
    from reviewer.domain.suggestions import suggest
    from reviewer.services import browse
    from reviewer.services.workspaces import init_workspace

    project = "evaluated"
    servers.send_traces(server, project, 0, 1)
    with client(server, project) as c:
        assert pull(workspace, "phoenix", c).imported == 1
    [pulled] = [browse.get_session(workspace, i) for i in browse.session_ids(workspace)]
    span = pulled.source.ids["span_id"]
    notes = [
        ("correctness", "LLM", {"label": "correct", "score": 1, "explanation": "Matches."}),
        ("quality", "HUMAN", {"score": 2}),
    ]
    with client(server, project) as c:
        phoenix.send_annotations(
            c,
            [
                {"span_id": span, "name": n, "annotator_kind": kind, "result": result}
                for n, kind, result in notes
            ],
        )
    fresh = init_workspace(tmp_path / "fresh.sqlite")
    try:
        with client(server, project) as c:
            assert pull(fresh, "phoenix", c).imported == 1
        [session] = [browse.get_session(fresh, i) for i in browse.session_ids(fresh)]
    finally:
        fresh.close()
    got = [(j.name, j.value, j.explanation, j.source) for j in session.signals.judgements]
    assert got == [
        ("correctness", "correct", "Matches.", "phoenix LLM"),
        ("correctness", 1.0, "Matches.", "phoenix LLM"),
    ]
    offered = {
        d: x.offered for d, x in suggest(default_rubric(), session.signals.judgements).items()
    }
    assert offered == {"correctness": "correct"}
