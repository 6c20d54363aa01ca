"""The one HTTP client: retries, Retry-After, clear errors that never carry the secret."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import keyring
import keyring.backend
import pytest

from reviewer.connect import langfuse, phoenix
from reviewer.connect.http import ConnectorError, Endpoint, HttpClient, safe_url

SECRET = "phx-planted-secret-7f3a9c"


def make(
    handler: Callable[[httpx.Request], httpx.Response], url: str = "http://phoenix.test:6006"
) -> tuple[HttpClient, list[float]]:
    waits: list[float] = []
    ep = Endpoint(
        "Phoenix", url, "support", {"Authorization": f"Bearer {SECRET}"}, key_hint="PHOENIX_API_KEY"
    )
    return HttpClient(ep, sleep=waits.append, transport=httpx.MockTransport(handler)), waits


def test_429_waits_what_retry_after_asks_then_succeeds() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503),
            httpx.Response(200, json={"data": []}),
        ]
    )
    c, waits = make(lambda r: next(answers))
    assert c.request("GET", "/v1/projects") == {"data": []}
    assert waits == [7.0, 1.0]  # as asked, then the backoff's second step (0.5 * 2)


def test_retry_after_as_an_http_date_and_capped() -> None:
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    answers = iter([httpx.Response(429, headers={"Retry-After": later}), httpx.Response(204)])
    c, waits = make(lambda r: next(answers))
    assert c.request("POST", "/x") is None
    assert waits == [60.0]  # an hour asked; one wait is capped at a minute


def test_timeouts_are_retried_then_reported_without_the_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    c, waits = make(handler)
    with pytest.raises(ConnectorError) as exc:
        c.request("GET", "/v1/projects")
    assert len(waits) == c.retries
    assert "Phoenix at http://phoenix.test:6006 (project 'support')" in str(exc.value)
    assert "6 tries" in str(exc.value)


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (401, "refused the credentials (401) (credentials from PHOENIX_API_KEY)"),
        (403, "may not do this (403)"),
        (404, "not found (404) for /v1/projects/support/spans"),
    ],
)
def test_refusals_name_url_project_and_key_variable_never_the_key(status: int, says: str) -> None:
    c, waits = make(
        lambda r: httpx.Response(status, text="nope"), url=f"https://u:{SECRET}@phoenix.test/"
    )
    with pytest.raises(ConnectorError) as exc:
        c.request("GET", "/v1/projects/support/spans")
    message = str(exc.value)
    assert says in message and "Phoenix at https://phoenix.test (project 'support')" in message
    assert SECRET not in message and waits == []  # not retried: it would not pass


def test_credentials_in_the_url_become_basic_auth_and_are_never_shown() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    c, _ = make(handler, url=f"https://user:{SECRET}@phoenix.test:8443/base/?token={SECRET}")
    c.request("GET", "/v1/projects")
    assert str(seen[0].url) == "https://phoenix.test:8443/base/v1/projects"
    assert c.shown == "https://phoenix.test:8443/base"
    assert safe_url(f"HTTPS://a:{SECRET}@[::1]:9/x/") == "https://[::1]:9/x"


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOENIX_API_KEY", SECRET)
    ep = phoenix.endpoint("http://127.0.0.1:6006", "default")
    assert ep.headers == {"Authorization": f"Bearer {SECRET}"}
    assert SECRET not in repr(ep)
    monkeypatch.delenv("PHOENIX_API_KEY")
    assert phoenix.endpoint("http://127.0.0.1:6006", "default").headers == {}


def test_a_ca_bundle_is_trusted_and_a_bad_one_is_refused_clearly(tmp_path: Path) -> None:
    import certifi

    with HttpClient(Endpoint("Phoenix", "https://phoenix.test", "p", ca_bundle=certifi.where())):
        pass
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConnectorError, match=r"--ca-bundle .*ca.pem: not a PEM file"):
        HttpClient(Endpoint("Phoenix", "https://phoenix.test", "p", ca_bundle=str(bad)))


class _MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.saved[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.saved.pop((service, username), None)


def test_keys_come_from_the_os_keyring_when_the_environment_has_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PHOENIX_API_KEY", raising=False)
    monkeypatch.delenv("LANGFUSE_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("LANGFUSE_SECRET_KEY", raising=False)
    before = keyring.get_keyring()
    ring = _MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        # none there (or no backend at all, as on a headless machine): no key, no error
        assert phoenix.endpoint("http://127.0.0.1:6006", "default").headers == {}
        ring.set_password("agentops-reviewer", "PHOENIX_API_KEY", "any-server")
        ring.set_password("agentops-reviewer", "PHOENIX_API_KEY@https://phx.test", SECRET)
        assert phoenix.endpoint("https://phx.test/", "p").headers == {
            "Authorization": f"Bearer {SECRET}"
        }
        assert phoenix.endpoint("http://other.test", "p").headers == {
            "Authorization": "Bearer any-server"
        }
        ring.set_password("agentops-reviewer", "LANGFUSE_PUBLIC_KEY", "pk")
        ring.set_password("agentops-reviewer", "LANGFUSE_SECRET_KEY", "sk")
        assert langfuse.endpoint("https://cloud.langfuse.com", "p").auth == ("pk", "sk")
        monkeypatch.setenv("PHOENIX_API_KEY", "from-env")  # the environment comes first
        assert (
            phoenix.endpoint("https://phx.test", "p").headers["Authorization"].endswith("from-env")
        )
    finally:
        keyring.set_keyring(before)
