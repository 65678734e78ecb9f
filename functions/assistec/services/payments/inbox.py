"""The shops' Asaas webhooks: stored once per event id at ingress, applied once by the consumer.

Deliveries come duplicated and out of order; every state change is confirmed with Asaas before it
is applied, and an event already applied is never applied again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from assistec.db import payments as pay_db
from assistec.db.connection import Database
from assistec.db.rows import ChargeRow, InboxRow, PaymentAccountRow
from assistec.domain import payments as payment_rules
from assistec.errors import ConflictError, UnauthorizedError, ValidationFailedError
from assistec.integrations.asaas import AsaasError
from assistec.integrations.queue import EventQueue
from assistec.observability import logger
from assistec.services.audit import PublicActor
from assistec.services.payments.charges import PaymentsService
from assistec.services.payments.state import Resume, apply_state, resume_flow
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

_VERSION_TRIES = 3  # a charge moving under the consumer this often is left to the queue's retry


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


def _check_token(presented: bytes, expected: bytes | None, token: str | None) -> None:
    """401 unless ``presented`` (the hash of the token sent) is the account's; constant-time, and
    the same work whether the URL exists or not."""
    matches = hmac.compare_digest(presented, expected or hashlib.sha256(b"\x00" + presented).digest())
    if not (matches and expected is not None and token):
        raise UnauthorizedError("Token de webhook inválido.")


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

    def receive(self, webhook_key: str, token: str | None, body: str) -> bool:
        """Store one delivery, once per event id, and enqueue it for the consumer; True when new.

        401 for an unknown URL key or a wrong token (compared as SHA-256 digests, the same work
        whether the URL exists or not) and 422 for a body that is no Asaas event: both store
        nothing. The token is checked by the statement that stores the delivery, against the
        account as committed (nothing remembered between deliveries, no extra round trip): from a
        reconnection's commit on, the old URL and token are refused. A queue that refuses is
        logged, not failed: the event is stored, and the sweep (``sweep``) enqueues it again."""
        if self._queue is None:
            raise RuntimeError("this inbox only applies stored events (it has no queue)")
        tenant_part, _, rest = webhook_key.partition(".")
        try:
            tenant_id: UUID | None = UUID(tenant_part)
        except ValueError:
            tenant_id = None
        presented = hashlib.sha256((token or "").encode()).digest()
        if tenant_id is None or not rest:
            _check_token(presented, None, token)  # refuses, after the same comparison
        assert tenant_id is not None
        try:
            delivery: Delivery | None = parse_delivery(body)
        except ValidationFailedError as exc:
            delivery, not_an_event = None, exc
        with self._work(_asaas(tenant_id)) as uow:
            if delivery is None:
                # No event in the body: the token still answers first (401 before 422).
                stored = pay_db.webhook_account(uow.conn, webhook_key)
                _check_token(presented, stored[0] if stored else None, token)
                raise not_an_event
            # The token checked and the delivery stored in one statement, against the account as
            # committed: nothing remembered between deliveries.
            authorized, new = pay_db.add_to_inbox_if_authorized(
                uow.conn,
                webhook_key=webhook_key,
                token_hash=presented,
                tenant_id=tenant_id,
                event_id=delivery.event_id,
                event=delivery.event,
                payment_id=delivery.payment_id,
                payload=body,
            )
            if not (authorized and token):
                raise UnauthorizedError("Token de webhook inválido.")
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
        a waiting flow resumed after the commit. Raises (Asaas unreachable) to have it retried.

        No transaction is open and no row locked while Asaas is asked: the event and its charge
        are read (an event that needs no confirmation is applied right there), the transaction
        ends, Asaas is called, then the change is written in a short transaction that locks the
        event and the charge and checks the charge's version is the one read (a charge that moved
        in between is read and confirmed again, a few times, then left to the queue's retry)."""
        actor = _asaas(tenant_id)
        for _ in range(_VERSION_TRIES):
            # 1. Read, locked only while read: when Asaas need not be asked (nothing of ours to move,
            # or the payload agrees with the charge) the outcome is written in this same short
            # transaction; otherwise it ends here, with nothing written.
            with self._work(actor) as uow:
                item = pay_db.take_from_inbox(uow.conn, event_id)
                if item is None:
                    return "unknown_event_id"
                if item.processed_at is not None:
                    return "already_processed"
                charge, candidate, payment = self._read(uow, item.event, item.payload)
                account = None
                if charge is None or candidate is not None:
                    outcome, updated = self._write(uow, event_id, item, charge, candidate, payment)
                else:
                    account = pay_db.get_account(uow.conn)
                    if account is None:
                        raise RuntimeError("a charge with no Asaas account: left to the DLQ and to people")
            if account is not None:
                assert charge is not None
                # 2. Call: Asaas, with no transaction open, when money may move.
                payment = self._confirm(tenant_id, account, payment)
                candidate = payment_rules.state_of(payment)
                # 3. Write: a short transaction, the event and the charge locked, the version checked.
                with self._work(actor) as uow:
                    item = pay_db.take_from_inbox(uow.conn, event_id)
                    if item is None:
                        return "unknown_event_id"
                    if item.processed_at is not None:
                        return "already_processed"  # another consumer applied it meanwhile
                    current = pay_db.get_charge(uow.conn, charge.id, lock=True)
                    if current is None or current.version != charge.version:
                        continue  # moved since it was read: read and confirm again
                    outcome, updated = self._write(uow, event_id, item, current, candidate, payment)
            if updated is not None:
                resume_flow(updated, self._resume)
            return outcome
        raise ConflictError("A cobrança mudou enquanto o evento era aplicado; tente novamente.")

    @staticmethod
    def _write(
        uow: UnitOfWork,
        event_id: str,
        item: InboxRow,
        charge: ChargeRow | None,
        state: str | None,
        payment: dict[str, Any],
    ) -> tuple[str, ChargeRow | None]:
        """The event's outcome, with the locked charge moved to ``state``, and the event marked
        processed (inside the unit of work that holds the event's row)."""
        if charge is None or state is None:
            # Not a charge of this shop (or made outside assistec), or no payment event.
            known = item.event in payment_rules.KNOWN_EVENTS
            outcome, updated = ("ignored_unknown_payment" if known else "ignored_event_type"), None
        else:
            updated, changed = apply_state(
                uow, charge, state, asaas_status=str(payment.get("status")), payment=payment
            )
            outcome = "applied" if changed else "no_change"
        pay_db.finish(uow.conn, event_id, outcome)
        return outcome, updated

    def _read(
        self, uow: UnitOfWork, event: str, payload: dict[str, Any]
    ) -> tuple[ChargeRow | None, str | None, dict[str, Any]]:
        """The event's charge, locked until the read's transaction ends (None: nothing of ours to
        move), the state it moves to (None: ask Asaas first) and the payment as known so far."""
        payment = payload.get("payment") or {}
        if event not in payment_rules.KNOWN_EVENTS or not payment.get("id"):
            return None, None, payment
        charge = pay_db.charge_by_payment(uow.conn, str(payment["id"]), lock=True)
        if charge is None:
            # Not a charge of this shop (or made outside assistec): nothing of ours to move.
            return None, None, payment
        candidate = "cancelled" if event == "PAYMENT_DELETED" else payment_rules.state_of(payment)
        # Deliveries come duplicated and out of order: before any change (money moving above all),
        # ask Asaas for the payment as it is now, and trust that over the payload.
        return charge, (candidate if candidate == charge.status else None), payment

    def _confirm(
        self, tenant_id: UUID, account: PaymentAccountRow, payment: dict[str, Any]
    ) -> dict[str, Any]:
        """The payment as Asaas has it now (no transaction open: this is the network call)."""
        client = self._payments().client_for(tenant_id, account)
        try:
            return dict(client.get_payment(str(payment["id"])))
        except AsaasError as exc:
            if exc.status != 404:
                raise  # Asaas unreachable: the message comes back and is tried again
            return {**payment, "deleted": True}  # gone from Asaas: cancelled there


def sweep(db: Database, queue: EventQueue, *, older_than_s: int = 120, limit: int = 500) -> int:
    """Enqueue again, across every shop, what was stored but never applied (a lost queue message);
    return how many. A delivery swept ten times is left to people (the DLQ alarm's business)."""
    with db.transaction() as conn:
        stale = pay_db.stale(conn, older_than_s=older_than_s, limit=limit)
    for tenant_id, event_id in stale:
        queue.send(tenant_id, event_id)
    return len(stale)
