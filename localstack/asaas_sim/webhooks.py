"""/webhooks (register, list, delete) and the deliveries of payment events to what was registered,
with the payload shape of Asaas's real deliveries (tests/fixtures/asaas)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import httpx

from asaas_sim.answers import Answer, error, page
from asaas_sim.state import Account, now

# (url, token, body) -> the HTTP status our endpoint answered
Deliver = Callable[[str, str, bytes], int]


def http_deliver(url: str, token: str, body: bytes) -> int:
    response = httpx.post(
        url,
        content=body,
        headers={"Content-Type": "application/json", "asaas-access-token": token},
        timeout=30,
    )
    return response.status_code


def route(
    account: Account, method: str, rest: list[str], params: dict[str, str], body: dict[str, Any]
) -> Answer | None:
    """The answer of a /webhooks route; None for a route not simulated."""
    if not rest and method == "GET":
        return 200, page(list(account.webhooks), params), {}
    if len(rest) == 1 and method == "DELETE":
        kept = [h for h in account.webhooks if h["id"] != rest[0]]
        if len(kept) == len(account.webhooks):
            return 404, error("not_found", "Webhook não encontrado."), {}
        account.webhooks[:] = kept
        return 200, {"deleted": True, "id": rest[0]}, {}
    if not rest and method == "POST":
        if not body.get("url") or not body.get("email"):
            return 400, error("invalid_object", "Informe url e email."), {}
        hook = {"id": secrets.token_hex(8), **body}
        account.webhooks.append(hook)
        return 200, hook, {}
    return None


def fire(
    account: Account,
    event: str,
    payment: dict[str, Any],
    *,
    deliver: Deliver,
    deliveries: list[dict[str, Any]],
) -> None:
    """Post the event to every enabled webhook that wants it; each delivery is appended to
    ``deliveries`` with our endpoint's answer."""
    for hook in account.webhooks:
        if not hook.get("enabled", True) or event not in hook.get("events", [event]):
            continue
        envelope = {
            "id": f"evt_{secrets.token_hex(16)}&{secrets.randbelow(10**9)}",
            "event": event,
            "dateCreated": now().strftime("%Y-%m-%d %H:%M:%S"),
            "payment": dict(payment),
        }
        body = json.dumps(envelope).encode()
        status = deliver(hook["url"], hook.get("authToken", ""), body)
        deliveries.append({"url": hook["url"], "event": event, "envelope": envelope, "status": status})
