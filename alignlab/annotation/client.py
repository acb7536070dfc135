"""A small REST client for the Argilla 2.8 API: retries transient failures, turns user errors into one line.

    api = ArgillaAPI("http://127.0.0.1:6900", api_key, key_source="$ALIGNLAB_ARGILLA_API_KEY")
    api.get("/api/v1/me")
    annotator = ArgillaAPI.login("http://127.0.0.1:6900", "alice", password)   # bearer token, as the web UI

Why not the `argilla` SDK for sync: it retries nothing, reports errors as tracebacks, reads ranking
responses back without their ranks and writes discarded responses as `values: null`, which breaks every
later read of the dataset (send `{}` instead; Argilla 2.8 is the last release). The wire format is the
same, so datasets made here open in the SDK and the web UI unchanged.

Transient failures (connection refused or reset, timeouts, 429, 502-504) are retried with exponential
back-off up to `retry_max_s` in total: a server restarted within that window is picked up again. Each wait
is announced through `notify` (what failed, how long until the next try, when it gives up), so a restart
is never silent; connecting times out after `CONNECT_TIMEOUT_S`, reading after `timeout_s`. Everything
else fails at once: 401/403 (wrong key), 404 (the caller decides), 409/422 (the caller or the user decides),
500 (the server's message is passed on). Secrets never appear in messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from alignlab.annotation.errors import AnnotationError, AuthenticationFailed, ServerUnreachable

TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
_FIRST_DELAY_S = 0.25
_MAX_DELAY_S = 5.0
CONNECT_TIMEOUT_S = 5.0  # a server that accepts no connection within this is down or unreachable
_QUIET_BELOW_S = 1.0  # waits shorter than this are announced only once (the first retry)


class ApiError(AnnotationError):
    """A non-transient error answer; `status` and `detail` let callers handle conflicts."""

    def __init__(self, message: str, status: int, detail: Any):
        super().__init__(message)
        self.status = status
        self.detail = detail


def _detail(response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:300]
    return body.get("detail", body) if isinstance(body, dict) else body


def describe_detail(detail: Any) -> str:
    """The server's error detail as one short line."""
    if isinstance(detail, dict):
        params = detail.get("params") or {}
        return str(params.get("message") or params.get("detail") or detail.get("code") or detail)[:300]
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):  # pydantic validation errors
        first = detail[0]
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return f"{where}: {first.get('msg', first)}"[:300]
    return str(detail).replace("\n", " ")[:300]


class ArgillaAPI:
    """JSON over HTTP to one Argilla server, as one user (API key or bearer token)."""

    def __init__(self, url: str, api_key: str | None = None, *, token: str | None = None,
                 key_source: str = "the API key", timeout_s: float = 60.0, retry_max_s: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep, notify: Callable[[str], None] | None = None):
        import requests

        self.url = url.rstrip("/")
        self.key_source = key_source
        self.timeout_s = timeout_s
        self.retry_max_s = retry_max_s
        self._sleep = sleep
        self.notify = notify
        self._session = requests.Session()
        if api_key is not None:
            self._session.headers["X-Argilla-Api-Key"] = api_key
        if token is not None:
            self._session.headers["Authorization"] = f"Bearer {token}"
        if _is_loopback(self.url):
            # The server compresses every answer it may (gzip, brotli); on loopback that costs a quarter of
            # a 1,000-record page's time and saves nothing.
            self._session.headers["Accept-Encoding"] = "identity"
        self.retries = 0  # transient failures retried so far (tests and benchmarks read it)

    @classmethod
    def login(cls, url: str, username: str, password: str, **kwargs: Any) -> ArgillaAPI:
        """Log in with a password, as the web UI does, and act as that user."""
        anonymous = cls(url, **kwargs)
        try:
            answer = anonymous.request("POST", "/api/v1/token", data={"username": username, "password": password})
        except ApiError as err:
            if err.status in (401, 403):
                raise AuthenticationFailed(f"{url}: wrong username or password for user {username!r}") from None
            raise
        return cls(url, token=answer["access_token"], key_source=f"the login of {username!r}", **kwargs)

    def clone(self) -> ArgillaAPI:
        """Another client for the same server and user, with its own connection (one per thread)."""
        twin = ArgillaAPI(self.url, key_source=self.key_source, timeout_s=self.timeout_s,
                          retry_max_s=self.retry_max_s, sleep=self._sleep, notify=self.notify)
        twin._session.headers.update(self._session.headers)
        return twin

    def close(self) -> None:
        self._session.close()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PUT", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def request(self, method: str, path: str, *, not_found_ok: bool = False, **kwargs: Any) -> Any:
        """One call; JSON answer (None for 204, or for 404 when `not_found_ok`)."""
        response = self._send_with_retries(method, path, **kwargs)
        status = response.status_code
        if status < 300:
            return None if status == 204 or not response.content else response.json()
        if status == 404 and not_found_ok:
            return None
        detail = _detail(response)
        where = f"{self.url}: {method} {path.split('?')[0]}"
        if status == 401:
            raise AuthenticationFailed(f"{self.url}: the server rejected {self.key_source} (401 Unauthorized); "
                                       "use an API key of a user on that server")
        if status == 403:
            raise AuthenticationFailed(f"{where}: forbidden for {self.key_source} (403); an owner's key is needed")
        raise ApiError(f"{where} failed ({status}): {describe_detail(detail)}", status, detail)

    def _send_with_retries(self, method: str, path: str, **kwargs: Any):
        import requests

        deadline = time.monotonic() + self.retry_max_s
        delay = _FIRST_DELAY_S
        timeout = (min(CONNECT_TIMEOUT_S, self.timeout_s), self.timeout_s)
        attempt = 0
        while True:
            try:
                response = self._session.request(method, self.url + path, timeout=timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as err:
                reason = _reason(err)
                response = None
            else:
                if response.status_code not in TRANSIENT_STATUS:
                    return response
                reason = f"HTTP {response.status_code}"
            if time.monotonic() + delay > deadline:
                if response is not None:
                    return response
                raise ServerUnreachable(
                    f"no Argilla server answers at {self.url} ({reason}, retried for {self.retry_max_s:.0f} s); "
                    "start it with `alignlab annotate up` or fix server.url") from None
            self.retries += 1
            attempt += 1
            if self.notify is not None and (attempt == 1 or delay >= _QUIET_BELOW_S):
                left = max(0.0, deadline - time.monotonic())
                self.notify(f"{self.url} {method} {path.split('?')[0]}: {reason}; retrying in {delay:.1f} s "
                            f"(giving up in {left:.0f} s, server.retry_max_s={self.retry_max_s:g})")
            self._sleep(delay)
            delay = min(delay * 2, _MAX_DELAY_S)


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def _reason(err: Exception) -> str:
    text = str(err)
    for marker in ("Connection refused", "Connection reset", "Remote end closed", "timed out",
                   "Name or service not known", "No route to host"):
        if marker.lower() in text.lower():
            return marker.lower()
    return type(err).__name__
