"""Langfuse over its public API: scores sent as the list ``POST /api/public/scores``
takes (202 all accepted; 207 some refused, with counts and messages)."""

from __future__ import annotations

from typing import Any

from reviewer.connect.http import Endpoint, HttpClient, secret

SYSTEM = "Langfuse"
KEY_ENV = ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY")


def endpoint(url: str, project: str, *, ca_bundle: str | None = None) -> Endpoint:
    """Basic authentication with the project's public and secret key (they also choose
    the project on the server; ``project`` names the connection here)."""
    public, private = (secret(k, url) for k in KEY_ENV)
    auth = (public, private) if public and private else None
    return Endpoint(
        SYSTEM, url, project, auth=auth, key_hint=" / ".join(KEY_ENV), ca_bundle=ca_bundle
    )


def send_scores(client: HttpClient, lines: list[dict[str, Any]]) -> list[str]:
    """Send scores; returns why some were refused (a 207). Langfuse does not say which:
    the caller records none of the batch as sent, and the next push sends it again, which
    Langfuse takes as an update (same id and timestamp), never a duplicate."""
    body = client.request("POST", "/api/public/scores", json=lines)
    if isinstance(body, dict) and body.get("rejected"):
        errors = [str(e.get("message")) for e in body.get("errors") or [] if isinstance(e, dict)]
        return errors or [f"{body['rejected']} refused"] * int(body["rejected"])
    return []
