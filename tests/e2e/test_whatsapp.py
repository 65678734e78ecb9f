"""WhatsApp end to end on the local stack: the owner connects the shop's number through the API (the
QR at the offline Evolution simulator, which "scans" it and posts connection.update to the deployed
API), a customer writes (the simulator posts messages.upsert as Evolution 2.3 does), the webhook
stores it and queues it on SQS, the consumer Lambda's bot answers from the shop's price rule, the
sender Lambda sends the answer through the simulator; staff take over from the panel's API."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.shops import new_shop


def _sent_to(stack: dict[str, Any], instance: str, phone: str) -> list[str]:
    sent = httpx.get(
        f"{stack['evolution_simulator_url']}/_sim/sent", params={"instance": instance}, timeout=30
    )
    return [
        s["body"]["text"] for s in sent.json() if s["body"].get("number") == phone and "text" in s["body"]
    ]


def _wait(what: str, check: Callable[[], Any], timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s")


@pytest.mark.timeout(600)
def test_a_customer_asks_a_price_on_whatsapp_and_staff_take_over(
    http: httpx.Client, stack: dict[str, Any]
) -> None:
    shop = new_shop(http, "Loja WhatsApp E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    connected = http.post("/whatsapp/instance", headers=headers, json={"number": "5511955551111"})
    assert connected.status_code == 200, connected.text
    instance = connected.json()
    assert instance["qr_image"].startswith("data:image/png;base64,")
    assert instance["webhook_url"].startswith(f"{stack['api_url']}/webhooks/evolution/")
    sim = httpx.Client(base_url=stack["evolution_simulator_url"], timeout=30)
    opened = sim.post(f"/_sim/instances/{instance['name']}/open", json={"number": "5511955551111"})
    assert opened.status_code == 200, opened.text
    _wait(
        "the number open at the API",
        lambda: http.get("/whatsapp/instance", headers=headers).json().get("state") == "open",
    )
    rule = {
        "service": "Troca de tela",
        "device_type": "phone",
        "brand": "Apple",
        "model": "iPhone 11",
        "price_cents": 45000,
    }
    assert http.post("/price-rules", headers=headers, json=rule).status_code == 201

    # A customer of the shop whose order moves now: told on WhatsApp about a minute later (the status
    # queue holds each change a minute, so one undone meanwhile is never told)
    customer = f"55119{uuid.uuid4().int % 10**8:08d}"
    settings = http.get("/settings/whatsapp", headers=headers).json()
    saved = http.put(
        "/settings/whatsapp",
        headers=headers,
        json={"version": settings["version"], "status_messages": ["diagnosing"]},
    )
    assert saved.status_code == 200, saved.text
    registered = http.post(
        "/customers", headers=headers, json={"name": "Bia Lima", "phone": f"({customer[2:4]}) {customer[4:]}"}
    ).json()
    device = http.post(
        f"/customers/{registered['id']}/devices",
        headers=headers,
        json={"type": "phone", "brand": "Apple", "model": "iPhone 11"},
    ).json()
    order = http.post(
        "/orders",
        headers=headers,
        json={
            "customer_id": registered["id"],
            "device_id": device["id"],
            "reported_problem": "Tela quebrada",
        },
    ).json()
    moved = http.post(
        f"/orders/{order['id']}/transitions",
        headers=headers,
        json={"to": "diagnosing", "version": order["version"]},
    )
    assert moved.status_code == 200, moved.text

    # The customer writes (addressed by Linked ID, the phone beside it, as Evolution 2.3.6 sends it)
    written = sim.post(
        f"/_sim/instances/{instance['name']}/messages",
        json={
            "phone": customer,
            "lid": str(uuid.uuid4().int % 10**15),
            "text": "quanto custa trocar a tela do iphone 11",
        },
    )
    assert written.status_code == 200, written.text
    answers = _wait(
        "the bot's answer", lambda: [a for a in _sent_to(stack, instance["name"], customer) if "R$" in a]
    )
    assert "R$ 450,00" in answers[0]

    # Staff see the conversation; the customer asks for a person; staff answer from the panel
    sim.post(
        f"/_sim/instances/{instance['name']}/messages",
        json={"phone": customer, "text": "quero falar com atendente"},
    )
    waiting = _wait(
        "the conversation waiting for staff",
        lambda: http.get("/conversations", headers=headers, params={"state": "waiting_staff"}).json()[
            "items"
        ],
    )
    conversation = waiting[0]["id"]
    replied = http.post(
        f"/conversations/{conversation}/messages", headers=headers, json={"text": "Olá! Sou a Ana."}
    )
    assert replied.status_code == 201, replied.text
    _wait("staff's reply sent", lambda: "Olá! Sou a Ana." in _sent_to(stack, instance["name"], customer))
    messages = http.get(f"/conversations/{conversation}/messages", headers=headers).json()["items"]
    assert [m["author"] for m in messages if m["author"] != "bot" or "R$" in (m["body"] or "")][:2] == [
        "customer",
        "bot",
    ]
    assert [m["body"] for m in messages if m["author"] == "staff"] == ["Olá! Sou a Ana."]
    # The order's status message arrived, once
    told = _wait(
        "the status message",
        lambda: [t for t in _sent_to(stack, instance["name"], customer) if f"OS {order['number']}" in t],
        timeout_s=180,
    )
    assert told[0].startswith("Olá, Bia! Seu Apple iPhone 11")
    # Disconnecting removes the number at the server
    assert http.delete("/whatsapp/instance", headers=headers).status_code == 200
    assert http.get("/whatsapp/instance", headers=headers).status_code == 404
