"""The built panel served the way the edge serves it (CloudFront in prod): web/dist with the SPA
fallback (an unknown path gets index.html) and `/api/*` passed to the API with the prefix taken
off, so the panel calls the API same-origin. A stand-in for the browser tests until the stack
itself serves the panel (`panel_url` in stack.json); it binds 127.0.0.1 on a free port."""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

# Hop-by-hop headers and what httpx already decoded are not passed on.
_SKIP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-encoding",
    "content-length",
    "host",
    "accept-encoding",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
    "proxy-authenticate",
}


def _handler(dist: Path, api: httpx.Client) -> type[BaseHTTPRequestHandler]:
    root = dist.resolve()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            try:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
            except ConnectionError:
                # The browser gave up on the request (a page left before its answer came).
                self.close_connection = True

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _SKIP}
            try:
                answer = api.request(
                    self.command, self.path[len("/api") :] or "/", content=body, headers=headers
                )
            except httpx.HTTPError:
                self._send(
                    502,
                    [("Content-Type", "application/json")],
                    b'{"code":"bad_gateway","message":"API fora do ar."}',
                )
                return
            passed = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in _SKIP]
            self._send(answer.status_code, passed, answer.content)

        def _static(self) -> None:
            path = self.path.split("?", 1)[0]
            candidate = (root / path.lstrip("/")).resolve()
            if not candidate.is_relative_to(root) or not candidate.is_file():
                candidate = root / "index.html"  # the SPA's routes are the panel's to answer
            content_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
            cache = (
                "no-cache"
                if candidate.name in ("index.html", "config.json")
                else "max-age=31536000, immutable"
            )
            self._send(
                200, [("Content-Type", content_type), ("Cache-Control", cache)], candidate.read_bytes()
            )

        def _route(self) -> None:
            if self.path == "/api" or self.path.startswith(("/api/", "/api?")):
                self._proxy()
            elif self.command in ("GET", "HEAD"):
                self._static()
            else:
                self._send(405, [("Content-Type", "text/plain")], b"method not allowed")

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _route

    return Handler


@contextmanager
def serve_panel(dist: Path, api_url: str) -> Iterator[str]:
    """The panel at http://127.0.0.1:<port> until the block ends."""
    with httpx.Client(base_url=api_url.rstrip("/"), timeout=httpx.Timeout(60.0)) as api:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(dist, api))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="panel-server", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
