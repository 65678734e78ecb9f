"""The API Gateway Management API of the connections (``apigatewaymanagementapi`` in boto3), on its
own port: ``POST`` (PostToConnection), ``GET`` (GetConnection) and ``DELETE`` (DeleteConnection)
``/{stage}/@connections/{connectionId}`` (``/{api_id}/{stage}/...`` when several APIs share a stage).

A boto3 client whose ``endpoint_url`` is ``http://127.0.0.1:<port>/<stage>`` works unchanged: the
answers and errors are AWS's (rest-json with ``x-amzn-ErrorType``), so it raises ``GoneException``
(410) for a connection that is gone or not yet open, ``PayloadTooLargeException`` (413) past 128 KB
and ``ForbiddenException`` (403) for a path no API serves. As LocalStack does, any SigV4 signature
is accepted but the ``Authorization`` header must be there (the IAM-authorised endpoint refuses an
unsigned request with 403 "Missing Authentication Token").
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Coroutine
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, TypeVar
from urllib.parse import unquote, urlsplit

from ws_gateway.config import MESSAGE_LIMIT_BYTES
from ws_gateway.gateway import Gateway

log = logging.getLogger("ws_gateway")
T = TypeVar("T")
_CALL_TIMEOUT_S = 30


class ManagementHandler(BaseHTTPRequestHandler):
    gateway: ClassVar[Gateway]  # set by serve_management() on a subclass per server
    loop: ClassVar[asyncio.AbstractEventLoop]
    protocol_version = "HTTP/1.1"

    def _on_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(_CALL_TIMEOUT_S)

    def _answer(self, status: int, body: bytes = b"", error_type: str | None = None) -> None:
        self.send_response(status)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error_type is not None:
            self.send_header("x-amzn-ErrorType", error_type)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        try:
            self._route()
        except Exception:
            log.exception("management API %s %s failed", self.command, self.path)
            self._answer(500, b'{"message": "Internal server error"}', "InternalServerErrorException")

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if not self.headers.get("Authorization"):
            self._answer(
                403, b'{"message":"Missing Authentication Token"}', "MissingAuthenticationTokenException"
            )
            return
        segments = urlsplit(self.path).path.split("/")[1:]
        api = None
        connection_id = ""
        if len(segments) >= 3 and segments[-2] == "@connections":
            api = self.gateway.config.find_api(segments[:-2])
            connection_id = unquote(segments[-1])
        if api is None or self.command not in ("POST", "GET", "DELETE"):
            route = urlsplit(self.path).path.lstrip("/")
            message = f"No method found matching route {route} for http method {self.command}."
            self._answer(403, json.dumps({"message": message}).encode(), "ForbiddenException")
            return
        match self.command:
            case "POST":
                if len(data) > MESSAGE_LIMIT_BYTES:
                    self._answer(413, b'{"message":"Message too long"}', "PayloadTooLargeException")
                    return
                found = self._on_loop(self.gateway.post(api, connection_id, data))
                log.info(
                    "%s PostToConnection %d bytes: %s", connection_id, len(data), "sent" if found else "gone"
                )
                if found:
                    self._answer(200)
                else:
                    self._answer(410, error_type="GoneException")
            case "GET":

                async def describe() -> dict[str, Any] | None:
                    return self.gateway.describe(api, connection_id)

                answer = self._on_loop(describe())
                if answer is None:
                    self._answer(410, error_type="GoneException")
                else:
                    self._answer(200, json.dumps(answer).encode())
            case "DELETE":
                found = self._on_loop(self.gateway.delete(api, connection_id))
                log.info("%s DeleteConnection: %s", connection_id, "closing" if found else "gone")
                if found:
                    self._answer(204)
                else:
                    self._answer(410, error_type="GoneException")

    do_POST = do_GET = do_DELETE = do_PUT = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # each call is logged above, without its data


def serve_management(gateway: Gateway, loop: asyncio.AbstractEventLoop, port: int) -> ThreadingHTTPServer:
    """A management API server on 127.0.0.1:``port`` (0: any free port), not yet serving."""
    bound = type("BoundManagementHandler", (ManagementHandler,), {"gateway": gateway, "loop": loop})
    server = ThreadingHTTPServer(("127.0.0.1", port), bound)
    server.daemon_threads = True
    return server
