"""Serve the Asaas simulator over HTTP on 127.0.0.1 (``python -m asaas_sim --port 4599``)."""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from asaas_sim.simulator import AsaasSimulator

SIM = AsaasSimulator()  # replaced in main() once the state file is known


class Handler(BaseHTTPRequestHandler):
    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        status, answer, headers = SIM.handle(
            self.command, url.path, dict(parse_qsl(url.query)), body, self.headers.get("access_token")
        )
        if SIM.answer_lost(self.command, url.path):
            self.close_connection = True  # done, but the client never hears back
            return
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the API keys are in headers, and nothing here is worth a log line


def main() -> int:
    parser = argparse.ArgumentParser(description="offline Asaas API v3")
    parser.add_argument("--port", type=int, default=4599)
    parser.add_argument(
        "--state", type=Path, default=None, help="JSON file keeping the accounts across restarts"
    )
    args = parser.parse_args()
    global SIM
    SIM = AsaasSimulator(state_file=args.state)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"asaas simulator on http://127.0.0.1:{args.port}/v3", flush=True)
    server.serve_forever()
    return 0
