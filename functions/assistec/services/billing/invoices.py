"""Asaas's view of a shop's subscription written over ours: its invoices and the next due date.
Asaas is the source of truth: read with no transaction open, then written inside the shop's unit
of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from assistec.db import billing as bill_db
from assistec.domain import billing as billing_rules
from assistec.domain.payments import cents

if TYPE_CHECKING:
    from assistec.integrations.asaas import AsaasClient
    from assistec.services.unit_of_work import UnitOfWork


def store_invoice(uow: UnitOfWork, payment: dict[str, Any]) -> bill_db.InvoiceRow | None:
    """One Asaas payment of the subscription, as the shop's invoice (inserted or updated)."""
    status = billing_rules.invoice_status(payment)
    paid_on = (payment.get("paymentDate") or payment.get("confirmedDate")) if status == "paid" else None
    return bill_db.upsert_invoice(
        uow.conn,
        tenant_id=uow.tenant_id,
        payment_id=str(payment["id"]),
        due_date=date.fromisoformat(str(payment["dueDate"])),
        value_cents=cents(payment.get("value") or 0),
        status=status,
        asaas_status=str(payment.get("status") or ""),
        invoice_url=payment.get("invoiceUrl"),
        paid_on=date.fromisoformat(str(paid_on)) if paid_on else None,
    )


@dataclass(frozen=True)
class RemoteSubscription:
    """The shop's Asaas subscription and all its payments, as Asaas had them when read."""

    subscription: dict[str, Any]
    payments: list[dict[str, Any]]


def fetch_remote(client: AsaasClient, asaas_subscription_id: str) -> RemoteSubscription:
    """Read the subscription and its payments from Asaas: called with no transaction open (a slow
    Asaas must not hold the shop's rows), then written with ``write_remote``."""
    remote = client.get_subscription(asaas_subscription_id)
    return RemoteSubscription(remote, client.subscription_payments(asaas_subscription_id))


def write_remote(uow: UnitOfWork, fetched: RemoteSubscription) -> None:
    """Write what ``fetch_remote`` read over ours (Asaas is the source of truth): the invoices,
    and the next due date they imply."""
    sub = bill_db.subscription(uow.conn)
    assert sub is not None
    for payment in fetched.payments:
        store_invoice(uow, payment)
    store_next_due(uow, fetched.subscription, current=sub.next_due_date)


def store_next_due(uow: UnitOfWork, remote: dict[str, Any], *, current: date | None) -> None:
    """Record the date the shop has to pay by when it moved from ``current``: its oldest unpaid
    invoice, else the Asaas subscription's next cycle (none once it is deleted)."""
    next_due = _next_due(uow, remote)
    if next_due != current:
        bill_db.update_subscription(uow.conn, next_due_date=next_due)


def _next_due(uow: UnitOfWork, remote: dict[str, Any]) -> date | None:
    unpaid = bill_db.open_invoices(uow.conn)
    if unpaid:
        return unpaid[0].due_date
    if remote.get("deleted"):
        return None  # cancelled: nothing more to pay
    value = remote.get("nextDueDate")
    return date.fromisoformat(str(value)) if value else None
