"""Pull from and push to a real MLflow tracking server (started here: ``mlflow server``,
SQLite backend store, 127.0.0.1), traces sent by a real MLflow-traced OpenAI client."""

from __future__ import annotations

from typing import Any

from reviewer.connect import mlflow
from reviewer.connect.http import HttpClient
from reviewer.domain.review import ReviewStatus
from reviewer.domain.session import Role, Source
from reviewer.services import browse
from reviewer.services.importing import store_sessions
from reviewer.services.pulling import pull
from reviewer.services.pushing import push
from reviewer.store.workspace import Workspace
from tests.connect import servers
from tests.connect.helpers import change_then_withdraw
from tests.export.conftest import FINE, WRONG, add_review
from tests.helpers.factories import make_session


def client(server: servers.Server, experiment: str) -> HttpClient:
    return HttpClient(mlflow.endpoint(server.url, experiment), backoff=0.05)


def assessments(server: servers.Server, experiment: str, trace_ids: list[str]) -> dict:
    """What MLflow holds, read back through its own API: (trace, name, source, value)."""
    out: dict[tuple[str, str, str, str], Any] = {}
    with client(server, experiment) as c:
        for t in trace_ids:
            for a in mlflow.trace_assessments(c, t) or []:
                kind = "feedback" if "feedback" in a else "expectation"
                key = (
                    t,
                    a["assessment_name"],
                    a["source"]["source_type"],
                    a["source"]["source_id"],
                )
                value = (kind, a[kind]["value"], a.get("rationale") or None)
                out.setdefault(key, []).append(value)
    return out


def test_pull_review_push_round_trip(mlflow_server: servers.Server, workspace: Workspace) -> None:
    server, experiment = mlflow_server, "support-agent"
    traces = servers.send_mlflow_traces(server, experiment, 0, 3)
    with client(server, experiment) as c:
        first = pull(workspace, "mlflow", c)
        assert (first.traces, first.imported, first.rejected, first.error) == (3, 3, 0, None)
        again = pull(workspace, "mlflow", c)  # incremental: nothing new, nothing fetched
        assert (again.listed, again.traces, again.imported) == (0, 0, 0)
    traces += servers.send_mlflow_traces(server, experiment, 3, 1)
    with client(server, experiment) as c:
        later = pull(workspace, "mlflow", c)
    assert (later.listed, later.traces, later.imported) == (1, 1, 1)

    sessions = {
        s.id: s
        for s in map(lambda i: browse.get_session(workspace, i), browse.session_ids(workspace))
    }
    assert sorted(sessions) == ["conv-0", "conv-1", "conv-2", "conv-3"]
    conv1 = sessions["conv-1"]
    # the autologged OpenAI calls give the conversation, the TOOL span its failure
    assert [(st.role, st.content) for st in conv1.steps] == [
        (Role.SYSTEM, "You are a support agent."),
        (Role.USER, "Where is order 1?"),
        (Role.ASSISTANT, ""),
        (Role.TOOL, "error: order 1 is not in the warehouse system"),
        (Role.ASSISTANT, "Done: error: order 1 is not in the warehouse system"),
    ]
    assert conv1.steps[2].tool_calls[0].name == "lookup_order" and conv1.steps[3].is_error
    assert not sessions["conv-2"].steps[3].is_error  # even turns: the tool answered
    assert (conv1.source.format, conv1.source.ids["trace_id"]) == ("mlflow", traces[1])
    assert (conv1.metrics.input_tokens, conv1.metrics.output_tokens, conv1.model) == (
        24,
        10,
        "gpt-4o-mini",
    )

    alice = add_review(workspace, "conv-0", "alice", WRONG, failure_step=2)
    add_review(workspace, "conv-1", "bob", FINE)
    add_review(workspace, "conv-2", "carol", FINE, status=ReviewStatus.DRAFT)
    # a session from an MLflow file, not pulled from this server: counted, never sent
    store_sessions(
        workspace,
        [make_session("from-file", source=Source(format="mlflow", ids={"trace_id": "tr-x"}))],
    )
    add_review(workspace, "from-file", "alice", FINE)

    with client(server, experiment) as c:
        dry = push(workspace, "mlflow", c, dry_run=True)
        assert (dry.sent, dry.not_from_here_sessions) == (dry.items, ["from-file"])
        pushed = push(workspace, "mlflow", c)
    assert pushed.error is None and pushed.refused == 0
    assert pushed.sent == dry.sent > 0

    sent = assessments(server, experiment, traces)
    assert sum(len(v) for v in sent.values()) == pushed.sent
    t0, t1, t2 = traces[0], traces[1], traces[2]
    assert sent[(t0, "quality", "HUMAN", "alice")] == [
        ("feedback", 2.0, "Said shipped; the tool said delayed.")
    ]
    assert sent[(t0, "correctness", "HUMAN", "alice")][0][:2] == ("feedback", "incorrect")
    assert sent[(t0, "expected_response", "HUMAN", "alice")][0][:2] == (
        "expectation",
        "Your order 42 is delayed; it should arrive on Friday.",
    )
    assert sent[(t1, "quality", "HUMAN", "bob")] == [("feedback", 5.0, None)]
    assert not [k for k in sent if k[0] == t2]  # carol's draft was never sent

    def held() -> dict[tuple[str, str, str], Any]:
        """Each assessment by who sent it, its name and its id."""
        with client(server, experiment) as c:
            return {
                (a["source"]["source_id"], a["assessment_name"], a["assessment_id"]): a.get(
                    "feedback", a.get("expectation")
                )
                for t in traces
                for a in mlflow.trace_assessments(c, t) or []
            }

    change_then_withdraw(
        workspace, "mlflow", lambda: client(server, experiment), held, pushed, alice
    )


