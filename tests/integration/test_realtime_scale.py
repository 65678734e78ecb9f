"""1,000 connections across 50 shops (issue 14 §3): each receives its own shop's events, every one
of them, and no other shop's. Through the local gateway stand-in, the real handlers and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, signup
from tests.integration.realtime_helpers import RealtimeStack, realtime_stack

__all__ = ["realtime_stack"]

SHOPS = 50
PER_SHOP = 20  # 1,000 connections
EVENTS_PER_SHOP = 2


@pytest.mark.timeout(600)
def test_a_thousand_connections_across_fifty_shops_get_their_events_and_only_theirs(
    realtime_stack: RealtimeStack, client: Client, database: PgDatabase
) -> None:
    # Given 50 shops, each with 20 staff connections (tickets from the REST API, one each)
    shops = [signup(client, name=f"Loja {i:02d} Assistência") for i in range(SHOPS)]
    tickets: list[tuple[str, str]] = []
    for shop in shops:
        for _ in range(PER_SHOP):
            status, body, _ = client.call("POST", "/realtime/ticket", shop.access_token)
            assert status == 201, body
            tickets.append((shop.tenant_id, body["ticket"]))

    async def scenario() -> dict[str, list[list[dict[str, Any]]]]:
        # A handful of handshakes at a time: the Invoke double listens with a small backlog.
        gate = asyncio.Semaphore(4)

        async def open_one(ticket: str) -> ClientConnection:
            async with gate:
                return await connect(f"{realtime_stack.url}?ticket={ticket}", open_timeout=60, max_queue=None)

        sockets = await asyncio.gather(*(open_one(t) for _, t in tickets))
        by_shop: dict[str, list[ClientConnection]] = {}
        for (tenant, _), ws in zip(tickets, sockets, strict=True):
            by_shop.setdefault(tenant, []).append(ws)
        assert (
            realtime_stack.gateway.call(lambda: len(realtime_stack.gateway.gateway.connections))
            == SHOPS * PER_SHOP
        )

        # When each shop has events (a conversation waiting, an appointment booked), pushed as
        # EventBridge hands them to the push function, the shops' events interleaved
        loop = asyncio.get_running_loop()
        answers = []
        for round_ in range(EVENTS_PER_SHOP):
            for shop in shops:
                detail_type, detail = (
                    ("ConversationWaitingForStaff", {"conversation_id": str(uuid.uuid4())})
                    if round_ == 0
                    else ("AppointmentChanged", {"appointment_id": str(uuid.uuid4()), "change": "booked"})
                )
                detail |= {"tenant_id": shop.tenant_id, "event_id": f"{shop.tenant_id}/{round_}"}
                answers.append(await loop.run_in_executor(None, realtime_stack.push, detail_type, detail))
        assert answers == [{"pushed": True, "sent": PER_SHOP, "gone": 0}] * (SHOPS * EVENTS_PER_SHOP)

        async def drain(ws: ClientConnection) -> list[dict[str, Any]]:
            got = []
            while True:
                try:
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 1.0)))
                except TimeoutError:
                    return got

        tenants = list(by_shop)
        drained = await asyncio.gather(*(asyncio.gather(*(drain(ws) for ws in by_shop[t])) for t in tenants))
        received = dict(zip(tenants, drained, strict=True))
        await asyncio.gather(*(ws.close() for ws in sockets))
        return received

    received = asyncio.run(scenario())
    # Then every connection got exactly its shop's events, each once, in the order pushed
    assert len(received) == SHOPS
    for tenant, connections in received.items():
        assert len(connections) == PER_SHOP
        for messages in connections:
            assert [m["event_id"] for m in messages] == [f"{tenant}/0", f"{tenant}/1"], tenant
            assert [m["type"] for m in messages] == ["whatsapp.waiting", "appointment.booked"]
    # And closing them all forgets them all ($disconnect: the gateway invokes it for each closed
    # socket in the background; a busy machine takes a while for a thousand of them, so this waits
    # for the invocations, up to a bound that only a lost $disconnect reaches)
    realtime_stack.gateway.settle(60)
    import time

    import psycopg

    deadline = time.monotonic() + 300
    while True:
        with psycopg.connect(database.superuser_url) as conn:
            left = conn.execute(
                "select count(*) from realtime_connections where tenant_id = any(%s::uuid[])",
                ([s.tenant_id for s in shops],),
            ).fetchone()
        if left == (0,) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert left == (0,)
