"""The REST client: back-off on transient errors only, one-line errors, secrets never in messages.

A real Argilla server cannot be made to answer 503 on demand, so a tiny stdlib HTTP server stands in for
those faults: `FakeFlakyServer` (a fake, named as such). Everything else runs against the real server in
tests/integration/test_annotate_server.py.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alignlab.annotation.client import ApiError, ArgillaAPI, describe_detail
from alignlab.annotation.errors import AuthenticationFailed, ServerUnreachable
from alignlab.annotation.server.redis import free_port


class FakeFlakyServer:
    """Answers each request with the next (status, body) of `script`, repeating the last one."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                status, body = outer.script[min(outer.calls, len(outer.script) - 1)]
                outer.calls += 1
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def flaky():
    servers = []

    def make(script):
        servers.append(FakeFlakyServer(script))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_transient_errors_are_retried_with_backoff(flaky):
    server = flaky([(503, {"detail": "busy"}), (502, {}), (200, {"ok": True})])
    delays = []
    api = ArgillaAPI(server.url, "secret-key", sleep=delays.append, retry_max_s=30)
    assert api.get("/api/v1/x") == {"ok": True}
    assert server.calls == 3 and api.retries == 2
    assert delays == [0.25, 0.5]  # exponential back-off


def test_user_errors_are_not_retried(flaky):
    server = flaky([(422, {"detail": "Record at position 1 is not valid because field missing"})])
    api = ArgillaAPI(server.url, "secret-key", sleep=lambda s: None)
    with pytest.raises(ApiError) as err:
        api.post("/api/v1/datasets", {})
    assert server.calls == 1 and err.value.status == 422
    assert "failed (422): Record at position 1" in str(err.value)


def test_wrong_key_is_one_line_without_the_key(flaky):
    server = flaky([(401, {"detail": "Could not validate credentials"})])
    api = ArgillaAPI(server.url, "secret-key", key_source="$ALIGNLAB_ARGILLA_API_KEY", sleep=lambda s: None)
    with pytest.raises(AuthenticationFailed) as err:
        api.get("/api/v1/me")
    message = str(err.value)
    assert "rejected $ALIGNLAB_ARGILLA_API_KEY (401" in message and "secret-key" not in message
    assert "\n" not in message


def test_unreachable_server_gives_up_after_the_retry_window():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    delays = []
    api = ArgillaAPI(url, "k", sleep=delays.append, retry_max_s=2.0)
    with pytest.raises(ServerUnreachable) as err:
        api.get("/api/v1/version")
    assert "no Argilla server answers at" in str(err.value) and "connection refused" in str(err.value)
    assert "alignlab annotate up" in str(err.value)
    assert delays and sum(delays) <= 2.0


def test_persistent_503_returns_the_error_after_the_window(flaky):
    server = flaky([(503, {"detail": "maintenance"})])
    api = ArgillaAPI(server.url, "k", sleep=lambda s: None, retry_max_s=0.0)
    with pytest.raises(ApiError, match="503"):
        api.get("/api/v1/version")


def test_describe_detail_shapes():
    assert describe_detail({"code": "x", "params": {"message": "boom"}}) == "boom"
    assert describe_detail([{"loc": ["body", "items", 0], "msg": "field required"}]) == "items.0: field required"
    assert describe_detail("plain\ntext") == "plain text"


def test_every_retry_says_what_it_waits_for_and_how_long(flaky):
    server = flaky([(503, {"detail": "restarting"})] * 6 + [(200, {"ok": True})])
    notices = []
    api = ArgillaAPI(server.url, "secret-key", sleep=lambda s: None, retry_max_s=60, notify=notices.append)
    assert api.get("/api/v1/me") == {"ok": True}
    # The first wait, then every wait of a second or more (0.25, 0.5 stay quiet after the first): 1, 2, 4, 5.
    assert len(notices) == 5
    assert notices[0].startswith(f"{server.url} GET /api/v1/me: HTTP 503; retrying in 0.2 s (giving up in ")
    assert "retrying in 5.0 s" in notices[-1] and "server.retry_max_s=60" in notices[-1]
    assert not any("secret-key" in notice for notice in notices)


def test_connection_refused_retries_are_announced_until_the_window_closes():
    url = f"http://127.0.0.1:{free_port()}"
    notices = []
    api = ArgillaAPI(url, "k", sleep=lambda s: None, retry_max_s=0.5, notify=notices.append)
    with pytest.raises(ServerUnreachable):
        api.get("/api/v1/version")
    assert notices and all("connection refused; retrying in" in notice for notice in notices)
