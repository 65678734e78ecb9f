"""The staff's WebSocket on the deployed local stack: a ticket from the REST API opens a real WebSocket
at the local gateway stand-in (started by `make up` from the stack's ``WebSocketApi`` output), which
runs the deployed real-time function in LocalStack; a shop's order goes outbox → EventBridge → the
function → the management API → that shop's connection, and never another shop's."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.shops import new_shop

# The first push wakes a cold function (the executor's subprocess) and the bus's rule.
PUSH_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def ws_url(stack: dict[str, Any]) -> str:
    if "ws_url" not in stack:
        pytest.fail("the deployed stack declares no WebSocket API: `make up` deploys the current code")
    return str(stack["ws_url"])


def _headers(shop: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop['access_token']}"}


def _ticket(http: httpx.Client, shop: dict[str, str]) -> str:
    response = http.post("/realtime/ticket", headers=_headers(shop))
    assert response.status_code == 201, response.text
    return str(response.json()["ticket"])


def _next(ws: ClientConnection, want: str, timeout_s: float) -> dict[str, Any]:
    """The next message of type ``want`` (others, e.g. the shop's earlier events, are skipped)."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {want} within {timeout_s} s"
        message = json.loads(ws.recv(timeout=left))
        if message.get("type") == want:
            return dict(message)


def _order(http: httpx.Client, shop: dict[str, str]) -> dict[str, Any]:
    headers = _headers(shop)
    phone = f"31 9{uuid.uuid4().int % 10**8:08d}"
    customer = http.post("/customers", headers=headers, json={"name": "Cliente Tempo Real", "phone": phone})
    assert customer.status_code == 201, customer.text
    device = http.post(
        f"/customers/{customer.json()['id']}/devices",
        headers=headers,
        json={"type": "phone", "brand": "Motorola", "model": "Moto G84"},
    )
    assert device.status_code == 201, device.text
    order = http.post(
        "/orders",
        headers=headers,
        json={
            "customer_id": customer.json()["id"],
            "device_id": device.json()["id"],
            "reported_problem": "Tela piscando",
        },
    )
    assert order.status_code == 201, order.text
    return dict(order.json())


def test_the_ticket_names_the_gateway_it_opens(http: httpx.Client, ws_url: str) -> None:
    # The local stage's API hands out the gateway stand-in's URL, as prod hands out the stage's wss://
    shop = new_shop(http, "Loja Tempo Real URL")
    response = http.post("/realtime/ticket", headers=_headers(shop))
    assert response.status_code == 201, response.text
    assert response.json()["url"] == ws_url
    with connect(f"{response.json()['url']}?ticket={response.json()['ticket']}", open_timeout=60) as ws:
        ws.send(json.dumps({"action": "ping", "request_id": "u1"}))
        assert _next(ws, "pong", PUSH_TIMEOUT_S)["request_id"] == "u1"


def test_a_ticket_opens_the_websocket_once(http: httpx.Client, ws_url: str) -> None:
    shop = new_shop(http, "Loja Tempo Real Ticket")
    ticket = _ticket(http, shop)
    with connect(f"{ws_url}?ticket={ticket}", open_timeout=60) as ws:
        ws.send(json.dumps({"action": "ping", "request_id": "p1"}))
        assert _next(ws, "pong", 30)["request_id"] == "p1"
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{ws_url}?ticket={ticket}", open_timeout=60)
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as missing:
        connect(ws_url, open_timeout=60)
    assert missing.value.response.status_code == 401


def test_a_shops_new_order_is_pushed_to_its_staff_and_not_to_another_shop(
    http: httpx.Client, ws_url: str
) -> None:
    a, b = new_shop(http, "Loja Tempo Real A"), new_shop(http, "Loja Tempo Real B")
    with (
        connect(f"{ws_url}?ticket={_ticket(http, a)}", open_timeout=60) as ws_a,
        connect(f"{ws_url}?ticket={_ticket(http, b)}", open_timeout=60) as ws_b,
    ):
        # When A opens an order over the API
        order = _order(http, a)
        # Then A's panel is told (outbox → EventBridge → the real-time function → the gateway)
        created = _next(ws_a, "order.created", PUSH_TIMEOUT_S)
        assert created["data"]["order_id"] == order["id"]
        # And the staff chat works on the same connection
        ws_a.send(json.dumps({"action": "chat.send", "text": "OS nova na bancada", "request_id": "c1"}))
        assert _next(ws_a, "chat.sent", 30)["message"]["text"] == "OS nova na bancada"
        # And B's connection heard nothing of A
        ws_b.send(json.dumps({"action": "ping", "request_id": "b1"}))
        heard = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                heard.append(json.loads(ws_b.recv(timeout=deadline - time.monotonic())))
            except TimeoutError:
                break
        assert [m["type"] for m in heard] == ["pong"], heard
