"""Push latency (issue 14 §4): a shop's domain event to every one of its 50 connections, through the
push handler (real PostgreSQL: the shop's connections read under RLS), the management API client
and the local gateway stand-in, to real WebSocket clients, all in this process. Measured from the
push function's start (what EventBridge adds between the commit and that start is not in it: the
in-process bus has none; test_realtime_push_deployed.py measures from the commit through LocalStack)
to each connection's receipt. Target: p99 <= 200 ms (aim 100). Reported, never asserted.

The events alternate between the function's client (integrations/connections.py: pooled keep-alive
connections, its own SigV4 signature) and boto3's ``apigatewaymanagementapi`` client as the function
used it before (``Boto3Connections`` below), so the two are compared in one run."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid
from typing import Any

from websockets.asyncio.client import connect

from tests.bench.conftest import report
from tests.integration.conftest import Client, api, api_root, bus, client, fakes, signup
from tests.integration.realtime_helpers import RealtimeStack, realtime_stack

__all__ = ["api", "api_root", "bus", "client", "fakes", "realtime_stack"]


class Boto3Connections:
    """The function's client before: boto3's, one shared by the posting threads."""

    def __init__(self, endpoint: str, *, max_pool: int = 16) -> None:
        import boto3
        from botocore.config import Config

        self._client = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=endpoint,
            config=Config(
                retries={"total_max_attempts": 2, "mode": "standard"},
                connect_timeout=2,
                read_timeout=5,
                max_pool_connections=max_pool,
            ),
        )

    def post(self, connection_id: str, data: bytes) -> bool:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._client.exceptions.GoneException:
            return False
        return True


CONNECTIONS = 50
EVENTS = int(os.environ.get("BENCH_REALTIME_EVENTS") or (3 if os.environ.get("BENCH_RUNS") == "1" else 40))


def test_push_to_fifty_connections_of_one_shop(realtime_stack: RealtimeStack, client: Client) -> None:
    shop = signup(client, name="Loja Bench Tempo Real")
    tickets = []
    for _ in range(CONNECTIONS):
        status, body, _ = client.call("POST", "/realtime/ticket", shop.access_token)
        assert status == 201, body
        tickets.append(body["ticket"])

    from assistec.wiring.realtime import root

    clients = {
        "boto3 (before)": Boto3Connections(realtime_stack.gateway.management_url()),
        "pooled SigV4 (after)": root().connections,
    }

    async def scenario() -> dict[str, tuple[list[float], list[float]]]:
        sockets = [await connect(f"{realtime_stack.url}?ticket={t}", open_timeout=60) for t in tickets]
        loop = asyncio.get_running_loop()
        outcome: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in clients}
        for i in range(2 * (EVENTS + 1)):  # each client's first event warms it and the pool
            name = list(clients)[i % 2]
            root().connections = clients[name]  # the root's cached client, swapped
            deliveries, last = outcome[name]
            detail = {
                "tenant_id": shop.tenant_id,
                "event_id": f"bench-{i}",
                "conversation_id": str(uuid.uuid4()),
            }
            start = time.perf_counter()
            pushing = loop.run_in_executor(None, realtime_stack.push, "ConversationWaitingForStaff", detail)

            async def receive(ws: Any, event_id: str = f"bench-{i}", since: float = start) -> float:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if message["event_id"] == event_id:
                        return (time.perf_counter() - since) * 1000

            times = await asyncio.gather(*(receive(ws) for ws in sockets))
            answer = await pushing
            assert answer["sent"] == CONNECTIONS, answer
            if i >= 2:
                deliveries.extend(times)
                last.append(max(times))
        await asyncio.gather(*(ws.close() for ws in sockets))
        return outcome

    outcome = asyncio.run(scenario())
    rows = []
    for name, (deliveries, last) in outcome.items():
        p = statistics.quantiles(deliveries, n=100, method="inclusive")
        rows.append(
            {
                "client": name,
                "connections": CONNECTIONS,
                "events": len(last),
                "p50_ms": f"{p[49]:.1f}",
                "p99_ms": f"{p[98]:.1f}",
                "max_ms": f"{max(deliveries):.1f}",
                "all_50_p99_ms": f"{statistics.quantiles(last, n=100, method='inclusive')[98]:.1f}",
            }
        )
    report("realtime_push", rows)
