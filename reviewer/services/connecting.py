"""Reaching a tracing system: its HTTP client from a system name, URL and project, and
`pull` / `push` runs that open and close it (what the app's worker runs)."""

from __future__ import annotations

from typing import Any

from reviewer.connect.http import ConnectorError as ConnectorError
from reviewer.connect.http import HttpClient as HttpClient
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.services.pulling import PullSummary, pull
from reviewer.services.pushing import PushSummary, push
from reviewer.store.workspace import Workspace

SYSTEMS = {
    "phoenix": "Arize Phoenix",
    "mlflow": "MLflow",
    "langfuse": "Langfuse",
    "langsmith": "LangSmith",
}
PULL_FROM = ("phoenix", "mlflow", "langfuse", "langsmith")
PUSH_TO = ("phoenix", "mlflow", "langfuse", "langsmith")


def client_for(
    system: str, url: str, project: str | None, *, ca_bundle: str | None = None
) -> HttpClient:
    """Raises :class:`ConnectorError` for a URL that is not http(s) or a bad CA bundle."""
    from reviewer.connect import langfuse, langsmith, mlflow, phoenix

    if not url.startswith(("http://", "https://")):
        raise ConnectorError(f"the URL must start with http:// or https:// (got {url!r})")
    module: Any = {
        "phoenix": phoenix,
        "mlflow": mlflow,
        "langfuse": langfuse,
        "langsmith": langsmith,
    }[system]
    return HttpClient(module.endpoint(url, project or "default", ca_bundle=ca_bundle))


def pull_from(
    ws: Workspace,
    system: str,
    url: str,
    project: str | None,
    *,
    progress: Progress = NO_PROGRESS,
    **options: Any,
) -> PullSummary:
    with client_for(system, url, project) as client:
        return pull(ws, system, client, progress=progress, **options)


def push_to(
    ws: Workspace,
    system: str,
    url: str,
    project: str | None,
    *,
    progress: Progress = NO_PROGRESS,
    **options: Any,
) -> PushSummary:
    with client_for(system, url, project) as client:
        return push(ws, system, client, progress=progress, **options)


__all__ = ["ConnectorError", "client_for", "pull_from", "push_to"]
