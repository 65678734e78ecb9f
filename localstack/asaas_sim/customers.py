"""/customers: list (by externalReference) and create."""

from __future__ import annotations

import secrets
from typing import Any

from asaas_sim.answers import Answer, error, matches, page
from asaas_sim.state import Account, now


def route(
    account: Account, method: str, rest: list[str], params: dict[str, str], body: dict[str, Any]
) -> Answer | None:
    """The answer of a /customers route; None for a route not simulated."""
    if not rest and method == "GET":
        found = [c for c in account.customers.values() if matches(c, params)]
        return 200, page(found, params), {}
    if not rest and method == "POST":
        if not body.get("name"):
            return 400, error("invalid_name", "O nome do cliente deve ser informado."), {}
        customer = {
            "object": "customer",
            "id": f"cus_{secrets.token_hex(6)}",
            "dateCreated": now().date().isoformat(),
            **body,
        }
        account.customers[customer["id"]] = customer
        return 200, customer, {}
    return None
