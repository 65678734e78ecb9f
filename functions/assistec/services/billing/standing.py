"""The shop's standing: its billing status recomputed from its invoices (domain/billing.py), and the
escalation's e-mails to the owner. Both run inside the shop's unit of work."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from assistec.db import billing as bill_db
from assistec.domain import billing as billing_rules
from assistec.domain.quotes import brl
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.billing.common import PLATFORM_TZ

if TYPE_CHECKING:
    from assistec.integrations.email import Mailer
    from assistec.services.unit_of_work import UnitOfWork


def refresh_status(uow: UnitOfWork, *, today: date) -> tuple[str, str]:
    """Recompute the shop's billing status from its invoices as of ``today`` (a cancellation takes
    effect on its day) and return ``(before, after)``. A change is written with its audit row
    (signed by the system, whoever opened the unit) and a ``ShopBillingStatusChanged`` event."""
    sub = bill_db.subscription(uow.conn)
    assert sub is not None
    invoices = [
        billing_rules.Invoice(i.asaas_payment_id, i.due_date, i.status)
        for i in bill_db.invoices(uow.conn, limit=1000)
    ]
    before = sub.billing_status
    after = billing_rules.status_for(before, invoices, today=today, grace_days=sub.grace_days)
    if sub.cancel_on is not None and today >= sub.cancel_on:
        after = "cancelled"
    since = billing_rules.oldest_overdue(invoices, today)
    changes: dict[str, Any] = {}
    if since != sub.past_due_since:
        changes["past_due_since"] = since
    if after == "suspended" and sub.suspended_at is None:
        changes["suspended_at"] = datetime.now(PLATFORM_TZ)
    if after != "suspended" and sub.suspended_at is not None:
        changes["suspended_at"] = None
    if changes:
        bill_db.update_subscription(uow.conn, **changes)
    if after != before:
        bill_db.set_status(uow.conn, after)
        uow.audit(
            "billing_status_changed",
            "tenant",
            uow.tenant_id,
            changes={"billing_status": {"from": before, "to": after}},
            by=SystemActor(uow.tenant_id),
        )
        uow.emit("ShopBillingStatusChanged", {"from": before, "to": after})
        logger.info("billing status changed", extra={"from": before, "to": after})
    return before, after


class Notices:
    """The owner's e-mails of the escalation (past due, reminder, last warning, suspended,
    reactivated). Without a mailer (the API) nothing is sent."""

    def __init__(self, mailer: Mailer | None) -> None:
        self._mailer = mailer

    def send(self, uow: UnitOfWork, step: str, invoice: bill_db.InvoiceRow, *, today: date) -> bool:
        """Send ``step``'s notice about ``invoice`` once: claimed in the shop's transaction before the
        e-mail goes, so a failed send rolls the claim back (and raises). True when sent."""
        if self._mailer is None:
            return False
        sub = bill_db.subscription(uow.conn)
        assert sub is not None
        if not bill_db.record_notice(
            uow.conn,
            tenant_id=uow.tenant_id,
            payment_id=invoice.asaas_payment_id,
            step=step,
            sent_to=sub.shop_email,
        ):
            return False
        subject, body = billing_rules.notice_text(
            step,
            shop=sub.shop_name,
            value=brl(invoice.value_cents),
            due=invoice.due_date,
            invoice_url=invoice.invoice_url,
            grace_days=sub.grace_days,
            days_late=(today - invoice.due_date).days,
        )
        self._mailer.send(sub.shop_email, subject, body)
        return True
