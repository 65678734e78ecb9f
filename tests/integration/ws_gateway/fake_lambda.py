"""A test double of Lambda's Invoke REST API (``POST /2015-03-31/functions/{name}/invocations``),
enough for boto3's ``lambda.invoke``: the payload back with 200, ``X-Amz-Function-Error: Unhandled``
and Lambda's error payload when the handler raises, 404 ``ResourceNotFoundException`` for an unknown
function. The handlers are Python callables of the test; every event they get is recorded."""

from __future__ import annotations

import json
import queue
import threading
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

Handler = Callable[[dict[str, Any]], Any]
_PREFIX = "/2015-03-31/functions/"
_SUFFIX = "/invocations"


class FakeLambda:
    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self._events: dict[str, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        outer = self

        class Invoke(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not (self.path.startswith(_PREFIX) and self.path.endswith(_SUFFIX)):
                    self._answer(
                        404, {"message": "no such API"}, {"x-amzn-ErrorType": "UnknownOperationException"}
                    )
                    return
                name = unquote(self.path[len(_PREFIX) : -len(_SUFFIX)]).rsplit(":function:", 1)[-1]
                handler = outer.handlers.get(name)
                if handler is None:
                    self._answer(
                        404,
                        {"Type": "User", "Message": f"Function not found: {name}"},
                        {"x-amzn-ErrorType": "ResourceNotFoundException"},
                    )
                    return
                event = json.loads(raw)
                outer._queue(name).put(event)
                try:
                    payload = handler(event)
                except Exception as exc:
                    error = {
                        "errorMessage": str(exc),
                        "errorType": type(exc).__name__,
                        "requestId": "fake",
                        "stackTrace": traceback.format_tb(exc.__traceback__),
                    }
                    self._answer(200, error, {"X-Amz-Function-Error": "Unhandled"})
                    return
                self._answer(200, payload, {})

            def _answer(self, status: int, payload: Any, headers: dict[str, str]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Amz-Executed-Version", "$LATEST")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # socketserver's default listen backlog is 5: a thousand sockets closing at once send as
            # many $disconnect invocations (64 at a time from the gateway), and connections past the
            # backlog wait for SYN retries and can run out the client's connect timeout.
            request_queue_size = 1024

        self.server = Server(("127.0.0.1", 0), Invoke)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def _queue(self, name: str) -> queue.Queue[dict[str, Any]]:
        with self._lock:
            return self._events.setdefault(name, queue.Queue())

    def next_event(self, name: str, timeout: float = 10) -> dict[str, Any]:
        """The next event ``name`` received (waits for it)."""
        return self._queue(name).get(timeout=timeout)

    def pending(self, name: str) -> int:
        """Events ``name`` received that ``next_event`` has not taken yet."""
        return self._queue(name).qsize()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
