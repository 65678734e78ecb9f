"""The shops' subscription to assistec, charged by the platform's Asaas account.

- Signup opens the subscription row (trial on the chosen plan) and emits ``ShopSignedUp``; an
  EventBridge rule hands that to the payments queue and the consumer calls ``provision``: the
  shop's Asaas customer and monthly subscription, each found by its externalReference before it is
  created, so a retry never makes a second one.
- The platform account's webhook lands in its own inbox (``receive_platform``); the consumer
  applies each event (``apply_platform_event``) after re-reading the payment from Asaas.
- ``dunning`` runs daily: provisions what is missing, re-reads from Asaas the subscriptions whose
  invoices are late (a lost webhook cannot leave a shop suspended or free), moves each shop's
  status, and e-mails the owner on the escalation schedule (domain/billing.py).
- The API refuses a suspended shop (402) where it enters the shop's unit of work
  (``db.connection.billing_gate``), from the status this service keeps on the tenant.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from assistec.db import billing as bill_db
from assistec.db import events as events_db
from assistec.db.connection import Database
from assistec.domain import billing as rules
from assistec.domain.payments import cents
from assistec.domain.permissions import Permission, Role
from assistec.domain.quotes import brl
from assistec.domain.tokens import Identity
from assistec.errors import (
    AppError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    ValidationFailedError,
)
from assistec.integrations.asaas import AsaasClient, AsaasError
from assistec.integrations.events import OutboxRelay
from assistec.integrations.platform import PlatformAccount, PlatformAccountMissingError
from assistec.observability import logger
from assistec.services import audit
from assistec.services.access import require
from assistec.services.audit import PublicActor
from assistec.services.payments import parse_delivery

if TYPE_CHECKING:
    from assistec.db.repositories import Conn

PLATFORM_TZ = ZoneInfo("America/Sao_Paulo")
DEFAULT_PLAN = "essencial"
_ACTOR_LABEL = "Assinatura assistec"


def today_in_brazil() -> date:
    return datetime.now(PLATFORM_TZ).date()


def external_reference(tenant_id: UUID) -> str:
    return f"assistec-shop:{tenant_id}"


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class PlatformQueue(Protocol):
    def send_platform(self, event_id: str) -> None: ...


class BillingUnavailableError(AppError):
    status = 502
    code = "billing_provider_error"
    message = "O Asaas não respondeu. Nada foi alterado; tente novamente em instantes."


@dataclass
class DunningReport:
    shops: int = 0
    provisioned: int = 0
    synced: int = 0
    notices: int = 0
    past_due: int = 0
    suspended: int = 0
    reactivated: int = 0
    errors: int = 0


def open_subscription(conn: Conn, tenant_id: UUID, plan_code: str | None, *, today: date) -> UUID:
    """Inside signup's transaction: the shop's subscription row (trial), and the event that gets
    its Asaas subscription created. Returns the event's id (to publish after commit)."""
    plan = bill_db.plan(conn, plan_code or DEFAULT_PLAN)
    if plan is None:
        codes = [p.code for p in bill_db.plans(conn)]
        raise ValidationFailedError(
            "Plano desconhecido.",
            details=[{"field": "plan", "message": f"use um destes: {', '.join(codes)}"}],
        )
    bill_db.create_subscription(
        conn, tenant_id=tenant_id, plan_code=plan.code, trial_ends_on=today + timedelta(days=plan.trial_days)
    )
    return events_db.add(conn, tenant_id=tenant_id, detail_type="ShopSignedUp", detail={"plan": plan.code})


