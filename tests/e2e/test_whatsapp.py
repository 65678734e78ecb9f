"""WhatsApp end to end on the local stack (issue 11 §8), every part deployed: the owner connects the
shop's number through the API (the QR at the offline Evolution simulator, which "scans" it and posts
connection.update to the deployed API); a customer asks a price (the simulator posts messages.upsert
as Evolution 2.3.6 does; the webhook stores it and queues it on SQS; the consumer Lambda's bot answers
from the shop's price rule; the sender Lambda sends it); staff open the order and send the quote (the
quote flow on Step Functions); the customer replies "1" (parts reserved, the order approved, the
payment flow started by the quote flow: its PIX charge at the Asaas simulator, sent on WhatsApp);
the Asaas simulator pays (webhook → consumer → the payment flow resumed): "pagamento recebido"; staff
move the order to ready: "pronto para retirada" a minute later (the status queue's hold)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.shops import new_shop, wait_for, whatsapp_texts_to

SIM_KEY = f"$aact_e2e_wa_{uuid.uuid4().hex}"


@pytest.mark.timeout(900)
def test_price_quote_reply_payment_and_ready_on_whatsapp(http: httpx.Client, stack: dict[str, Any]) -> None:
    shop = new_shop(http, "Loja WhatsApp E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}

    def ok(response: httpx.Response) -> Any:
        assert response.status_code in (200, 201, 202), response.text
        return response.json()

    # The shop's Asaas account (the simulator) and its number
    ok(http.put("/settings/payments", headers=headers, json={"api_key": SIM_KEY, "environment": "sandbox"}))
    instance = ok(http.post("/whatsapp/instance", headers=headers, json={"number": "5511955551111"}))
    assert instance["qr_image"].startswith("data:image/png;base64,")
    assert instance["webhook_url"].startswith(f"{stack['api_url']}/webhooks/evolution/")
    sim = httpx.Client(base_url=stack["evolution_simulator_url"], timeout=30)
    ok(sim.post(f"/_sim/instances/{instance['name']}/open", json={"number": "5511955551111"}))
    wait_for(
        "the number open",
        lambda: http.get("/whatsapp/instance", headers=headers).json().get("state") == "open",
    )
    rule = {"service": "Troca de tela", "device_type": "phone", "brand": "Apple", "model": "iPhone 11"}
    ok(http.post("/price-rules", headers=headers, json={**rule, "price_cents": 45000}))
    screen = ok(
        http.post(
            "/parts", headers=headers, json={"name": "Tela iPhone 11", "quantity": 3, "price_cents": 25000}
        )
    )

    # 1. A customer asks the price (addressed by Linked ID, the phone beside it): the shop's rule answers
    phone = f"55119{uuid.uuid4().int % 10**8:08d}"
    ok(
        sim.post(
            f"/_sim/instances/{instance['name']}/messages",
            json={
                "phone": phone,
                "lid": str(uuid.uuid4().int % 10**15),
                "text": "quanto custa trocar a tela do iphone 11",
            },
        )
    )
    answers = wait_for(
        "the price", lambda: [a for a in whatsapp_texts_to(stack, instance["name"], phone) if "R$" in a]
    )
    assert "R$ 450,00" in answers[0]

    # 2. Staff open the order (the conversation's contact becomes the customer) and send the quote
    conversation = wait_for(
        "the conversation", lambda: http.get("/conversations", headers=headers).json()["items"]
    )[0]
    customer = ok(http.post("/customers", headers=headers, json={"name": "Bia Lima", "phone": f"+{phone}"}))
    ok(
        http.put(
            f"/conversations/{conversation['id']}/customer",
            headers=headers,
            json={"customer_id": customer["id"]},
        )
    )
    device = ok(
        http.post(
            f"/customers/{customer['id']}/devices",
            headers=headers,
            json={"type": "phone", "brand": "Apple", "model": "iPhone 11"},
        )
    )
    order = ok(
        http.post(
            "/orders",
            headers=headers,
            json={
                "customer_id": customer["id"],
                "device_id": device["id"],
                "reported_problem": "Tela quebrada",
            },
        )
    )
    ok(
        http.post(
            f"/orders/{order['id']}/transitions", headers=headers, json={"to": "diagnosing", "version": 1}
        )
    )
    quote = ok(
        http.post(
            f"/orders/{order['id']}/quotes",
            headers=headers,
            json={
                "lines": [
                    {"kind": "part", "part_id": screen["id"], "quantity": 1},
                    {"kind": "labour", "description": "Mão de obra", "price_cents": 20000},
                ],
                "deadline_days": 1,
            },
        )
    )
    ok(http.post(f"/quotes/{quote['id']}/send", headers=headers, json={"payment": "PIX"}))
    wait_for(
        "the quote on WhatsApp",
        lambda: [t for t in whatsapp_texts_to(stack, instance["name"], phone) if quote["public_token"] in t],
    )

    # 3. The customer replies "1": approved, parts reserved; the payment flow's PIX goes out on WhatsApp
    ok(sim.post(f"/_sim/instances/{instance['name']}/messages", json={"phone": phone, "text": "1"}))
    pix = wait_for(
        "the payment link",
        lambda: [t for t in whatsapp_texts_to(stack, instance["name"], phone) if "Pix copia e cola" in t],
    )
    assert "R$ 450,00" in pix[0]
    assert http.get(f"/orders/{order['id']}", headers=headers).json()["status"] == "approved"
    assert http.get(f"/parts/{screen['id']}", headers=headers).json()["reserved"] == 1

    # 4. The customer pays (the simulator): "pagamento recebido"
    charge = ok(http.get(f"/orders/{order['id']}/charges", headers=headers))["items"][0]
    ok(
        httpx.post(
            f"{stack['asaas_simulator_url']}/_sim/payments/{charge['asaas_payment_id']}/pay", timeout=60
        )
    )
    wait_for(
        "pagamento recebido",
        lambda: [
            t for t in whatsapp_texts_to(stack, instance["name"], phone) if t.startswith("Pagamento recebido")
        ],
    )

    # 5. Repaired: ready for pickup, told a minute later (a change undone within it is never told)
    for to in ("repairing", "ready"):
        current = http.get(f"/orders/{order['id']}", headers=headers).json()
        ok(
            http.post(
                f"/orders/{order['id']}/transitions",
                headers=headers,
                json={"to": to, "version": current["version"]},
            )
        )
    ready = wait_for(
        "pronto para retirada",
        lambda: [t for t in whatsapp_texts_to(stack, instance["name"], phone) if "pronto para retirada" in t],
        timeout_s=180,
    )
    assert len(ready) == 1
    # Staff see the whole conversation; disconnecting removes the number at the server
    messages = http.get(f"/conversations/{conversation['id']}/messages", headers=headers).json()["items"]
    assert messages[0]["author"] == "customer"
    assert messages[-1]["body"].startswith("Olá, Bia! Seu Apple iPhone 11 está pronto para retirada")
    assert http.delete("/whatsapp/instance", headers=headers).status_code == 200
    assert http.get("/whatsapp/instance", headers=headers).status_code == 404
