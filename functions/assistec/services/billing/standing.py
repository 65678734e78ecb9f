"""The shop's standing: its billing status recomputed from its invoices (domain/billing.py; a trial
that ended without a subscription owes as an invoice due on its last day), and the escalation's
e-mails to the owner. Both run inside the shop's unit of work."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from assistec.db import billing as bill_db
from assistec.domain import billing as billing_rules
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.billing.common import PLATFORM_TZ

if TYPE_CHECKING:
    from assistec.services.email.service import Mail
    from assistec.services.unit_of_work import UnitOfWork


def refresh_status(uow: UnitOfWork, *, today: date, reopening: bool = False) -> tuple[str, str]:
    """Recompute the shop's billing status from its invoices as of ``today`` (a cancellation takes
    effect on its day) and return ``(before, after)``. A change is written with its audit row
    (signed by the system, whoever opened the unit) and a ``ShopBillingStatusChanged`` event.
    ``reopening``: support is reopening a cancelled shop (its cancellation already cleared): the
    invoices decide, whatever the status was."""
    sub = bill_db.subscription(uow.conn)
    assert sub is not None
    invoices = [
        billing_rules.Invoice(i.asaas_payment_id, i.due_date, i.status)
        for i in bill_db.invoices(uow.conn, limit=1000)
    ]
    stand_in = _trial_ended(sub, today)
    if stand_in is not None:
        invoices.append(billing_rules.Invoice(stand_in.asaas_payment_id, stand_in.due_date, stand_in.status))
    before = sub.billing_status
    if reopening:
        after = billing_rules.standing(invoices, today=today, grace_days=sub.grace_days)
    else:
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


def _trial_ended(sub: bill_db.SubscriptionRow, today: date) -> bill_db.InvoiceRow | None:
    """The stand-in invoice of a trial that ended without an Asaas subscription (domain/billing.py)."""
    owed = billing_rules.trial_ended(
        sub.trial_ends_on,
        provisioned=sub.asaas_subscription_id is not None,
        cancelled=sub.cancelled_at is not None,
        today=today,
    )
    if owed is None:
        return None
    return bill_db.InvoiceRow(
        tenant_id=sub.tenant_id,
        asaas_payment_id=owed.payment_id,
        due_date=owed.due_date,
        value_cents=sub.price_cents,
        status=owed.status,
        asaas_status=billing_rules.TRIAL_ENDED,
        invoice_url=None,
        paid_on=None,
    )


def owed_invoices(uow: UnitOfWork, *, today: date) -> list[bill_db.InvoiceRow]:
    """The shop's unpaid invoices, oldest due first, with the stand-in of a trial that ended without
    a subscription (what the escalation's e-mails speak of)."""
    sub = bill_db.subscription(uow.conn)
    assert sub is not None
    invoices = bill_db.open_invoices(uow.conn)
    stand_in = _trial_ended(sub, today)
    if stand_in is not None:
        invoices.append(stand_in)
    return sorted(invoices, key=lambda i: (i.due_date, i.asaas_payment_id))


class Notices:
    """The owner's e-mails of the escalation (past due, reminder, last warning, suspended,
    reactivated). Without the mail module (the API) nothing is sent."""

    def __init__(self, mail: Mail | None) -> None:
        self._mail = mail

    def send(self, uow: UnitOfWork, step: str, invoice: bill_db.InvoiceRow, *, today: date) -> bool:
        """Send ``step``'s notice about ``invoice`` once: claimed in the shop's transaction before the
        e-mail goes, so a failed send rolls the claim back (and raises). True when sent."""
        if self._mail is None:
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
        from assistec.services.email.templates import SUBSCRIPTION_NOTICES

        trial_ended = invoice.asaas_status == billing_rules.TRIAL_ENDED and step != "reactivated"
        context: dict[str, object] = {"shop_name": sub.shop_name, "value_cents": invoice.value_cents}
        if step != "reactivated":
            context |= {
                "due_date": invoice.due_date,
                "invoice_url": invoice.invoice_url,
                "trial_ended": trial_ended,
                "suspend_in_days": max(sub.grace_days + 1 - (today - invoice.due_date).days, 1),
            }
        # In the shop's transaction (the claim above): a message that could not go rolls it back.
        sent = self._mail.send(
            uow.tenant_id,
            template=SUBSCRIPTION_NOTICES[step],
            to=sub.shop_email,
            context=context,
            audience="shop",
        )
        return sent.ok
