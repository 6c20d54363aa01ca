"""LangSmith over its REST API: feedback created with our stable id (``POST /feedback``),
and updated in place (``PATCH /feedback/{id}``) when the review changed."""

from __future__ import annotations

import os
from typing import Any

from reviewer.connect.http import ConnectorError, Endpoint, HttpClient, secret

SYSTEM = "LangSmith"
KEY_ENV = "LANGSMITH_API_KEY"


def endpoint(url: str, project: str, *, ca_bundle: str | None = None) -> Endpoint:
    key = secret(KEY_ENV, url) or os.environ.get("LANGCHAIN_API_KEY")
    headers = {"x-api-key": key} if key else {}
    return Endpoint(SYSTEM, url, project, headers, key_hint=KEY_ENV, ca_bundle=ca_bundle)


def create_body(line: dict[str, Any]) -> dict[str, Any]:
    """A ``langsmith-feedback`` line (``create_feedback`` arguments) as the body the client
    posts (``FeedbackCreate``; nulls left out, but ``trace_id`` it always carries)."""
    body = {
        "id": line["feedback_id"],
        "run_id": line["run_id"],
        "trace_id": line.get("trace_id"),
        "key": line["key"],
        "score": line.get("score"),
        "value": line.get("value"),
        "comment": line.get("comment"),
        "correction": line.get("correction"),
        "feedback_source": {"type": line["feedback_source_type"], "metadata": line["source_info"]},
        "session_id": line.get("session_id"),
        "start_time": line.get("start_time"),
    }
    return {k: v for k, v in body.items() if v is not None or k == "trace_id"}


def update_body(line: dict[str, Any]) -> dict[str, Any]:
    """What ``update_feedback`` sends: the parts a review can change."""
    keys = ("score", "value", "comment", "correction")
    return {k: line[k] for k in keys if line.get(k) is not None}


def send_feedback(client: HttpClient, line: dict[str, Any], *, sent_before: bool) -> None:
    """Create the feedback, or update it when it was sent before (or already exists)."""
    if not sent_before:
        try:
            client.request("POST", "/feedback", json=create_body(line))
            return
        except ConnectorError as exc:
            if exc.status != 409:
                raise
    client.request("PATCH", f"/feedback/{line['feedback_id']}", json=update_body(line))