def test_a_forgotten_push_updates_instead_of_duplicating(
    mlflow_server: servers.Server, workspace: Workspace
) -> None:
    """A workspace that no longer remembers what it sent (restored from a backup, say)
    finds our ids among the trace's assessments and updates them; a session whose trace
    MLflow no longer has is refused and named, the rest sent."""
    from sqlalchemy import delete

    from reviewer.connect.http import safe_url
    from reviewer.store.connections import add_sessions, connection_id
    from reviewer.store.tables import SentLabel

    server, experiment = mlflow_server, "forgotten"
    traces = servers.send_mlflow_traces(server, experiment, 0, 1)
    with client(server, experiment) as c:
        assert pull(workspace, "mlflow", c).imported == 1
    add_review(workspace, "conv-0", "alice", WRONG)
    gone = Source(format="mlflow", ids={"trace_id": "tr-" + "cd" * 16})
    store_sessions(workspace, [make_session("gone", source=gone)])
    with workspace.write() as s:
        add_sessions(s, connection_id(s, "mlflow", safe_url(server.url), experiment), ["gone"])
    add_review(workspace, "gone", "alice", FINE)
    with client(server, experiment) as c:
        first = push(workspace, "mlflow", c)
    assert first.exit_code == 3 and first.sent > 0
    assert first.refused > 0 and all(r.startswith("gone: ") for r in first.refusals)
    with workspace.write() as s:
        s.execute(delete(SentLabel))
    with client(server, experiment) as c:
        again = push(workspace, "mlflow", c)
    assert (again.sent, again.refused) == (first.sent, first.refused)
    held = assessments(server, experiment, traces)
    assert sum(len(v) for v in held.values()) == first.sent  # updated, not duplicated


def test_a_trace_whose_spans_are_an_artifact_reads_the_same(
    mlflow_server: servers.Server, workspace: Workspace
) -> None:
    """Traces logged before MLflow kept spans in its tracking store are not in ``batchGet``;
    the pull reads them as MLflow's UI does (``get-trace-artifact``, spans in
    ``Span.to_dict`` form), and they become the same session."""
    from reviewer.ingest import mlflow as importer

    server, experiment = mlflow_server, "artifacts"
    (trace,) = servers.send_mlflow_traces(server, experiment, 1, 1)
    with client(server, experiment) as c:
        batch = mlflow.records(c, [trace])[trace]
        artifact = mlflow.from_artifacts(c, trace)
        assert mlflow.from_artifacts(c, "tr-" + "0" * 32) is None
    assert artifact is not None and isinstance(artifact["spans"][0]["attributes"], dict)
    (a,) = importer.sessions(batch, "f", 1)
    (b,) = importer.sessions(artifact, "f", 1)
    assert a.id == b.id == "conv-1" and a.source.ids == b.source.ids
    assert [(st.role, st.content, st.is_error) for st in a.steps] == [
        (st.role, st.content, st.is_error) for st in b.steps
    ]
    assert b.steps[3].is_error and b.steps[2].tool_calls[0].name == "lookup_order"
