"""What a customer, the bank and the calendar do to a payment (the simulator's /_sim control calls):
pay it, let it fall overdue, finish its refund."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from asaas_sim import subscriptions
from asaas_sim.state import Account, Fire, now


def pay(account: Account, payment: dict[str, Any], fire: Fire, *, value: float | None = None) -> None:
    today = now().date().isoformat()
    if value is not None:
        payment["value"] = value
    payment.update(
        confirmedDate=today,
        paymentDate=today,
        clientPaymentDate=today,
        creditDate=today,
        estimatedCreditDate=today,
        transactionReceiptUrl=f"https://sandbox.asaas.com/comprovantes/{secrets.randbelow(10**16):016d}",
    )
    if payment["billingType"] == "CREDIT_CARD":
        payment["status"] = "CONFIRMED"
        fire(account, "PAYMENT_CONFIRMED", payment)
    payment["status"] = "RECEIVED"  # PIX and boleto: RECEIVED only, never CONFIRMED
    fire(account, "PAYMENT_RECEIVED", payment)
    subscription = account.subscriptions.get(str(payment.get("subscription")))
    # the next month's payment, as Asaas generates it (never for a deleted subscription)
    if (
        subscription is not None
        and not subscription.get("deleted")
        and not any(
            p.get("subscription") == subscription["id"] and p["status"] in ("PENDING", "OVERDUE")
            for p in account.payments.values()
        )
    ):
        subscriptions.next_cycle(account, subscription, fire)


def overdue(account: Account, payment: dict[str, Any], fire: Fire, *, days: int = 1) -> None:
    """The payment unpaid ``days`` days after its due date (the due date moves back when needed,
    standing in for the calendar)."""
    latest = now().date() - timedelta(days=days)
    if date.fromisoformat(payment["dueDate"]) > latest:
        payment["dueDate"] = payment["originalDueDate"] = latest.isoformat()
    payment["status"] = "OVERDUE"
    fire(account, "PAYMENT_OVERDUE", payment)


def refunded(account: Account, payment: dict[str, Any], fire: Fire) -> bool:
    """The bank finished the payment's refund in progress: REFUNDED. False when none was in progress."""
    if payment["status"] not in ("REFUND_REQUESTED", "REFUND_IN_PROGRESS"):
        return False
    payment["status"] = "REFUNDED"
    fire(account, "PAYMENT_REFUNDED", payment)
    return True
