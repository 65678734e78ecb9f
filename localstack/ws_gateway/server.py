"""Run the gateway: its WebSocket server and its management API on 127.0.0.1, from an event loop
on a thread of its own (``start``: the tests and ``python -m ws_gateway`` both use it)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import Server, serve

from ws_gateway.config import FRAME_LIMIT_BYTES, MESSAGE_LIMIT_BYTES, Api, GatewayConfig, load
from ws_gateway.gateway import Gateway, GatewayConnection
from ws_gateway.integration import LambdaIntegration
from ws_gateway.management import serve_management

log = logging.getLogger("ws_gateway")
_DRAIN_S = 5.0  # how long a stopping gateway waits for the last $disconnect invocations


@dataclass
class RunningGateway:
    gateway: Gateway
    port: int
    management_port: int
    _loop: asyncio.AbstractEventLoop
    _thread: threading.Thread
    _server: Server
    _management: asyncio.Server

    def _api(self, api_id: str | None) -> Api:
        apis = self.gateway.config.apis
        return apis[0] if api_id is None else next(a for a in apis if a.api_id == api_id)

    def _path(self, api: Api) -> str:
        shared = sum(1 for a in self.gateway.config.apis if a.stage == api.stage) > 1
        return f"/{api.api_id}/{api.stage}" if shared else f"/{api.stage}"

    def ws_url(self, api_id: str | None = None) -> str:
        """Where clients connect (``wss://{api}.execute-api.{region}.amazonaws.com/{stage}`` in AWS)."""
        return f"ws://127.0.0.1:{self.port}{self._path(self._api(api_id))}"

    def management_url(self, api_id: str | None = None) -> str:
        """The management API's endpoint (``https://{api}.execute-api.{region}.amazonaws.com/{stage}``)."""
        return f"http://127.0.0.1:{self.management_port}{self._path(self._api(api_id))}"

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the gateway's loop (to read its state from another thread)."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def settle(self, timeout_s: float = 30) -> None:
        """Wait until no message or ``$disconnect`` is being handled (the tests' way to know that
        whatever a message would have sent back has been sent)."""

        async def wait() -> None:
            await self.gateway.drain(timeout_s)

        asyncio.run_coroutine_threadsafe(wait(), self._loop).result(timeout_s + 5)

    def stop(self) -> None:
        async def close() -> None:
            self._management.close()
            self._management.close_clients()  # its keep-alive connections
            await self._management.wait_closed()
            self._server.close()  # closes the connections with 1001 (going away)
            await self._server.wait_closed()
            await self.gateway.drain(_DRAIN_S)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self.gateway.integration.close()


def start(config: GatewayConfig, *, port: int = 0, management_port: int = 0) -> RunningGateway:
    """Serve ``config`` on 127.0.0.1 (port 0: any free port) until ``stop()``."""
    integration = LambdaIntegration(config.lambda_endpoint, config.region, config.integration_timeout_s)
    gateway = Gateway(config, integration)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ws-gateway-loop", daemon=True)
    thread.start()

    async def open_server() -> Server:
        return await serve(
            gateway.handler,
            "127.0.0.1",
            port,
            compression=None,  # API Gateway negotiates no permessage-deflate
            process_request=gateway.process_request,
            process_response=gateway.process_response,
            server_header=None,
            # $connect runs inside the handshake and may take the whole integration timeout.
            open_timeout=config.integration_timeout_s + 5,
            ping_interval=None,  # idleness is API Gateway's rule (watchdog), not keepalive pings
            max_size=(MESSAGE_LIMIT_BYTES, FRAME_LIMIT_BYTES),
            create_connection=GatewayConnection,
        )

    try:
        server = asyncio.run_coroutine_threadsafe(open_server(), loop).result(30)
        gateway.port = server.sockets[0].getsockname()[1]
        management = asyncio.run_coroutine_threadsafe(
            serve_management(gateway, management_port), loop
        ).result(30)
    except BaseException:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        integration.close()
        raise
    return RunningGateway(
        gateway,
        gateway.port,
        management.sockets[0].getsockname()[1],
        loop,
        thread,
        server,
        management,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="the local stand-in for API Gateway WebSocket APIs")
    parser.add_argument(
        "--config", required=True, help="the APIs and their routes (JSON; see ws_gateway.config)"
    )
    parser.add_argument("--port", type=int, default=4595, help="WebSocket port; 0: any free port (printed)")
    parser.add_argument(
        "--management-port", type=int, default=4596, help="management API (@connections) port"
    )
    parser.add_argument("--idle-timeout", type=float, help="seconds without a client message (default 600)")
    parser.add_argument("--max-connection", type=float, help="seconds a connection may last (default 7200)")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = load(args.config)
    overrides = {
        key: value
        for key, value in (("idle_timeout_s", args.idle_timeout), ("max_connection_s", args.max_connection))
        if value is not None
    }
    if overrides:
        config = GatewayConfig.model_validate({**config.model_dump(), **overrides})
    running = start(config, port=args.port, management_port=args.management_port)
    for api in config.apis:
        print(
            f"ws gateway: {api.api_id} ({', '.join(sorted(api.routes))}) on {running.ws_url(api.api_id)};"
            f" management API {running.management_url(api.api_id)}",
            flush=True,
        )
    stop.wait()
    running.stop()
    return 0
