"""What the e2e tests share: a fresh shop per test module (tests that change settings or fuzz the API
must not touch the demo shop `make dev` shows), waiting for the stack's asynchronous work, and reading
back what the simulators received (LocalStack's SES, the Evolution simulator)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from devctl.demo import mail_recipients, mail_subject, mail_text


def new_shop(http: httpx.Client, name: str) -> dict[str, str]:
    from validate_docbr import CNPJ

    email = f"e2e-{uuid.uuid4().hex[:10]}@exemplo.com.br"
    password = f"senha-{uuid.uuid4().hex[:12]}"
    response = confirmed_signup(
        http,
        {
            "shop_name": name,
            "cnpj": CNPJ().generate(),
            "email": email,
            "phone": "(11) 98765-4321",
            "owner_name": "Dono E2E",
            "password": password,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return {
        "email": email,
        "password": password,
        "access_token": body["access_token"],
        "tenant_id": body["tenant_id"],
    }


def confirmed_signup(http: httpx.Client, body: dict[str, Any], timeout_s: float = 30) -> httpx.Response:
    """POST /signup, then what the owner does with the mail SES sent (read back from LocalStack):
    confirm on its link. The confirmation's answer (201 with the owner's tokens)."""
    import json
    import re
    import time

    from tests.e2e.conftest import STACK_JSON

    asked = http.post("/signup", json=body)
    assert asked.status_code == 202, asked.text
    stack = json.loads(STACK_JSON.read_text())
    deadline = time.monotonic() + timeout_s
    while True:
        messages = httpx.get(
            f"{stack['localstack_url']}/_aws/ses", params={"email": stack["mail_sender"]}, timeout=30
        ).json()["messages"]
        links = [
            found[1]
            for m in messages
            if body["email"] in mail_recipients(m)
            and (found := re.search(r"/public/signup/([\w-]+)", mail_text(m)))
        ]
        if links:
            return http.post(f"/public/signup/{links[-1]}", json={})
        assert time.monotonic() < deadline, f"no confirmation mail to {body['email']}"
        time.sleep(0.5)


def approved_order(
    http: httpx.Client,
    headers: dict[str, str],
    *,
    customer: str,
    price_cents: int,
    email: str | None = None,
) -> dict[str, Any]:
    """A customer, a phone, an order, a quote for labour and the customer's approval."""
    phone = f"71 9{uuid.uuid4().int % 10**8:08d}"
    customer_row = http.post(
        "/customers",
        headers=headers,
        json={"name": customer, "phone": phone, **({"email": email} if email else {})},
    ).json()
    device = http.post(
        f"/customers/{customer_row['id']}/devices",
        headers=headers,
        json={"type": "phone", "brand": "Xiaomi", "model": "Poco X6"},
    ).json()
    order = http.post(
        "/orders",
        headers=headers,
        json={"customer_id": customer_row["id"], "device_id": device["id"], "reported_problem": "Não liga"},
    ).json()
    http.post(f"/orders/{order['id']}/transitions", headers=headers, json={"to": "diagnosing", "version": 1})
    quote = http.post(
        f"/orders/{order['id']}/quotes",
        headers=headers,
        json={
            "lines": [{"kind": "labour", "description": "Reparo", "price_cents": price_cents}],
            "deadline_days": 2,
        },
    ).json()
    decided = http.post(
        f"/quotes/{quote['id']}/decision", headers=headers, json={"decision": "approve", "name": customer}
    )
    assert decided.status_code == 200, decided.text
    return dict(order)


def mails_to(stack: dict[str, Any], address: str) -> list[dict[str, str]]:
    """The messages LocalStack's SES kept for ``address`` (read back from /_aws/ses): to, subject, text."""
    messages = httpx.get(
        f"{stack['localstack_url']}/_aws/ses", params={"email": stack["mail_sender"]}, timeout=30
    ).json()["messages"]
    return [
        {"to": address, "subject": mail_subject(m), "text": mail_text(m), "id": m.get("Id", "")}
        for m in messages
        if address.lower() in mail_recipients(m)
    ]


def wait_for[T](what: str, check: Callable[[], T | None], timeout_s: float = 120, every_s: float = 0.5) -> T:
    """``check()``'s first truthy answer, asked every ``every_s`` seconds; an AssertionError naming
    ``what`` was waited for when none came within ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(every_s)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s")


def whatsapp_texts_to(stack: dict[str, Any], instance: str, number: str) -> list[str]:
    """The texts the Evolution simulator's ``instance`` sent to ``number`` (read back from /_sim/sent),
    oldest first; other kinds of message (media, ...) left out."""
    sent = httpx.get(
        f"{stack['evolution_simulator_url']}/_sim/sent", params={"instance": instance}, timeout=30
    ).json()
    return [s["body"]["text"] for s in sent if s["body"].get("number") == number and "text" in s["body"]]
