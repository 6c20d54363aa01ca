"""Pull from and push to a real local Phoenix: traces/s of `pull` beside the server's own
time to list the same spans page by page, and labels/s of `push`.

Traces: REVIEWER_BENCH_TRACES (default 10,000). Needs the Phoenix test environment
(tests/connect/servers.py builds it once)."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx

from reviewer.connect import phoenix
from reviewer.connect.http import HttpClient
from reviewer.domain.review import Review, ReviewStatus
from reviewer.resources import default_rubric
from reviewer.services.pulling import pull
from reviewer.services.pushing import push
from reviewer.services.workspaces import init_workspace
from reviewer.store.reviews import save_review
from tests.connect import servers
from tests.perf.harness import Figures, benchmark, timed


@benchmark("phoenix_pull_push")
def phoenix_pull_push() -> Figures:
    n = int(os.environ.get("REVIEWER_BENCH_TRACES", "10000"))
    rubric = default_rubric()
    with tempfile.TemporaryDirectory() as tmp, servers.phoenix(Path(tmp)) as server:
        with timed() as sent:
            servers.send_traces(server, "bench", 0, n)
        with timed() as listed:  # the server's own listing of every span, page by page
            spans, cursor = 0, None
            while True:
                params = {"sort": "id", "order": "asc", "limit": 1000}
                body = httpx.get(
                    f"{server.url}/v1/projects/bench/spans",
                    params={**params, **({"cursor": cursor} if cursor else {})},
                    timeout=60,
                ).json()
                spans += len(body["data"])
                cursor = body.get("next_cursor")
                if not cursor:
                    break
        ws = init_workspace(Path(tmp) / "ws.sqlite")
        client = HttpClient(phoenix.endpoint(server.url, "bench"))
        with timed() as pulled:
            got = pull(ws, "phoenix", client)
        with timed() as again:
            second = pull(ws, "phoenix", client)
        now = datetime.now(UTC)
        with ws.write() as s:
            for i in range(n):
                review = Review(
                    session_key=f"conv-{i}",
                    session_revision=1,
                    reviewer="ana",
                    rubric_name=rubric.name,
                    rubric_version=rubric.version,
                    values={
                        "quality": "4",
                        "correctness": "correct",
                        "policy": "compliant",
                        "failure_categories": [],
                    },
                    status=ReviewStatus.SUBMITTED,
                    updated_at=now,
                    submitted_at=now,
                )
                save_review(s, review, rubric)
        with timed() as pushed:
            out = push(ws, "phoenix", client, batch_size=500)
        with timed() as nothing:
            idle = push(ws, "phoenix", client)
        client.close()
        ws.close()
    return {
        "traces": n,
        "spans": spans,
        "send_s": round(sent.seconds, 2),
        "server_list_all_spans_s": round(listed.seconds, 2),
        "pull_s": round(pulled.seconds, 2),
        "pull_traces_per_s": round(got.traces / pulled.seconds, 1),
        "pull_imported": got.imported,
        "second_pull_s": round(again.seconds, 3),
        "second_pull_traces": second.traces,
        "push_labels": out.sent,
        "push_s": round(pushed.seconds, 2),
        "push_labels_per_s": round(out.sent / pushed.seconds, 1),
        "second_push_sent": idle.sent,
        "second_push_s": round(nothing.seconds, 2),
    }


@benchmark("mlflow_pull_push")
def mlflow_pull_push() -> Figures:
    """The same against a local ``mlflow server`` (SQLite): traces sent by the MLflow-traced
    OpenAI client, MLflow's own listing of them (``traces/search``, 500 a page), ``pull``,
    ``push`` of one review per session as assessments, and both again."""
    from reviewer.connect import mlflow

    n = int(os.environ.get("REVIEWER_BENCH_TRACES", "10000"))
    rubric = default_rubric()
    with tempfile.TemporaryDirectory() as tmp, servers.mlflow(Path(tmp)) as server:
        with timed() as sent:
            servers.send_mlflow_traces(server, "bench", 0, n)
        client = HttpClient(mlflow.endpoint(server.url, "bench"))
        with timed() as listed:  # the server's own listing of every trace, page by page
            experiment = {"experiment_id": mlflow.experiment_id(client)}
            where = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": experiment}
            body: dict[str, object] = {"locations": [where], "max_results": 500}
            traces = 0
            while True:
                got = httpx.post(
                    f"{server.url}/api/3.0/mlflow/traces/search", json=body, timeout=60
                ).json()
                traces += len(got.get("traces") or [])
                if not got.get("next_page_token"):
                    break
                body["page_token"] = got["next_page_token"]
        ws = init_workspace(Path(tmp) / "ws.sqlite")
        with timed() as pulled:
            pulled_now = pull(ws, "mlflow", client)
        with timed() as again:
            second = pull(ws, "mlflow", client)
        now = datetime.now(UTC)
        with ws.write() as s:
            for i in range(n):
                review = Review(
                    session_key=f"conv-{i}",
                    session_revision=1,
                    reviewer="ana",
                    rubric_name=rubric.name,
                    rubric_version=rubric.version,
                    values={
                        "quality": "4",
                        "correctness": "correct",
                        "policy": "compliant",
                        "failure_categories": [],
                    },
                    status=ReviewStatus.SUBMITTED,
                    updated_at=now,
                    submitted_at=now,
                )
                save_review(s, review, rubric)
        with timed() as pushed:
            out = push(ws, "mlflow", client, batch_size=500)
        with timed() as nothing:
            idle = push(ws, "mlflow", client)
        client.close()
        ws.close()
    return {
        "traces": n,
        "listed": traces,
        "send_s": round(sent.seconds, 2),
        "server_list_all_traces_s": round(listed.seconds, 2),
        "pull_s": round(pulled.seconds, 2),
        "pull_traces_per_s": round(pulled_now.traces / pulled.seconds, 1),
        "pull_imported": pulled_now.imported,
        "second_pull_s": round(again.seconds, 3),
        "second_pull_traces": second.traces,
        "push_labels": out.sent,
        "push_s": round(pushed.seconds, 2),
        "push_labels_per_s": round(out.sent / pushed.seconds, 1),
        "second_push_sent": idle.sent,
        "second_push_s": round(nothing.seconds, 2),
    }
