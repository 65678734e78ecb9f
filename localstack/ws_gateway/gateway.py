"""The WebSocket side: the handshake runs ``$connect``, each text message runs the route its body
selects, the close runs ``$disconnect``; API Gateway's limits and its answers to the client.

What API Gateway does, and so this does (sources in tests/fixtures/apigw_websocket/README.md):

- ``$connect`` decides the handshake: a 2xx ``statusCode`` opens the connection (its
  ``Sec-WebSocket-Protocol`` header, if any, is the subprotocol chosen), any other status is the
  handshake's HTTP answer (401, 403, ...), a function error is 502, no answer within the
  integration timeout 504. Without a ``$connect`` route every handshake is accepted. The connection
  is not postable (410 Gone) until ``$connect`` has accepted it.
- a message goes to the route its body selects, else ``$default``; with no route the client gets
  ``{"message": "Forbidden", "connectionId":"…", "requestId":"…"}``; a failed integration gets
  ``{"message": "Internal server error", …}`` and the connection stays open. Status codes of
  message routes mean nothing; the response's ``body`` is sent back only on a route with a route
  response (``two_way``). Messages are handled concurrently, in no guaranteed order.
- limits: 32 KB frames and 128 KB messages (bigger ones close the connection with 1009), text
  frames only (a binary frame closes it with 1003), no permessage-deflate, 10 minutes without a
  message from the client (idle) or 2 hours in all close it with 1001 "Going away".
- ``$disconnect`` runs after the close (best effort), with the close's status code and reason.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from ws_gateway import events
from ws_gateway.config import CONNECT, DISCONNECT, Api, GatewayConfig
from ws_gateway.integration import LambdaIntegration, Outcome, Result
from ws_gateway.routing import select_route

log = logging.getLogger("ws_gateway")

HEALTH_PATH = "/_ws_gateway/health"
GOING_AWAY = (CloseCode.GOING_AWAY, "Going away")
DELETED = (CloseCode.NORMAL_CLOSURE, "")  # closed through DELETE @connections/{id}
BINARY_REFUSED = (CloseCode.UNSUPPORTED_DATA, "Binary frames are not supported")
# Text frames go out in fragments of at most 32 KB, as API Gateway sends: 8192 characters are at
# most 32 KB of UTF-8.
_FRAGMENT_CHARS = 8192


@dataclass(eq=False)
class Client:
    """An open connection and what API Gateway keeps of it."""

    api: Api
    info: events.Connection
    ws: GatewayConnection
    opened: float  # monotonic
    last_active: float  # monotonic: the last message from the client
    last_active_ms: int
    subprotocol: str | None = None
    server_close: tuple[int, str] | None = None  # the gateway's own reason to close it

    def touch(self, now_ms: int) -> None:
        self.last_active = time.monotonic()
        self.last_active_ms = now_ms


class GatewayConnection(ServerConnection):
    """websockets' server connection, carrying the client once ``$connect`` accepted it."""

    client: Client | None = None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _response(status: int, body: str, content_type: str = "application/json") -> Response:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    data = body.encode()
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return Response(status, phrase, headers, data)


def client_error(message: str, connection_id: str, request_id: str) -> str:
    """What API Gateway sends a client whose message found no route or whose integration failed,
    spacing included."""
    return (
        f'{{"message": {json.dumps(message)}, "connectionId":{json.dumps(connection_id)}, '
        f'"requestId":{json.dumps(request_id)}}}'
    )


