"""The shops' Asaas webhooks: stored once per event id at ingress, applied once by the consumer.

Deliveries come duplicated and out of order; every state change is confirmed with Asaas before it
is applied, and an event already applied is never applied again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from assistec.db import payments as pay_db
from assistec.db.connection import Database
from assistec.db.rows import ChargeRow
from assistec.domain import payments as payment_rules
from assistec.errors import UnauthorizedError, ValidationFailedError
from assistec.integrations.asaas import AsaasError
from assistec.integrations.queue import EventQueue
from assistec.observability import logger
from assistec.services.audit import PublicActor
from assistec.services.payments.charges import PaymentsService
from assistec.services.payments.state import Resume, apply_state, resume_flow
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

_ACCOUNT_TTL_S = 60.0
_MAX_ACCOUNTS = 10_000


@dataclass(frozen=True, slots=True)
class Delivery:
    event_id: str
    event: str
    payment_id: str | None


def parse_delivery(body: str) -> Delivery:
    """The parts of an Asaas webhook body the inboxes key on; 422 for a body that is no event."""
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("event"), str):
        raise ValidationFailedError("O corpo não é um evento do Asaas (event é obrigatório).")
    event_id = envelope.get("id")
    if not isinstance(event_id, str) or not event_id:
        # Every Asaas delivery carries an id; without one the body itself is the key, so an
        # identical redelivery still counts once.
        event_id = "sha256:" + hashlib.sha256(body.encode()).hexdigest()
    payment = envelope.get("payment") if isinstance(envelope.get("payment"), dict) else None
    return Delivery(
        event_id=event_id[:200],
        event=str(envelope["event"])[:100],
        payment_id=str(payment["id"]) if payment and payment.get("id") else None,
    )


def _asaas(tenant_id: UUID) -> PublicActor:
    """Who acts when a webhook moves a charge (the audit log shows no user)."""
    return PublicActor(tenant_id=tenant_id, label="Asaas")


class WebhookInbox:
    """Ingress (``receive``: store once, enqueue, answer fast) and the consumer's ``apply``.

    ``queue`` is None in the consumer, which only applies; ``resume`` hands a waiting payment
    flow its token back once its charge is paid."""

    def __init__(
        self,
        work: UnitsOfWork,
        queue: EventQueue | None,
        payments: Callable[[], PaymentsService],
        resume: Resume | None = None,
    ) -> None:
        self._work = work
        self._queue = queue
        self._payments = payments
        self._resume = resume
        self._accounts: dict[str, tuple[bytes | None, float]] = {}

    def _token_hash(self, tenant_id: UUID, webhook_key: str) -> bytes | None:
        """The shop's webhook token hash, remembered for a minute: deliveries come in bursts, and
        the lookup would be a third of the ingress's database work. A reconnected account has a
        new URL key, so a stale entry only answers for a URL that is being retired."""
        now = time.monotonic()
        cached = self._accounts.get(webhook_key)
        if cached is not None and now - cached[1] < _ACCOUNT_TTL_S:
            return cached[0]
        with self._work(_asaas(tenant_id)) as uow:
            stored = pay_db.webhook_account(uow.conn, webhook_key)
        token_hash = stored[0] if stored else None
        if len(self._accounts) > _MAX_ACCOUNTS:
            self._accounts.clear()
        self._accounts[webhook_key] = (token_hash, now)
        return token_hash

    def receive(self, webhook_key: str, token: str | None, body: str) -> bool:
        """Store one delivery, once per event id, and enqueue it for the consumer; True when new.

        401 for an unknown URL key or a wrong token (checked in constant time, the same work
        whether the URL exists or not) and 422 for a body that is no Asaas event: both store
        nothing. A queue that refuses is logged, not failed: the event is stored, and the sweep
        (``sweep``) enqueues it again."""
        if self._queue is None:
            raise RuntimeError("this inbox only applies stored events (it has no queue)")
        tenant_part, _, rest = webhook_key.partition(".")
        try:
            tenant_id: UUID | None = UUID(tenant_part)
        except ValueError:
            tenant_id = None
        presented = hashlib.sha256((token or "").encode()).digest()
        expected = self._token_hash(tenant_id, webhook_key) if tenant_id is not None and rest else None
        # Constant-time, and the same work whether the URL exists or not.
        matches = hmac.compare_digest(presented, expected or hashlib.sha256(b"\x00" + presented).digest())
        if not (matches and expected is not None and token):
            raise UnauthorizedError("Token de webhook inválido.")
        assert tenant_id is not None
        delivery = parse_delivery(body)
        with self._work(_asaas(tenant_id)) as uow:
            new = pay_db.add_to_inbox(
                uow.conn,
                tenant_id=tenant_id,
                event_id=delivery.event_id,
                event=delivery.event,
                payment_id=delivery.payment_id,
                payload=body,
            )
        if new:
            try:
                self._queue.send(tenant_id, delivery.event_id)
            except Exception:  # stored: the sweeper enqueues it again
                logger.exception("could not enqueue a stored webhook; the sweeper will")
        return new

    def apply(self, tenant_id: UUID, event_id: str) -> str:
        """Apply one stored event, once, and return its outcome (``applied``, ``no_change``,
        ``ignored_*``, ``already_processed``, ``unknown_event_id``). The charge's change, its audit
        row and event, and the event marked processed commit together; the event is published and
        a waiting flow resumed after the commit. Raises (Asaas unreachable) to have it retried."""
        with self._work(_asaas(tenant_id)) as uow:
            item = pay_db.take_from_inbox(uow.conn, event_id)
            if item is None:
                return "unknown_event_id"
            if item.processed_at is not None:
                return "already_processed"
            outcome, charge = self._apply(uow, item.event, item.payload)
            pay_db.finish(uow.conn, event_id, outcome)
        if charge is not None:
            resume_flow(charge, self._resume)
        return outcome

    def _apply(self, uow: UnitOfWork, event: str, payload: dict[str, Any]) -> tuple[str, ChargeRow | None]:
        if event not in payment_rules.KNOWN_EVENTS:
            return "ignored_event_type", None
        payment = payload.get("payment") or {}
        charge = (
            pay_db.charge_by_payment(uow.conn, str(payment.get("id")), lock=True)
            if payment.get("id")
            else None
        )
        if charge is None:
            # Not a charge of this shop (or made outside assistec): nothing of ours to move.
            return "ignored_unknown_payment", None
        candidate = payment_rules.state_of(payment)
        if event == "PAYMENT_DELETED":
            candidate = "cancelled"
        if candidate != charge.status:
            # Deliveries come duplicated and out of order: before any change (money moving above
            # all), ask Asaas for the payment as it is now, and trust that over the payload.
            account = pay_db.get_account(uow.conn)
            assert account is not None
            client = self._payments().client_for(uow.tenant_id, account)
            try:
                payment = client.get_payment(str(payment["id"]))
            except AsaasError as exc:
                if exc.status != 404:
                    raise  # Asaas unreachable: the message comes back and is tried again
                payment = {**payment, "deleted": True}  # gone from Asaas: cancelled there
            candidate = payment_rules.state_of(payment)
        updated, changed = apply_state(
            uow, charge, candidate, asaas_status=str(payment.get("status")), payment=payment
        )
        return ("applied" if changed else "no_change"), updated


def sweep(db: Database, queue: EventQueue, *, older_than_s: int = 120, limit: int = 500) -> int:
    """Enqueue again, across every shop, what was stored but never applied (a lost queue message);
    return how many. A delivery swept ten times is left to people (the DLQ alarm's business)."""
    with db.transaction() as conn:
        pay_db.as_sweeper(conn)
        stale = pay_db.stale(conn, older_than_s=older_than_s, limit=limit)
    for tenant_id, event_id in stale:
        queue.send(tenant_id, event_id)
    return len(stale)
