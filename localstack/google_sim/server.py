"""Serve the Google simulator over HTTP on 127.0.0.1 (``python -m google_sim --port 4597``)."""

from __future__ import annotations

import argparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from google_sim.simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_EMAIL, GoogleSimulator


class Handler(BaseHTTPRequestHandler):
    sim: ClassVar[GoogleSimulator]  # set by serve() on a subclass per server

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.sim.handle(self.command, url.path, dict(parse_qsl(url.query)), headers, raw)
        if self.sim.answer_lost(self.command, url.path):
            self.close_connection = True  # done, but the client never hears back
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: codes and tokens travel in query strings and bodies


def serve(sim: GoogleSimulator, port: int) -> ThreadingHTTPServer:
    """A server for ``sim`` on 127.0.0.1:``port`` (0: any free port), not yet serving."""
    bound = type("BoundHandler", (Handler,), {"sim": sim})
    server = ThreadingHTTPServer(("127.0.0.1", port), bound)
    server.daemon_threads = True
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description="offline Google OAuth 2.0 + Calendar API v3")
    parser.add_argument("--port", type=int, default=4597, help="0: any free port (printed)")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="the OAuth client it knows")
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--email", default=DEFAULT_EMAIL, help="who approves consent without a login_hint")
    args = parser.parse_args()
    sim = GoogleSimulator(
        client_id=args.client_id, client_secret=args.client_secret, default_email=args.email
    )
    server = serve(sim, args.port)
    print(f"google simulator on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0
