"""The API Gateway Management API of the connections (``apigatewaymanagementapi`` in boto3), on its
own port: ``POST`` (PostToConnection), ``GET`` (GetConnection) and ``DELETE`` (DeleteConnection)
``/{stage}/@connections/{connectionId}`` (``/{api_id}/{stage}/...`` when several APIs share a stage).

A boto3 client whose ``endpoint_url`` is ``http://127.0.0.1:<port>/<stage>`` works unchanged: the
answers and errors are AWS's (rest-json with ``x-amzn-ErrorType``), so it raises ``GoneException``
(410) for a connection that is gone or not yet open, ``PayloadTooLargeException`` (413) past 128 KB
and ``ForbiddenException`` (403) for a path no API serves. As LocalStack does, any SigV4 signature
is accepted but the ``Authorization`` header must be there (the IAM-authorised endpoint refuses an
unsigned request with 403 "Missing Authentication Token").

It is served on the gateway's own event loop (HTTP/1.1 with keep-alive, the little of it boto3 and
the functions' client use): a post is one await on the loop that owns the connections, with no
thread per client and no hop between threads. API Gateway's fleet answers a push's posts in
parallel; a thread per request taking turns on one interpreter's lock, as http.server served
them, made the stand-in itself most of a 50-connection push's time on a busy machine.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import uuid
from urllib.parse import unquote, urlsplit

from ws_gateway.config import MESSAGE_LIMIT_BYTES, Api
from ws_gateway.gateway import Gateway

log = logging.getLogger("ws_gateway")
_HEAD_LIMIT = 64 * 1024  # the request line and headers
_BODY_LIMIT = MESSAGE_LIMIT_BYTES + 64 * 1024  # past the 413 threshold, so too large is answered 413
_IDLE_S = 60  # a keep-alive connection left idle this long is closed


class _Request:
    __slots__ = ("body", "headers", "method", "path", "version")

    def __init__(self, method: str, path: str, version: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.version = version
        self.headers = headers
        self.body = body

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


class _BadRequest(Exception):
    pass


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """The next request on the connection; None when the client closed it between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as closed:
        if not closed.partial.strip():
            return None
        raise _BadRequest("truncated request") from None
    except asyncio.LimitOverrunError:
        raise _BadRequest("request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest("bad request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise _BadRequest("bad header line")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise _BadRequest("chunked bodies are not accepted")
    try:
        length = int(headers.get("content-length") or 0)
    except ValueError:
        raise _BadRequest("bad Content-Length") from None
    if length < 0 or length > _BODY_LIMIT:
        raise _BadRequest("body too large")
    body = await reader.readexactly(length) if length else b""
    return _Request(parts[0], parts[1], parts[2], headers, body)


def _response(status: int, body: bytes = b"", error_type: str | None = None, *, close: bool = False) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {status} {phrase}", f"x-amzn-RequestId: {uuid.uuid4()}"]
    if error_type is not None:
        lines.append(f"x-amzn-ErrorType: {error_type}")
    if body:
        lines.append("Content-Type: application/json")
    lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class ManagementApi:
    """The management API's requests, answered on the gateway's loop."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection: its requests in turn, until it closes (or idles, or errs)."""
        try:
            while True:
                try:
                    request = await asyncio.wait_for(_read_request(reader), _IDLE_S)
                except (TimeoutError, ConnectionError):
                    return
                except _BadRequest as bad:
                    writer.write(_response(400, json.dumps({"message": str(bad)}).encode(), close=True))
                    await writer.drain()
                    return
                if request is None:
                    return
                try:
                    answer = await self.answer(request)
                except Exception:
                    log.exception("management API %s %s failed", request.method, request.path)
                    answer = (500, b'{"message": "Internal server error"}', "InternalServerErrorException")
                status, body, error_type = answer
                writer.write(_response(status, body, error_type, close=not request.keep_alive))
                await writer.drain()
                if not request.keep_alive:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()

    async def answer(self, request: _Request) -> tuple[int, bytes, str | None]:
        if not request.headers.get("authorization"):
            return 403, b'{"message":"Missing Authentication Token"}', "MissingAuthenticationTokenException"
        path = urlsplit(request.path).path
        segments = path.split("/")[1:]
        api: Api | None = None
        connection_id = ""
        if len(segments) >= 3 and segments[-2] == "@connections":
            api = self.gateway.config.find_api(segments[:-2])
            connection_id = unquote(segments[-1])
        if api is None or request.method not in ("POST", "GET", "DELETE"):
            route = path.lstrip("/")
            message = f"No method found matching route {route} for http method {request.method}."
            return 403, json.dumps({"message": message}).encode(), "ForbiddenException"
        match request.method:
            case "POST":
                data = request.body
                if len(data) > MESSAGE_LIMIT_BYTES:
                    return 413, b'{"message":"Message too long"}', "PayloadTooLargeException"
                found = await self.gateway.post(api, connection_id, data)
                log.info(
                    "%s PostToConnection %d bytes: %s", connection_id, len(data), "sent" if found else "gone"
                )
                return (200, b"", None) if found else (410, b"", "GoneException")
            case "GET":
                described = self.gateway.describe(api, connection_id)
                if described is None:
                    return 410, b"", "GoneException"
                return 200, json.dumps(described).encode(), None
            case _:  # DELETE
                found = await self.gateway.delete(api, connection_id)
                log.info("%s DeleteConnection: %s", connection_id, "closing" if found else "gone")
                return (204, b"", None) if found else (410, b"", "GoneException")


async def serve_management(gateway: Gateway, port: int) -> asyncio.Server:
    """The management API on 127.0.0.1:``port`` (0: any free port), served on the running loop."""
    api = ManagementApi(gateway)
    return await asyncio.start_server(api.serve, "127.0.0.1", port, limit=_HEAD_LIMIT, backlog=1024)


__all__ = ["ManagementApi", "serve_management"]