class Gateway:
    """The connections of every configured API, driven from one event loop."""

    def __init__(self, config: GatewayConfig, integration: LambdaIntegration) -> None:
        self.config = config
        self.integration = integration
        self.port = 0  # the WebSocket port, once serving (X-Forwarded-Port)
        self.connections: dict[str, Client] = {}
        self._background: set[asyncio.Task[None]] = set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("handling failed", exc_info=task.exception())

    async def drain(self, timeout_s: float) -> None:
        """Wait (a while) until no message or ``$disconnect`` is being handled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._background and (left := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._background), timeout=left)

    # The handshake: $connect.

    async def process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path == HEALTH_PATH:
            return _response(http.HTTPStatus.OK, json.dumps(self.health()))
        api = self.config.find_api([s for s in url.path.split("/") if s])
        if api is None:
            return _response(http.HTTPStatus.FORBIDDEN, '{"message":"Forbidden"}')
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return None  # not a WebSocket handshake: websockets answers it (426)
        assert isinstance(ws, GatewayConnection)
        now_ms = _now_ms()
        info = events.Connection(
            connection_id=events.new_id(),
            api_id=api.api_id,
            stage=api.stage,
            domain_name=request.headers.get("Host", f"127.0.0.1:{self.port}"),
            connected_at_ms=now_ms,
            source_ip=str(ws.remote_address[0]),
            user_agent=request.headers.get("User-Agent"),
        )
        client = Client(
            api, info, ws, opened=time.monotonic(), last_active=time.monotonic(), last_active_ms=now_ms
        )
        route = api.routes.get(CONNECT)
        if route is None:
            ws.client = client
            return None
        request_id = events.new_id()
        event = events.connect_event(
            info,
            list(request.headers.raw_items()),
            parse_qsl(url.query, keep_blank_values=True),
            port=self.port,
            now_ms=_now_ms(),
            request_id=request_id,
        )
        result = await self.integration.invoke(route.function, event)
        rejection = self._connect_rejection(result)
        log.info(
            "%s $connect %s: %s",
            info.connection_id,
            route.function,
            "accepted" if rejection is None else f"refused {rejection.status_code} ({result.outcome.value})",
        )
        if result.detail:
            log.info("%s $connect: %s", info.connection_id, result.detail)
        if rejection is not None:
            return rejection
        headers = result.payload.get("headers")
        headers = headers if isinstance(headers, dict) else {}
        protocol = next((v for k, v in headers.items() if str(k).lower() == "sec-websocket-protocol"), None)
        client.subprotocol = str(protocol) if protocol is not None else None
        ws.client = client
        return None

    @staticmethod
    def _connect_rejection(result: Result) -> Response | None:
        """The handshake's answer when ``$connect`` refused the connection or failed; None to open it."""
        if result.outcome is Outcome.TIMEOUT:
            return _response(http.HTTPStatus.GATEWAY_TIMEOUT, '{"message": "Endpoint request timed out"}')
        if result.outcome is Outcome.INVOKE_ERROR:
            return _response(http.HTTPStatus.INTERNAL_SERVER_ERROR, '{"message": "Internal server error"}')
        payload = result.payload
        status = payload.get("statusCode") if isinstance(payload, dict) else None
        if result.outcome is Outcome.FUNCTION_ERROR or type(status) is not int or not 100 <= status <= 599:
            # A function error, or an answer that is not a proxy response: 502, as API Gateway.
            return _response(http.HTTPStatus.BAD_GATEWAY, '{"message": "Internal server error"}')
        if 200 <= status <= 299:
            return None
        body = payload.get("body")
        return _response(status, body if isinstance(body, str) else "", "text/plain; charset=utf-8")

    def process_response(self, ws: ServerConnection, request: Request, response: Response) -> Response | None:
        client = ws.client if isinstance(ws, GatewayConnection) else None
        if (
            client is not None
            and client.subprotocol
            and response.status_code == http.HTTPStatus.SWITCHING_PROTOCOLS
        ):
            response.headers["Sec-WebSocket-Protocol"] = client.subprotocol
        return None

    # The open connection: messages, limits, then $disconnect.

    async def handler(self, ws: ServerConnection) -> None:
        assert isinstance(ws, GatewayConnection)
        client = ws.client
        if client is None:  # the handshake was not ours (it cannot open without $connect's yes)
            await ws.close(CloseCode.POLICY_VIOLATION)
            return
        connection_id = client.info.connection_id
        self.connections[connection_id] = client
        watchdog = asyncio.get_running_loop().create_task(self._watch(client))
        try:
            async for message in ws:
                if not isinstance(message, str):
                    client.server_close = BINARY_REFUSED
                    await ws.close(*BINARY_REFUSED)
                    break
                client.touch(_now_ms())
                self._spawn(self._on_message(client, message))
        except ConnectionClosed:
            pass
        finally:
            watchdog.cancel()
            self.connections.pop(connection_id, None)
            await ws.wait_closed()
            code, reason = self._close_status(client)
            log.info("%s closed %s %s", connection_id, code, reason)
            self._spawn(self._on_disconnect(client, code, reason))

    async def _watch(self, client: Client) -> None:
        """Close the connection once it has been idle, or open, as long as API Gateway allows."""
        while True:
            deadline = min(
                client.last_active + self.config.idle_timeout_s, client.opened + self.config.max_connection_s
            )
            wait = deadline - time.monotonic()
            if wait <= 0:
                client.server_close = GOING_AWAY
                await client.ws.close(*GOING_AWAY)
                return
            await asyncio.sleep(wait)

    @staticmethod
    def _close_status(client: Client) -> tuple[int, str]:
        """The close's status code and reason as ``$disconnect`` reports them."""
        if client.server_close is not None:
            return client.server_close
        protocol = client.ws.protocol
        if protocol.close_rcvd is not None and (protocol.close_rcvd_then_sent or protocol.close_sent is None):
            code, reason = protocol.close_rcvd.code, protocol.close_rcvd.reason
            if code == events.NO_STATUS_CODE:
                return code, events.NO_STATUS_REASON
            return code, reason
        if protocol.close_sent is not None:  # the gateway failed the connection (too big, shutting down)
            return protocol.close_sent.code, protocol.close_sent.reason
        return CloseCode.ABNORMAL_CLOSURE, "Connection closed abnormally"

    async def _on_message(self, client: Client, body: str) -> None:
        info = client.info
        request_id = events.new_id()
        route_key = select_route(client.api.selection_path, body, client.api.routes)
        if route_key is None:
            log.info("%s message: no route", info.connection_id)
            await self._send(client, client_error("Forbidden", info.connection_id, request_id))
            return
        route = client.api.routes[route_key]
        event = events.message_event(
            info, route_key, body, now_ms=_now_ms(), request_id=request_id, message_id=events.new_id()
        )
        result = await self.integration.invoke(route.function, event)
        log.info(
            "%s %s %s: %s %s",
            info.connection_id,
            route_key,
            route.function,
            result.outcome.value,
            result.detail,
        )
        if result.outcome is Outcome.TIMEOUT:
            await self._send(
                client, client_error("Endpoint request timed out", info.connection_id, request_id)
            )
        elif result.outcome is not Outcome.OK:
            await self._send(client, client_error("Internal server error", info.connection_id, request_id))
        elif route.two_way:
            payload = result.payload
            if not isinstance(payload, dict):
                await self._send(
                    client, client_error("Internal server error", info.connection_id, request_id)
                )
            elif isinstance(payload.get("body"), str) and payload["body"]:
                await self._send(client, payload["body"])

    async def _on_disconnect(self, client: Client, code: int, reason: str) -> None:
        route = client.api.routes.get(DISCONNECT)
        if route is None:
            return
        event = events.disconnect_event(
            client.info, code, reason, now_ms=_now_ms(), request_id=events.new_id()
        )
        result = await self.integration.invoke(route.function, event)
        log.info(
            "%s $disconnect %s: %s %s",
            client.info.connection_id,
            route.function,
            result.outcome.value,
            result.detail,
        )

    @staticmethod
    async def _send(client: Client, data: str | bytes) -> bool:
        """Send one message in ≤ 32 KB frames; False when the connection is gone."""
        try:
            if isinstance(data, str) and len(data) > _FRAGMENT_CHARS:
                await client.ws.send(
                    [data[i : i + _FRAGMENT_CHARS] for i in range(0, len(data), _FRAGMENT_CHARS)]
                )
            elif isinstance(data, bytes) and len(data) > 4 * _FRAGMENT_CHARS:
                size = 4 * _FRAGMENT_CHARS
                await client.ws.send([data[i : i + size] for i in range(0, len(data), size)])
            else:
                await client.ws.send(data)
        except ConnectionClosed:
            return False
        return True

    # The management API's operations (management.py calls them on the loop).

    def _client(self, api: Api, connection_id: str) -> Client | None:
        client = self.connections.get(connection_id)
        return client if client is not None and client.api is api else None

    async def post(self, api: Api, connection_id: str, data: bytes) -> bool:
        """PostToConnection: False when the connection is gone (410). Text when the data is UTF-8."""
        client = self._client(api, connection_id)
        if client is None:
            return False
        try:
            message: str | bytes = data.decode()
        except UnicodeDecodeError:
            message = data
        return await self._send(client, message)

    def describe(self, api: Api, connection_id: str) -> dict[str, Any] | None:
        """GetConnection's answer, or None when the connection is gone."""
        client = self._client(api, connection_id)
        if client is None:
            return None
        return {
            "connectedAt": _iso(client.info.connected_at_ms),
            "identity": {"sourceIp": client.info.source_ip, "userAgent": client.info.user_agent or ""},
            "lastActiveAt": _iso(client.last_active_ms),
        }

    async def delete(self, api: Api, connection_id: str) -> bool:
        """DeleteConnection: close it (``$disconnect`` then runs); False when it is gone."""
        client = self._client(api, connection_id)
        if client is None:
            return False
        # Gone at once for the management API (a post now is 410); the closing handshake goes on.
        self.connections.pop(connection_id, None)
        client.server_close = DELETED
        self._spawn(client.ws.close(*DELETED))
        return True

    def health(self) -> dict[str, Any]:
        return {
            "status": "running",
            "apis": [
                {"api_id": api.api_id, "stage": api.stage, "routes": sorted(api.routes)}
                for api in self.config.apis
            ],
            "connections": len(self.connections),
        }


def _iso(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms / 1000)) + f".{epoch_ms % 1000:03d}Z"
