"""The panel edge's tests: a small upstream standing in for the local API (a real HTTP server on
127.0.0.1 that records what it was asked and answers as told)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

BASE_PATH = "/_aws/execute-api/abc123/v1"  # LocalStack's path-style stage URL
INDEX = b"<!doctype html><html lang='pt-BR'><body><div id='root'></div></body></html>"


@dataclass
class Upstream:
    server: ThreadingHTTPServer
    seen: list[dict[str, Any]] = field(default_factory=list)
    # Streaming: the second piece waits until the test has read the first
    first_piece_read: threading.Event = field(default_factory=threading.Event)
    stream_finished: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{BASE_PATH}"


def _upstream_handler(upstream_ref: list[Upstream]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int(self.rfile.readline().strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _handle(self) -> None:
            upstream = upstream_ref[0]
            body = self._body()
            upstream.seen.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
            path = self.path.removeprefix(BASE_PATH)
            if path.startswith("/stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in (b"primeiro\n", b"segundo\n"):
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.flush()
                    upstream.first_piece_read.wait(5)
                self.wfile.write(b"0\r\n\r\n")
                upstream.stream_finished.set()
                return
            if path.startswith("/missing"):
                status, payload = 404, {"code": "not_found", "message": "Recurso não encontrado."}
            elif path.startswith("/forbidden"):
                status, payload = 403, {"code": "forbidden", "message": "Você não tem permissão."}
            else:
                status, payload = 200, {"echo": len(body)}
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Correlation-Id", "corr-1")
            self.send_header("X-Frame-Options", "SAMEORIGIN")  # the edge's own wins
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    ref: list[Upstream] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _upstream_handler(ref))
    server.daemon_threads = True
    ref.append(Upstream(server))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield ref[0]
    server.shutdown()
    server.server_close()
