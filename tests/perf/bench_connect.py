"""Pull from and push to a real local Phoenix and MLflow: traces/s of `pull` beside the
server's own time to list the same traces page by page, and labels/s of `push`.

Traces: REVIEWER_BENCH_TRACES (default 10,000). Needs the servers' test environments
(tests/connect/servers.py builds them once)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from reviewer.connect.http import HttpClient
from reviewer.domain.review import Review, ReviewStatus
from reviewer.resources import default_rubric
from reviewer.services.connecting import client_for
from reviewer.services.pulling import pull
from reviewer.services.pushing import push
from reviewer.services.workspaces import init_workspace
from reviewer.store.reviews import save_review
from tests.connect import servers
from tests.perf.harness import Figures, benchmark, timed


def _phoenix_list(server: servers.Server, client: HttpClient) -> int:
    """Phoenix's own listing of every span of the project, 1,000 a page."""
    spans, cursor = 0, None
    while True:
        params: dict[str, Any] = {"sort": "id", "order": "asc", "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        body = httpx.get(
            f"{server.url}/v1/projects/{client.endpoint.project}/spans", params=params, timeout=60
        ).json()
        spans += len(body["data"])
        cursor = body.get("next_cursor")
        if not cursor:
            return spans


def _mlflow_list(server: servers.Server, client: HttpClient) -> int:
    """MLflow's own listing of every trace of the experiment (``traces/search``, 500 a page)."""
    from reviewer.connect import mlflow

    experiment = {"experiment_id": mlflow.experiment_id(client)}
    where = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": experiment}
    body: dict[str, Any] = {"locations": [where], "max_results": 500}
    traces = 0
    while True:
        got = httpx.post(f"{server.url}/api/3.0/mlflow/traces/search", json=body, timeout=60)
        page = got.json()
        traces += len(page.get("traces") or [])
        if not page.get("next_page_token"):
            return traces
        body["page_token"] = page["next_page_token"]


@dataclass(frozen=True)
class System:
    server: Callable[[Path], AbstractContextManager[servers.Server]]
    send: Callable[[servers.Server, str, int, int], list[str]]
    server_list: Callable[[servers.Server, HttpClient], int]
    listed: str
    """What the server's own listing counts (spans, traces)."""


SYSTEMS = {
    "phoenix": System(servers.phoenix, servers.send_traces, _phoenix_list, "spans"),
    "mlflow": System(servers.mlflow, servers.send_mlflow_traces, _mlflow_list, "traces"),
}


def _reviews(n: int) -> Iterator[Review]:
    """One submitted review of each of the ``n`` sessions the senders make."""
    rubric = default_rubric()
    now = datetime.now(UTC)
    for i in range(n):
        yield Review(
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


def pull_push(name: str) -> Figures:
    """Traces sent by the system's instrumented client, the server's own listing of them,
    ``pull``, ``push`` of one review per session as the system's labels, and both again."""
    n = int(os.environ.get("REVIEWER_BENCH_TRACES", "10000"))
    system = SYSTEMS[name]
    rubric = default_rubric()
    with tempfile.TemporaryDirectory() as tmp, system.server(Path(tmp)) as server:
        with timed() as sent:
            system.send(server, "bench", 0, n)
        client = client_for(name, server.url, "bench")
        with timed() as listed:
            count = system.server_list(server, client)
        ws = init_workspace(Path(tmp) / "ws.sqlite")
        with timed() as pulled:
            got = pull(ws, name, client)
        with timed() as again:
            second = pull(ws, name, client)
        with ws.write() as s:
            for review in _reviews(n):
                save_review(s, review, rubric)
        with timed() as pushed:
            out = push(ws, name, client, batch_size=500)
        with timed() as nothing:
            idle = push(ws, name, client)
        client.close()
        ws.close()
    return {
        "traces": n,
        f"listed_{system.listed}": count,
        "send_s": round(sent.seconds, 2),
        f"server_list_all_{system.listed}_s": round(listed.seconds, 2),
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


@benchmark("phoenix_pull_push")
def phoenix_pull_push() -> Figures:
    return pull_push("phoenix")


@benchmark("mlflow_pull_push")
def mlflow_pull_push() -> Figures:
    return pull_push("mlflow")
