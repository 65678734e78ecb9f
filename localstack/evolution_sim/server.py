"""Serve the Evolution simulator over HTTP on 127.0.0.1 (``python -m evolution_sim --port 4598``)."""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from evolution_sim.simulator import DEFAULT_API_KEY, EvolutionSimulator


class Handler(BaseHTTPRequestHandler):
    sim: ClassVar[EvolutionSimulator]  # set by serve() on a subclass per server

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            self._answer(
                400, {"status": 400, "error": "Bad Request", "response": {"message": ["invalid JSON"]}}
            )
            return
        status, answer = self.sim.handle(
            self.command, url.path, body, self.headers.get("apikey"), dict(parse_qsl(url.query))
        )
        if self.sim.answer_lost(self.command, url.path):
            self.close_connection = True  # done, but the client never hears back
            return
        self._answer(status, answer)

    def _answer(self, status: int, answer: Any) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: API keys travel in headers, message texts in bodies


def serve(sim: EvolutionSimulator, port: int) -> ThreadingHTTPServer:
    """A server for ``sim`` on 127.0.0.1:``port`` (0: any free port), not yet serving."""
    bound = type("BoundHandler", (Handler,), {"sim": sim})
    server = ThreadingHTTPServer(("127.0.0.1", port), bound)
    server.daemon_threads = True
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description="offline Evolution API v2 (WhatsApp)")
    parser.add_argument("--port", type=int, default=4598, help="0: any free port (printed)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="the global key (AUTHENTICATION_API_KEY)")
    args = parser.parse_args()
    sim = EvolutionSimulator(args.api_key, background=True)
    server = serve(sim, args.port)
    sim.server_url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"evolution simulator on {sim.server_url}", flush=True)
    server.serve_forever()
    return 0
