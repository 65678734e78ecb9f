"""How a charge moves from one state to another, whoever moves it (the shop, a webhook, the
reconciliation), and how a payment flow waiting on it is resumed."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from assistec.db import payments as pay_db
from assistec.db.rows import ChargeRow
from assistec.domain import payments as payment_rules
from assistec.observability import logger
from assistec.services.unit_of_work import UnitOfWork

OPEN = ("pending", "overdue")  # a charge that can still be paid or cancelled
# A charge whose money the order has: paid, or paid and being refunded (until Asaas says refunded
# it is neither open nor reopened: the order keeps counting it, it cannot be cancelled, and it is
# no reason for a new charge).
RECEIVED = ("paid", "refunding")

Resume = Callable[[str, dict[str, Any]], None]  # (task token, output) -> None


def apply_state(
    uow: UnitOfWork,
    charge: ChargeRow,
    state: str,
    *,
    asaas_status: str | None,
    payment: dict[str, Any] | None,
) -> tuple[ChargeRow, bool]:
    """Move a locked charge to ``state``: the order's received amount recomputed from its paid
    charges, an audit row and one ``ChargeStatusChanged`` event, in ``uow``. Return the charge and
    whether its state changed: no change, no effect (a duplicate or replayed event ends here)."""
    changes: dict[str, Any] = {}
    if asaas_status and asaas_status != charge.asaas_status:
        changes["asaas_status"] = asaas_status
    if state == charge.status:
        return (pay_db.update_charge(uow.conn, charge.id, changes) if changes else charge), False
    changes["status"] = state
    if state == "paid":
        paid_value = (payment or {}).get("value")
        paid_cents = payment_rules.cents(paid_value) if paid_value is not None else charge.value_cents
        changes["paid_cents"] = paid_cents
        # A refund Asaas gave up on (refunding -> paid) keeps the day the money came in.
        changes["paid_at"] = charge.paid_at or datetime.now(UTC)
        if payment and payment.get("transactionReceiptUrl"):
            changes["receipt_url"] = payment["transactionReceiptUrl"]
        changes.update(credit_facts(payment))
    updated = pay_db.update_charge(uow.conn, charge.id, changes)
    paid_total = pay_db.refresh_order_paid(uow.conn, charge.order_id)
    uow.audit(
        "state",
        "charge",
        charge.id,
        changes={"status": {"from": charge.status, "to": state}, "asaas_status": asaas_status},
    )
    uow.emit(
        "ChargeStatusChanged",
        {
            "charge_id": str(charge.id),
            "order_id": str(charge.order_id),
            "status": state,
            "previous_status": charge.status,
            "value_cents": charge.value_cents,
            "order_paid_cents": paid_total,
        },
    )
    return updated, True


def credit_facts(payment: dict[str, Any] | None) -> dict[str, Any]:
    """What Asaas credits for a paid payment, as it reports it: the net value (``netValue``) and the
    day (``creditDate``, else ``estimatedCreditDate``); what it leaves out, or gets wrong, is left
    out (the bank reconciliation then expects the paid value on the day paid)."""
    facts: dict[str, Any] = {}
    payment = payment or {}
    try:
        if payment.get("netValue") is not None:
            net = payment_rules.cents(payment["netValue"])
            if net >= 0:
                facts["net_cents"] = net
    except (TypeError, ValueError, ArithmeticError):
        pass
    day = payment.get("creditDate") or payment.get("estimatedCreditDate")
    if isinstance(day, str):
        with contextlib.suppress(ValueError):
            facts["credit_on"] = date.fromisoformat(day[:10])
    return facts


def paid_output(charge: ChargeRow) -> dict[str, Any]:
    """What a payment flow waiting on ``charge`` receives when it is paid."""
    return {"charge_id": str(charge.id), "status": charge.status, "paid_cents": charge.paid_cents}


def resume_flow(charge: ChargeRow, resume: Resume | None) -> None:
    """A paid charge a payment flow waits on hands the flow its task token back (after commit).
    A flow already gone (timed out, stopped) refuses the token: logged, never retried."""
    if resume is None or charge.status != "paid" or not charge.flow_task_token:
        return
    try:
        resume(charge.flow_task_token, paid_output(charge))
    except Exception:
        logger.warning("payment flow could not be resumed", extra={"charge_id": str(charge.id)})
