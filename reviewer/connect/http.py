"""One HTTP client for every tracing system: retries, clear errors, secrets kept out.

- Retries with exponential backoff on 429, 5xx, timeouts and dropped connections, waiting
  what ``Retry-After`` asks for (seconds or an HTTP date) when the server says.
- 401 / 403 / 404 raise :class:`ConnectorError` naming the URL and project and the
  environment variable that holds the key, never the key itself.
- TLS verification is always on; ``ca_bundle`` adds a private CA. Proxies come from the
  environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``), as ``httpx`` reads them.
"""

from __future__ import annotations

import email.utils
import logging
import os
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from reviewer import __version__

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_WAIT = 60.0
"""The longest one wait between tries, whatever ``Retry-After`` asks."""


class ConnectorError(Exception):
    """A request that cannot succeed as it is (refused, not found, or out of retries)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def safe_url(url: str) -> str:
    """``url`` without user, password, query or fragment: what is stored and shown."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))


KEYRING_SERVICE = "agentops-reviewer"


def secret(var: str, url: str) -> str | None:
    """A key from the environment variable ``var``, else from the OS keyring where a
    backend exists (service ``agentops-reviewer``, user ``VAR@URL`` for one server, then
    ``VAR``). Never logged, stored or shown."""
    value = os.environ.get(var)
    if value:
        return value
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - a dependency, but the app runs without it
        return None
    try:
        return keyring.get_password(
            KEYRING_SERVICE, f"{var}@{safe_url(url)}"
        ) or keyring.get_password(KEYRING_SERVICE, var)
    except (KeyringError, RuntimeError):  # no backend (a headless machine): none there
        return None


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


@dataclass
class Endpoint:
    """Where a system runs and how to reach it."""

    system: str
    """Name shown in messages (``Phoenix``)."""
    url: str
    project: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    auth: tuple[str, str] | None = field(default=None, repr=False)
    key_hint: str = ""
    """Where the credentials come from (``PHOENIX_API_KEY``), for messages."""
    ca_bundle: str | None = None
    timeout: float = 30.0


class HttpClient:
    """``request`` returns the decoded JSON body (None when empty)."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.shown = safe_url(endpoint.url)
        verify: ssl.SSLContext | bool = True
        if endpoint.ca_bundle:
            try:
                verify = ssl.create_default_context(cafile=endpoint.ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                raise ConnectorError(
                    f"--ca-bundle {endpoint.ca_bundle}: not a PEM file of CA certificates ({exc})"
                ) from None
        parts = urlsplit(endpoint.url)
        auth = endpoint.auth
        if auth is None and parts.username:
            # credentials in the URL go in the Authorization header, never in logs
            auth = (unquote(parts.username), unquote(parts.password or ""))
        self.client = httpx.Client(
            base_url=self.shown,
            headers={"User-Agent": f"agentops-reviewer/{__version__}", **endpoint.headers},
            auth=auth,
            timeout=endpoint.timeout,
            verify=verify,
            trust_env=True,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        ok: tuple[int, ...] = (),
    ) -> Any:
        """Send, retrying what may pass on a later try. ``ok``: more statuses to accept."""
        where = f"{self.endpoint.system} at {self.shown} (project {self.endpoint.project!r})"
        for attempt in range(self.retries + 1):
            wait = min(MAX_WAIT, self.backoff * 2**attempt)
            try:
                r = self.client.request(method, path, params=params, json=json)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                reason = f"{type(exc).__name__}"
                if attempt == self.retries:
                    raise ConnectorError(
                        f"{where}: no answer after {attempt + 1} tries ({reason}); is it "
                        "running and reachable (proxy settings come from HTTPS_PROXY / NO_PROXY)?"
                    ) from None
                log.info("%s %s: %s, try %d again in %.1fs", method, path, reason, attempt, wait)
                self.sleep(wait)
                continue
            if r.status_code in RETRY_STATUS and attempt < self.retries:
                asked = _retry_after(r.headers.get("Retry-After"), time.time())
                if asked is not None:
                    wait = min(MAX_WAIT, asked)
                log.info("%s %s: %d, try again in %.1fs", method, path, r.status_code, wait)
                self.sleep(wait)
                continue
            if r.status_code < 300 or r.status_code in ok:
                return r.json() if r.content else None
            raise self._error(r, where)
        raise AssertionError("unreachable")

    def _error(self, r: httpx.Response, where: str) -> ConnectorError:
        code = r.status_code
        hint = f" (credentials from {self.endpoint.key_hint})" if self.endpoint.key_hint else ""
        if code == 401:
            msg = f"{where} refused the credentials (401){hint}"
        elif code == 403:
            msg = f"{where}: these credentials may not do this (403){hint}"
        elif code == 404:
            msg = f"{where}: not found (404) for {r.request.url.path}: {_detail(r)}"
        elif code in RETRY_STATUS:
            msg = f"{where}: still {code} after {self.retries + 1} tries: {_detail(r)}"
        else:
            msg = f"{where}: {code} for {r.request.method} {r.request.url.path}: {_detail(r)}"
        return ConnectorError(msg, status=code)


def _detail(r: httpx.Response) -> str:
    text = r.text.strip().replace("\n", " ")
    return text[:300] or r.reason_phrase


def now_iso() -> str:
    return datetime.now(UTC).isoformat()
