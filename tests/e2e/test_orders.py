"""Service orders on the deployed local stack: a transition's domain event reaches the real
(LocalStack) EventBridge bus, and the scheduled relay function runs against the real database."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx


def _owner(http: httpx.Client, stack: dict[str, Any]) -> dict[str, str]:
    response = http.post(
        "/auth/login", json={"email": stack["demo_email"], "password": stack["demo_password"]}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _listen(aws: Any, bus: str) -> tuple[str, str]:
    """An SQS queue subscribed to the bus's order events (what a consumer would do)."""
    sqs, events = aws("sqs"), aws("events")
    name = f"e2e-orders-{uuid.uuid4().hex[:8]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["assistec.orders"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return queue_url, name


def _drain(aws: Any, queue_url: str, want: int, order_id: str, timeout_s: float = 20) -> list[dict[str, Any]]:
    """The order's events from the queue (others' orders, published meanwhile by the API or the
    relay, are read and dropped)."""
    sqs, got = aws("sqs"), []
    deadline = time.monotonic() + timeout_s
    while len(got) < want and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            event = json.loads(message["Body"])
            if event.get("detail", {}).get("order_id") == order_id:
                got.append(event)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return got


def test_order_events_reach_the_bus_and_the_relay_runs(
    http: httpx.Client, stack: dict[str, Any], aws: Any
) -> None:
    headers = _owner(http, stack)
    queue_url, rule = _listen(aws, stack["event_bus_name"])
    try:
        phone = f"31 9{uuid.uuid4().int % 10**8:08d}"
        customer = http.post(
            "/customers", headers=headers, json={"name": "Cliente OS E2E", "phone": phone}
        ).json()
        device = http.post(
            f"/customers/{customer['id']}/devices",
            headers=headers,
            json={"type": "phone", "brand": "Motorola", "model": "Moto G84"},
        ).json()
        order = http.post(
            "/orders",
            headers=headers,
            json={
                "customer_id": customer["id"],
                "device_id": device["id"],
                "reported_problem": "Não carrega",
            },
        )
        assert order.status_code == 201, order.text
        moved = http.post(
            f"/orders/{order.json()['id']}/transitions",
            headers=headers,
            json={"to": "diagnosing", "version": 1, "reason": "Bancada 1"},
        )
        assert moved.status_code == 200, moved.text
        events = _drain(aws, queue_url, want=2, order_id=order.json()["id"])
        assert sorted(e["detail-type"] for e in events) == ["OrderCreated", "OrderStatusChanged"]
        changed = next(e for e in events if e["detail-type"] == "OrderStatusChanged")
        assert changed["source"] == "assistec.orders"
        assert (changed["detail"]["order_id"], changed["detail"]["status"]) == (
            order.json()["id"],
            "diagnosing",
        )
        # The scheduled relay, invoked as its rule would: nothing is left to publish
        result = aws("lambda").invoke(FunctionName=stack["outbox_relay_function_name"], Payload=b"{}")
        assert "FunctionError" not in result, result["Payload"].read()
        report = json.loads(result["Payload"].read())
        assert report["published"] == 0
        assert report["oldest_pending_s"] == 0
    finally:
        aws("events").remove_targets(Rule=rule, EventBusName=stack["event_bus_name"], Ids=["q"])
        aws("events").delete_rule(Name=rule, EventBusName=stack["event_bus_name"])
        aws("sqs").delete_queue(QueueUrl=queue_url)


def test_parallel_approvals_over_http_never_oversell_the_shelf(
    http: httpx.Client, stack: dict[str, Any]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    headers = _owner(http, stack)
    part = http.post(
        "/parts",
        headers=headers,
        json={"name": f"Bateria E2E {uuid.uuid4().hex[:6]}", "quantity": 2, "price_cents": 9000},
    ).json()
    tokens = []
    for _ in range(6):
        phone = f"51 9{uuid.uuid4().int % 10**8:08d}"
        customer = http.post(
            "/customers", headers=headers, json={"name": "Cliente Estoque", "phone": phone}
        ).json()
        device = http.post(
            f"/customers/{customer['id']}/devices",
            headers=headers,
            json={"type": "phone", "brand": "Apple", "model": "iPhone 12"},
        ).json()
        order = http.post(
            "/orders",
            headers=headers,
            json={
                "customer_id": customer["id"],
                "device_id": device["id"],
                "reported_problem": "Bateria viciada",
            },
        ).json()
        http.post(
            f"/orders/{order['id']}/transitions", headers=headers, json={"to": "diagnosing", "version": 1}
        )
        quote = http.post(
            f"/orders/{order['id']}/quotes",
            headers=headers,
            json={"lines": [{"kind": "part", "part_id": part["id"]}], "deadline_days": 1},
        )
        assert quote.status_code == 201, quote.text
        tokens.append(quote.json()["public_token"])

    def approve(token: str) -> int:
        with httpx.Client(base_url=stack["api_url"], timeout=60) as own:
            return own.post(
                f"/public/quotes/{token}/decision", json={"decision": "approve", "name": "Cliente Estoque"}
            ).status_code

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        statuses = list(pool.map(approve, tokens))
    assert statuses == [200] * len(tokens)
    stock = http.get(f"/parts/{part['id']}", headers=headers).json()
    assert (stock["quantity"], stock["reserved"], stock["available"]) == (2, 2, 0)
