"""The management API's client (integrations/connections.py) over HTTP: what it sends, and what it
makes of the answers (a scripted server on 127.0.0.1; the gateway stand-in's own answers are
covered by the real-time tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assistec.integrations.connections import Credentials, ManagementApiConnections, ManagementApiError


class Scripted:
    def __init__(self) -> None:
        self.answers: list[tuple[int, str | None]] = []
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    state = Scripted()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, error_type = state.answers.pop(0) if state.answers else (200, None)
            self.send_response(status)
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _client(scripted: Scripted) -> ManagementApiConnections:
    return ManagementApiConnections(
        scripted.endpoint,
        region="sa-east-1",
        credentials=lambda: Credentials("AKIDEXAMPLE", "secret", "session-token"),
        max_pool=4,
    )


def test_a_post_is_a_signed_post_to_the_connection_and_reuses_its_connection(scripted: Scripted) -> None:
    client = _client(scripted)
    assert client.post("L0SM9cOFvHcCIhw=", b'{"type":"pong"}') is True
    assert client.post("other", b"x") is True
    [(path, headers, body), (second, _, _)] = scripted.requests
    assert path == "/v1/@connections/L0SM9cOFvHcCIhw%3D"
    assert second == "/v1/@connections/other"
    assert body == b'{"type":"pong"}'
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/sa-east-1/execute-api/aws4_request" in headers["authorization"]
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token," in headers["authorization"]
    assert headers["x-amz-security-token"] == "session-token"
    assert headers["host"] == scripted.endpoint.split("/")[2]


def test_gone_is_false_and_a_throttle_or_5xx_is_tried_once_more(scripted: Scripted) -> None:
    client = _client(scripted)
    scripted.answers = [(410, "GoneException")]
    assert client.post("gone", b"x") is False
    scripted.answers = [(429, "LimitExceededException"), (200, None)]
    assert client.post("busy", b"x") is True
    scripted.answers = [(503, None), (410, "GoneException")]
    assert client.post("left", b"x") is False
    assert [p for p, _, _ in scripted.requests] == [
        "/v1/@connections/" + c for c in ("gone", "busy", "busy", "left", "left")
    ]


def test_a_refusal_fails_loudly_after_at_most_two_tries(scripted: Scripted) -> None:
    client = _client(scripted)
    scripted.answers = [(403, "ForbiddenException")]
    with pytest.raises(ManagementApiError) as refused:
        client.post("x", b"x")
    assert (refused.value.status, refused.value.error_type) == (403, "ForbiddenException")
    assert len(scripted.requests) == 1  # a 4xx is not tried again
    scripted.answers = [(500, None), (500, None)]
    with pytest.raises(ManagementApiError) as failed:
        client.post("y", b"x")
    assert failed.value.status == 500
    assert len(scripted.requests) == 3
