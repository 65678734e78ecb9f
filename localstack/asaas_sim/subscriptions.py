"""/subscriptions: list, create (its first payment at once), read, update (optionally the pending
payments too), delete (with what was not due yet), its payments; and the next cycle's payment."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from asaas_sim import payments
from asaas_sim.answers import Answer, error, matches, page
from asaas_sim.state import Account, Fire, now


def route(
    account: Account,
    method: str,
    rest: list[str],
    params: dict[str, str],
    body: dict[str, Any],
    fire: Fire,
) -> Answer:
    if not rest and method == "GET":
        found = [s for s in account.subscriptions.values() if matches(s, params)]
        return 200, page(found, params), {}
    if not rest and method == "POST":
        return _create(account, body, fire)
    existing = account.subscriptions.get(rest[0]) if rest else None
    if existing is None:
        return 404, error("not_found", "Assinatura não encontrada."), {}
    subscription = existing
    if len(rest) == 1 and method == "GET":
        return 200, subscription, {}
    if len(rest) == 1 and method == "POST":
        for key in ("value", "description", "nextDueDate", "billingType"):
            if key in body:
                subscription[key] = body[key]
        if body.get("updatePendingPayments"):
            for payment in account.payments.values():
                if payment.get("subscription") == subscription["id"] and payment["status"] in (
                    "PENDING",
                    "OVERDUE",
                ):
                    payment["value"] = subscription["value"]
                    payment["netValue"] = round(subscription["value"] * 0.97, 2)
        return 200, subscription, {}
    if len(rest) == 1 and method == "DELETE":
        subscription.update(deleted=True, status="INACTIVE")
        for payment in account.payments.values():  # what was not due yet goes with it
            if payment.get("subscription") == subscription["id"] and payment["status"] == "PENDING":
                payment["deleted"] = True
                fire(account, "PAYMENT_DELETED", payment)
        return 200, {"deleted": True, "id": subscription["id"]}, {}
    if rest[1:] == ["payments"] and method == "GET":
        found = [p for p in account.payments.values() if p.get("subscription") == subscription["id"]]
        found.sort(key=lambda p: p["dueDate"])
        return 200, page(found, params), {}
    return 404, error("not_found", "Rota não simulada."), {}


def _create(account: Account, body: dict[str, Any], fire: Fire) -> Answer:
    if body.get("customer") not in account.customers:
        return 400, error("invalid_customer", "Cliente inexistente."), {}
    if body.get("cycle") not in ("WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "YEARLY"):
        return 400, error("invalid_cycle", "Periodicidade inválida."), {}
    if not body.get("nextDueDate"):
        return 400, error("invalid_nextDueDate", "Informe o vencimento da primeira cobrança."), {}
    if not isinstance(body.get("value"), (int, float)) or body["value"] < 5:
        return 400, error("invalid_value", "O valor deve ser de no mínimo R$ 5,00."), {}
    subscription = {
        "object": "subscription",
        "id": f"sub_{secrets.token_hex(8)}",
        "dateCreated": now().date().isoformat(),
        "customer": body["customer"],
        "paymentLink": None,
        "billingType": body.get("billingType", "UNDEFINED"),
        "cycle": body["cycle"],
        "value": body["value"],
        "nextDueDate": body["nextDueDate"],
        "endDate": None,
        "description": body.get("description"),
        "status": "ACTIVE",
        "deleted": False,
        "externalReference": body.get("externalReference"),
    }
    account.subscriptions[subscription["id"]] = subscription
    next_cycle(account, subscription, fire)  # Asaas creates the first payment at once
    return 200, subscription, {}


def next_cycle(account: Account, subscription: dict[str, Any], fire: Fire) -> dict[str, Any]:
    """The subscription's payment for its next due date; the due date moves one cycle on."""
    due = date.fromisoformat(subscription["nextDueDate"])
    status, payment, _ = payments.create(
        account,
        {
            "customer": subscription["customer"],
            "billingType": subscription["billingType"],
            "value": subscription["value"],
            "dueDate": due.isoformat(),
            "description": subscription["description"],
            "externalReference": subscription["externalReference"],
        },
        fire,
        subscription=subscription["id"],
    )
    assert status == 200, payment
    subscription["nextDueDate"] = add_month(due).isoformat()
    return dict(payment)


def add_month(day: date) -> date:
    month = day.month % 12 + 1
    year = day.year + (day.month == 12)
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError(day)
