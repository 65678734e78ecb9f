"""The platform account's Asaas webhook (the shops' subscriptions): each delivery is stored in its own
inbox and queued; the consumer applies it after re-reading the payment from Asaas."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from assistec.db import billing as bill_db
from assistec.errors import UnauthorizedError
from assistec.integrations.asaas import AsaasError
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.billing.common import PlatformAsaas, calendar
from assistec.services.billing.invoices import store_invoice, store_next_due
from assistec.services.billing.standing import Notices, refresh_status
from assistec.services.payments.inbox import parse_delivery

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.services.unit_of_work import UnitsOfWork

# Events after which the subscription's next due date may have moved (a payment, a new cycle).
_MOVES_NEXT_DUE = ("PAYMENT_RECEIVED", "PAYMENT_CONFIRMED", "PAYMENT_CREATED", "PAYMENT_RESTORED")


class PlatformQueue(Protocol):
    def send_platform(self, event_id: str) -> None: ...


class PlatformWebhook:
    """Receives the platform account's webhook and applies its events. A delivery is stored once
    (Asaas's retries are no-ops) and applied once; the payload is never trusted: the payment is
    re-read from Asaas before the shop's invoice and status move."""

    def __init__(
        self,
        work: UnitsOfWork,
        platform: PlatformAsaas,
        notices: Notices,
        *,
        queue: PlatformQueue | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._work = work
        self._platform = platform
        self._notices = notices
        self._queue = queue
        self._today = calendar(today)

    def receive(self, token: str | None, body: str) -> bool:
        """Store one delivery and queue it; True when new. A wrong token is a 401 and a body that is
        no Asaas event a 422, both storing nothing. Once stored, a queue failure is only logged (the
        sweeper enqueues it again)."""
        configured = self._platform.account().webhook_token
        expected = hashlib.sha256(configured.encode()).digest()
        presented = hashlib.sha256((token or "").encode()).digest()
        if not (hmac.compare_digest(presented, expected) and token and configured):
            raise UnauthorizedError("Token de webhook inválido.")
        delivery = parse_delivery(body)
        with self._work.db.transaction() as conn:
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

    def apply(self, event_id: str) -> str:
        """Apply one stored event and mark it processed; its outcome (``already_processed`` the second
        time, ``ignored_...`` for a payment of no subscription of ours, ``before->after`` or
        ``no_change`` for the shop's status). Raises to have the message retried, nothing marked."""
        with self._work.db.transaction() as conn:
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
        with self._work.db.transaction() as conn:
            bill_db.finish_platform_event(conn, event_id, outcome)
        return outcome

    def _apply_payment(self, tenant_id: UUID, payment_id: str, event: str) -> str:
        """Asaas's payment as it is now, onto the shop's invoice, next due date and status; the
        owner is told when a payment brings the shop back."""
        client = self._platform.client()
        payment: dict[str, Any] | None
        try:
            payment = client.get_payment(payment_id)  # Asaas as it is now, never the payload
        except AsaasError as exc:
            if exc.status != 404:
                raise
            payment = None
        remote_subscription: dict[str, Any] | None = None
        if payment is not None and event in _MOVES_NEXT_DUE:
            # Asaas is asked before the shop's row is locked, never while (no lock across the network)
            with self._work(SystemActor(tenant_id)) as uow:
                known = bill_db.subscription(uow.conn)
            assert known is not None
            assert known.asaas_subscription_id is not None
            remote_subscription = client.get_subscription(known.asaas_subscription_id)
        with self._work(SystemActor(tenant_id)) as uow:
            sub = bill_db.subscription(uow.conn, lock=True)
            assert sub is not None
            if payment is None:
                return "payment_gone"
            store_invoice(uow, payment)  # a deleted payment too: its invoice is no longer owed
            if remote_subscription is not None:
                store_next_due(uow, remote_subscription, current=sub.next_due_date)
            today = self._today()
            before, after = refresh_status(uow, today=today)
            if before in ("past_due", "suspended") and after in ("active", "trial"):
                paid = [i for i in bill_db.invoices(uow.conn) if i.asaas_payment_id == payment_id]
                if paid:
                    self._notices.send(uow, "reactivated", paid[0], today=today)
        return f"{before}->{after}" if before != after else "no_change"


def sweep_platform(db: Database, queue: PlatformQueue, *, older_than_s: int = 120, limit: int = 500) -> int:
    """Enqueue again the stored deliveries never applied (a lost queue message); how many."""
    with db.transaction() as conn:
        stale = bill_db.stale_platform_events(conn, older_than_s=older_than_s, limit=limit)
    for event_id in stale:
        queue.send_platform(event_id)
    return len(stale)