class BillingService:
    def __init__(
        self,
        db: Database,
        platform: Callable[[], PlatformAccount],
        asaas: Callable[[str, str], AsaasClient],
        *,
        relay: OutboxRelay | None = None,
        mailer: Mailer | None = None,
        queue: PlatformQueue | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._db = db
        self._platform = platform
        self._asaas = asaas
        self._relay = relay
        self._mailer = mailer
        self._queue = queue
        # Looked up at call time by default (tests move the calendar by replacing the function).
        self._today = today or (lambda: today_in_brazil())
        self._client: tuple[str, AsaasClient] | None = None
        self._events: list[UUID] = []  # domain events of the unit of work in progress

    # --- the platform account ------------------------------------------------------------------
    def _account(self) -> PlatformAccount:
        account = self._platform()
        if not account.api_key:
            raise PlatformAccountMissingError("the platform Asaas account has no API key configured")
        return account

    def client(self) -> AsaasClient:
        account = self._account()
        if self._client is None or self._client[0] != account.api_key:
            if self._client is not None:
                self._client[1].close()
            self._client = (account.api_key, self._asaas(account.environment, account.api_key))
        return self._client[1]

    # --- provisioning ---------------------------------------------------------------------------
    def provision(self, tenant_id: UUID) -> str:
        """Create the shop's Asaas customer and subscription if missing; sync its invoices.
        Safe to repeat. Raises on what a retry may fix (Asaas down); records a refusal."""
        client = self.client()
        with self._db.tenant_tx(tenant_id) as conn:
            # Locked for the whole exchange: two consumers provisioning one shop take turns, and
            # the second finds the first's subscription (ours or, after a lost answer, Asaas's).
            sub = bill_db.subscription(conn, lock=True)
            if sub is None:
                return "no_subscription"
            if sub.cancelled_at is not None:
                return "cancelled"
            if sub.asaas_subscription_id is not None:
                return "already_provisioned"
            try:
                remote = self._create_remote(client, tenant_id, sub)
            except AsaasError as exc:
                if exc.retryable:
                    raise
                # Asaas refused the shop's data: retrying cannot help; ops see the error.
                bill_db.update_subscription(conn, provision_error=str(exc)[:500])
                logger.error("asaas refused the shop's subscription", extra={"error": str(exc)})
                return "refused"
            bill_db.update_subscription(
                conn,
                asaas_customer_id=remote["customer"],
                asaas_subscription_id=remote["id"],
                provision_error=None,
            )
            self._sync(conn, tenant_id, client, remote)
            self._refresh(conn, tenant_id)
        self._flush()
        return "provisioned"

    def _create_remote(
        self, client: AsaasClient, tenant_id: UUID, sub: bill_db.SubscriptionRow
    ) -> dict[str, Any]:
        reference = external_reference(tenant_id)
        customer = client.find_customer(reference) or client.create_customer(
            {
                "name": sub.shop_name,
                "cpfCnpj": sub.shop_cnpj,
                "email": sub.shop_email,
                "mobilePhone": sub.shop_phone.removeprefix("+55"),
                "externalReference": reference,
                "notificationDisabled": True,  # our e-mails, not Asaas's
            }
        )
        found = client.find_subscription(reference)
        if found is not None:
            return found
        plan_name = sub.plan_code.capitalize()
        return client.create_subscription(
            {
                "customer": customer["id"],
                # The shop picks PIX, boleto or card on Asaas's invoice page.
                "billingType": "UNDEFINED",
                "value": sub.price_cents / 100,
                "nextDueDate": max(sub.trial_ends_on, self._today()).isoformat(),
                "cycle": "MONTHLY",
                "description": f"Assinatura assistec: plano {plan_name}",
                "externalReference": reference,
            }
        )

    def _sync(
        self, conn: Conn, tenant_id: UUID, client: AsaasClient, remote: dict[str, Any] | None = None
    ) -> None:
        """Asaas's view of the subscription and its payments, written over ours."""
        sub = bill_db.subscription(conn)
        assert sub is not None
        assert sub.asaas_subscription_id is not None
        if remote is None:
            remote = client.get_subscription(sub.asaas_subscription_id)
        for payment in client.subscription_payments(sub.asaas_subscription_id):
            self._store_invoice(conn, tenant_id, payment)
        next_due = _next_due(conn, remote)
        if next_due != sub.next_due_date:
            bill_db.update_subscription(conn, next_due_date=next_due)

    def _store_invoice(
        self, conn: Conn, tenant_id: UUID, payment: dict[str, Any]
    ) -> bill_db.InvoiceRow | None:
        status = rules.invoice_status(payment)
        paid_on = (payment.get("paymentDate") or payment.get("confirmedDate")) if status == "paid" else None
        return bill_db.upsert_invoice(
            conn,
            tenant_id=tenant_id,
            payment_id=str(payment["id"]),
            due_date=date.fromisoformat(str(payment["dueDate"])),
            value_cents=cents(payment.get("value") or 0),
            status=status,
            asaas_status=str(payment.get("status") or ""),
            invoice_url=payment.get("invoiceUrl"),
            paid_on=date.fromisoformat(str(paid_on)) if paid_on else None,
        )

    # --- status ----------------------------------------------------------------------------------
    def _refresh(self, conn: Conn, tenant_id: UUID) -> tuple[str, str]:
        """Recompute the shop's billing status from its invoices; record a change. (before, after)"""
        sub = bill_db.subscription(conn)
        assert sub is not None
        invoices = [
            rules.Invoice(i.asaas_payment_id, i.due_date, i.status)
            for i in bill_db.invoices(conn, limit=1000)
        ]
        today = self._today()
        before = sub.billing_status
        after = rules.status_for(before, invoices, today=today, grace_days=sub.grace_days)
        if sub.cancel_on is not None and today >= sub.cancel_on:
            after = "cancelled"
        since = rules.oldest_overdue(invoices, today)
        changes: dict[str, Any] = {}
        if since != sub.past_due_since:
            changes["past_due_since"] = since
        if after == "suspended" and sub.suspended_at is None:
            changes["suspended_at"] = datetime.now(PLATFORM_TZ)
        if after != "suspended" and sub.suspended_at is not None:
            changes["suspended_at"] = None
        if changes:
            bill_db.update_subscription(conn, **changes)
        if after != before:
            bill_db.set_status(conn, after)
            actor = PublicActor(tenant_id=tenant_id, label=_ACTOR_LABEL)
            audit.record(
                conn,
                actor,
                action="billing_status_changed",
                entity="tenant",
                entity_id=str(tenant_id),
                changes={"billing_status": {"from": before, "to": after}},
            )
            self._events.append(
                events_db.add(
                    conn,
                    tenant_id=tenant_id,
                    detail_type="ShopBillingStatusChanged",
                    detail={"from": before, "to": after},
                )
            )
            logger.info("billing status changed", extra={"from": before, "to": after})
        return before, after

    def _notify(self, conn: Conn, tenant_id: UUID, step: str, invoice: bill_db.InvoiceRow) -> bool:
        """Send one notice of the escalation, once per invoice and step (claimed in the shop's
        transaction before the e-mail goes: a failed send rolls the claim back)."""
        if self._mailer is None:
            return False
        sub = bill_db.subscription(conn)
        assert sub is not None
        if not bill_db.record_notice(
            conn, tenant_id=tenant_id, payment_id=invoice.asaas_payment_id, step=step, sent_to=sub.shop_email
        ):
            return False
        subject, body = rules.notice_text(
            step,
            shop=sub.shop_name,
            value=brl(invoice.value_cents),
            due=invoice.due_date,
            invoice_url=invoice.invoice_url,
            grace_days=sub.grace_days,
            days_late=(self._today() - invoice.due_date).days,
        )
        self._mailer.send(sub.shop_email, subject, body)
        return True

    def _flush(self) -> None:
        """After commit: publish the unit of work's events (the relay catches what this misses)."""
        events, self._events = self._events, []
        if self._relay is not None and events:
            self._relay.flush_quietly(events)

    # --- the platform webhook -------------------------------------------------------------------
    def receive_platform(self, token: str | None, body: str) -> bool:
        """Store one delivery of the platform account's webhook; True when new. A wrong token is a
        401 and stores nothing; a body that is no Asaas event, a 422."""
        configured = self._platform().webhook_token
        expected = hashlib.sha256(configured.encode()).digest()
        presented = hashlib.sha256((token or "").encode()).digest()
        if not (hmac.compare_digest(presented, expected) and token and configured):
            raise UnauthorizedError("Token de webhook inválido.")
        delivery = parse_delivery(body)
        with self._db.transaction() as conn:
            new = bill_db.add_platform_event(
                conn,
                event_id=delivery.event_id,
                event=delivery.event,
                payment_id=delivery.payment_id,
                payload=body,
            )
        if new and self._queue is not None:
            try:
                self._queue.send_platform(delivery.event_id)
            except Exception:  # stored: the sweeper enqueues it again
                logger.exception("could not enqueue a platform webhook; the sweeper will")
        return new

    def apply_platform_event(self, event_id: str) -> str:
        """Apply one stored platform event; its outcome. Raises to have the message retried."""
        with self._db.transaction() as conn:
            item = bill_db.take_platform_event(conn, event_id)
            if item is None:
                return "unknown_event_id"
            if item.processed_at is not None:
                return "already_processed"
            payment = item.payload.get("payment") if isinstance(item.payload.get("payment"), dict) else {}
            subscription_id = (payment or {}).get("subscription")
            tenant_id = None
            if subscription_id:
                bill_db.as_billing(conn)
                tenant_id = bill_db.tenant_of_subscription(conn, str(subscription_id))
        if tenant_id is None or not payment:
            outcome = "ignored_not_a_subscription" if not subscription_id else "ignored_unknown_subscription"
        else:
            outcome = self._apply_payment(tenant_id, str(payment["id"]), item.event)
        with self._db.transaction() as conn:
            bill_db.finish_platform_event(conn, event_id, outcome)
        return outcome

    def _apply_payment(self, tenant_id: UUID, payment_id: str, event: str) -> str:
        client = self.client()
        try:
            payment = client.get_payment(payment_id)  # Asaas as it is now, never the payload
        except AsaasError as exc:
            if exc.status != 404:
                raise
            payment = None
        with self._db.tenant_tx(tenant_id) as conn:
            sub = bill_db.subscription(conn, lock=True)
            assert sub is not None
            if payment is None or payment.get("deleted"):
                if payment is None:
                    return "payment_gone"
                payment = {**payment, "deleted": True}
            self._store_invoice(conn, tenant_id, payment)
            if event in ("PAYMENT_RECEIVED", "PAYMENT_CONFIRMED", "PAYMENT_CREATED", "PAYMENT_RESTORED"):
                # A payment moves the subscription's next due date; a new cycle shows it too.
                assert sub.asaas_subscription_id is not None
                next_due = _next_due(conn, client.get_subscription(sub.asaas_subscription_id))
                if next_due != sub.next_due_date:
                    bill_db.update_subscription(conn, next_due_date=next_due)
            before, after = self._refresh(conn, tenant_id)
            if before in ("past_due", "suspended") and after in ("active", "trial"):
                paid = [i for i in bill_db.invoices(conn) if i.asaas_payment_id == payment_id]
                if paid:
                    self._notify(conn, tenant_id, "reactivated", paid[0])
        self._flush()
        return f"{before}->{after}" if before != after else "no_change"

    # --- the daily run --------------------------------------------------------------------------
    def dunning(self, *, page: int = 200, only: list[UUID] | None = None) -> DunningReport:
        report = DunningReport()
        after: UUID | None = None
        while True:
            if only is not None:
                shops, only = only, []
            else:
                with self._db.transaction() as conn:
                    bill_db.as_billing(conn)
                    shops = bill_db.shops_to_visit(conn, after=after, limit=page)
            if not shops:
                break
            for tenant_id in shops:
                report.shops += 1
                try:
                    self._dun(tenant_id, report)
                except Exception:
                    report.errors += 1
                    logger.exception("dunning failed for a shop", extra={"shop": str(tenant_id)})
            after = shops[-1]
        logger.info("dunning", extra=asdict(report))
        return report

    def _dun(self, tenant_id: UUID, report: DunningReport) -> None:
        with self._db.tenant_tx(tenant_id) as conn:
            sub = bill_db.subscription(conn)
        if sub is None:
            return
        if sub.asaas_subscription_id is None and sub.cancelled_at is None:
            if self.provision(tenant_id) == "provisioned":
                report.provisioned += 1
            return
        today = self._today()
        with self._db.tenant_tx(tenant_id) as conn:
            sub = bill_db.subscription(conn, lock=True)
            assert sub is not None
            open_invoices = bill_db.open_invoices(conn)
            # Ask Asaas only where a lost webhook would matter: something late, or no invoice
            # for a cycle that has started.
            late = any(i.due_date < today for i in open_invoices)
            cycle_started = not open_invoices and (sub.next_due_date is None or sub.next_due_date <= today)
            stale = late or cycle_started or sub.billing_status in ("past_due", "suspended")
            if stale and sub.asaas_subscription_id is not None and sub.cancelled_at is None:
                self._sync(conn, tenant_id, self.client())
                report.synced += 1
            before, after = self._refresh(conn, tenant_id)
            if after == "suspended" and before != "suspended":
                report.suspended += 1
            if before in ("past_due", "suspended") and after in ("active", "trial"):
                report.reactivated += 1
            if after == "past_due":
                report.past_due += 1
            for invoice in bill_db.open_invoices(conn) if after != "cancelled" else []:
                days_late = (today - invoice.due_date).days
                step = rules.notice_due(
                    days_late, bill_db.notices_sent(conn, invoice.asaas_payment_id), grace_days=sub.grace_days
                )
                if step == "suspended" and after != "suspended":
                    step = None
                if step is not None and self._notify(conn, tenant_id, step, invoice):
                    report.notices += 1
                break  # the oldest late invoice speaks for the shop: one e-mail a day at most
        self._flush()

    # --- the shop's view -------------------------------------------------------------------------
    def overview(self, identity: Identity) -> dict[str, Any]:
        require(identity, Permission.BILLING_MANAGE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            sub = bill_db.subscription(conn)
            if sub is None:
                raise NotFoundError("Esta loja não tem assinatura.")
            plan = bill_db.plan(conn, sub.plan_code)
            invoices = bill_db.invoices(conn)
        return {
            "status": sub.billing_status,
            "status_label": rules.LABELS_PT[sub.billing_status],
            "plan": {
                "code": sub.plan_code,
                "name": plan.name if plan else sub.plan_code,
                "price_cents": sub.price_cents,
            },
            "trial_ends_on": sub.trial_ends_on,
            "next_due_date": sub.next_due_date,
            "past_due_since": sub.past_due_since,
            "suspended_at": sub.suspended_at,
            "grace_days": sub.grace_days,
            "provisioned": sub.asaas_subscription_id is not None,
            "cancel_on": sub.cancel_on,
            "version": sub.version,
            "invoices": [
                {
                    "id": i.asaas_payment_id,
                    "due_date": i.due_date,
                    "value_cents": i.value_cents,
                    "status": i.status,
                    "invoice_url": i.invoice_url,
                    "paid_on": i.paid_on,
                }
                for i in invoices
            ],
        }

    def plans(self) -> list[bill_db.PlanRow]:
        with self._db.transaction() as conn:
            return bill_db.plans(conn)

    def change_plan(
        self, identity: Identity, plan_code: str, *, version: int, correlation_id: str | None
    ) -> None:
        """Move the shop to another plan: the Asaas subscription's value changes (open invoices
        too), then ours. Only a shop in good standing changes plan."""
        require(identity, Permission.BILLING_MANAGE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            sub = _locked_subscription(conn, version)
            plan = bill_db.plan(conn, plan_code)
            if plan is None:
                raise ValidationFailedError(
                    "Plano desconhecido.", details=[{"field": "plan", "message": "plano inexistente"}]
                )
            if sub.cancelled_at is not None:
                raise ConflictError("A assinatura foi cancelada: não é possível trocar de plano.")
            if plan.code == sub.plan_code:
                return
            if sub.billing_status not in ("trial", "active"):
                raise ConflictError("Pague a fatura em aberto antes de trocar de plano.")
            if sub.asaas_subscription_id is not None:
                try:
                    self.client().update_subscription(
                        sub.asaas_subscription_id,
                        {
                            "value": plan.price_cents / 100,
                            "description": f"Assinatura assistec: plano {plan.name}",
                            "updatePendingPayments": True,
                        },
                    )
                    self._sync(conn, identity.tenant_id, self.client())
                except AsaasError as exc:
                    raise BillingUnavailableError(details={"status": exc.status}) from exc
            bill_db.update_subscription(conn, plan_code=plan.code)
            audit.record(
                conn,
                identity,
                action="plan_changed",
                entity="tenant",
                entity_id=str(identity.tenant_id),
                changes={"plan": {"from": sub.plan_code, "to": plan.code}},
                correlation_id=correlation_id,
            )

    def cancel(self, identity: Identity, *, version: int, correlation_id: str | None) -> None:
        """The owner cancels the subscription: no more invoices (the Asaas subscription is deleted);
        a shop in good standing keeps its access until the end of what it paid for (the next due
        date, or the trial's end), a shop in arrears loses it now. Data is kept; support reopens."""
        if identity.role is not Role.OWNER:
            raise ForbiddenError("Só o dono da loja pode cancelar a assinatura.")
        today = self._today()
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            sub = _locked_subscription(conn, version)
            if sub.cancelled_at is not None:
                raise ConflictError(
                    "A assinatura já foi cancelada.",
                    details={"cancel_on": sub.cancel_on.isoformat() if sub.cancel_on else None},
                )
            if sub.asaas_subscription_id is not None:
                client = self.client()
                try:
                    client.delete_subscription(sub.asaas_subscription_id)
                except AsaasError as exc:
                    if exc.status != 404:  # already gone at Asaas: nothing left to stop
                        raise BillingUnavailableError(details={"status": exc.status}) from exc
                self._sync(conn, identity.tenant_id, client)
            if sub.billing_status in ("trial", "active"):
                cancel_on = max(sub.next_due_date or sub.trial_ends_on, today)
            else:
                cancel_on = today
            bill_db.update_subscription(conn, cancelled_at=datetime.now(PLATFORM_TZ), cancel_on=cancel_on)
            audit.record(
                conn,
                identity,
                action="subscription_cancelled",
                entity="tenant",
                entity_id=str(identity.tenant_id),
                changes={"cancel_on": cancel_on.isoformat()},
                correlation_id=correlation_id,
            )
            self._refresh(conn, identity.tenant_id)
        self._flush()


def _locked_subscription(conn: Conn, version: int) -> bill_db.SubscriptionRow:
    """The shop's subscription, locked, at the version the caller read (409 otherwise)."""
    sub = bill_db.subscription(conn, lock=True)
    if sub is None:
        raise NotFoundError("Esta loja não tem assinatura.")
    if sub.version != version:
        raise ConflictError(
            "A assinatura foi alterada por outra pessoa. Recarregue e tente de novo.",
            details={"current_version": sub.version},
        )
    return sub


def _next_due(conn: Conn, remote: dict[str, Any]) -> date | None:
    """The next date the shop has to pay by: its oldest unpaid invoice, else the subscription's next
    cycle."""
    unpaid = bill_db.open_invoices(conn)
    if unpaid:
        return unpaid[0].due_date
    if remote.get("deleted"):
        return None  # cancelled: nothing more to pay
    value = remote.get("nextDueDate")
    return date.fromisoformat(str(value)) if value else None


def sweep_platform(db: Database, queue: PlatformQueue, *, older_than_s: int = 120, limit: int = 500) -> int:
    """Enqueue again stored platform deliveries never applied (a lost queue message)."""
    with db.transaction() as conn:
        stale = bill_db.stale_platform_events(conn, older_than_s=older_than_s, limit=limit)
    for event_id in stale:
        queue.send_platform(event_id)
    return len(stale)
