"""Charges for orders through the shop's own Asaas account, and the webhooks that settle them.

Money rules: one open charge per order at a time (a double click gets the open one back, not a
second charge); each charge has an external reference Asaas keeps, looked up before creating, so a
retry after a lost answer finds the first try; a webhook is stored once per event id and applied
once; every state change is confirmed with Asaas before it is applied; what an order has
received is recomputed from its paid charges, never incremented.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from assistec.db import events as events_db
from assistec.db import orders as orders_db
from assistec.db import payments as pay_db
from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.db.rows import ChargeRow, PaymentAccountRow
from assistec.domain import payments as rules
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import AppError, ConflictError, NotFoundError, UnauthorizedError, ValidationFailedError
from assistec.integrations.asaas import AsaasClient, AsaasError
from assistec.integrations.events import OutboxRelay
from assistec.integrations.kms import Cipher
from assistec.integrations.queue import EventQueue
from assistec.observability import logger
from assistec.services import audit
from assistec.services.access import require
from assistec.services.audit import Actor, PublicActor

AsaasFactory = Callable[[str, str], AsaasClient]  # (environment, api key) -> client
_OPEN = ("pending", "overdue")
_ACCOUNT_TTL_S = 60.0


class PaymentProviderError(AppError):
    status = 502
    code = "payment_provider_error"
    message = "O Asaas recusou ou não respondeu. Nada foi cobrado; tente novamente em instantes."


class NoPaymentAccountError(AppError):
    status = 409
    code = "payment_account_missing"
    message = "Conecte a conta Asaas da loja em /settings/payments antes de cobrar."


def _context(tenant_id: UUID) -> dict[str, str]:
    return {"tenant_id": str(tenant_id), "purpose": "asaas-api-key"}


def _provider_error(exc: AsaasError) -> AppError:
    if 400 <= exc.status < 500 and exc.status != 429:
        description = "; ".join(e.get("description", "") for e in exc.errors if e.get("description"))
        return ValidationFailedError(
            f"O Asaas recusou a cobrança: {description or 'dados inválidos'}.",
            details=[
                {"field": "asaas", "message": e.get("description", ""), "code": e.get("code", "")}
                for e in exc.errors
            ],
        )
    return PaymentProviderError(details={"status": exc.status})


class PaymentsService:
    def __init__(self, db: Database, cipher: Cipher, relay: OutboxRelay, asaas: AsaasFactory) -> None:
        self._db = db
        self._cipher = cipher
        self._relay = relay
        self._asaas = asaas
        self._clients: dict[tuple[UUID, int], AsaasClient] = {}

    # --- the shop's account --------------------------------------------------------------------
    def connect(
        self,
        identity: Identity,
        *,
        api_key: str,
        environment: str,
        webhook_base: str,
        correlation_id: str | None,
    ) -> tuple[PaymentAccountRow, str, str]:
        """Store the shop's key (encrypted) and register our webhook in its Asaas account; return
        the account, the webhook URL and the token Asaas will send (shown once)."""
        require(identity, Permission.SETTINGS_WRITE)
        webhook_key = f"{identity.tenant_id}.{secrets.token_urlsafe(24)}"
        token = secrets.token_urlsafe(32)
        url = f"{webhook_base}/webhooks/asaas/{webhook_key}"
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            tenant = repo.get_tenant(conn, identity.tenant_id)
        assert tenant is not None
        client = self._asaas(environment, api_key)
        try:
            client.create_webhook(
                {
                    "name": "assistec",
                    "url": url,
                    "email": tenant.email,
                    "enabled": True,
                    "interrupted": False,
                    "apiVersion": 3,
                    "authToken": token,
                    "sendType": "SEQUENTIALLY",
                    "events": sorted(rules.KNOWN_EVENTS),
                }
            )
        except AsaasError as exc:
            if exc.status == 401:
                raise ValidationFailedError(
                    "O Asaas não aceitou esta chave de API (ambiente certo?).",
                    details=[{"field": "api_key", "message": "chave recusada pelo Asaas"}],
                ) from exc
            raise _provider_error(exc) from exc
        finally:
            client.close()
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            account = pay_db.save_account(
                conn,
                tenant_id=identity.tenant_id,
                environment=environment,
                api_key_ciphertext=self._cipher.encrypt(api_key, _context(identity.tenant_id)),
                webhook_key=webhook_key,
                webhook_token_hash=hashlib.sha256(token.encode()).digest(),
            )
            audit.record(
                conn,
                identity,
                action="connect",
                entity="payment_account",
                entity_id=str(identity.tenant_id),
                changes={"environment": environment, "webhook_url": url},
                correlation_id=correlation_id,
            )
        return account, url, token

    def account(self, identity: Identity) -> PaymentAccountRow | None:
        require(identity, Permission.SETTINGS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return pay_db.get_account(conn)

    def client_for(self, tenant_id: UUID, account: PaymentAccountRow) -> AsaasClient:
        """The shop's Asaas client, kept per execution environment: one KMS decrypt and one
        connection pool per account version, not per call (a reconnected account is a new version)."""
        key = (tenant_id, account.version)
        client = self._clients.get(key)
        if client is None:
            if len(self._clients) >= 256:
                for stale in self._clients.values():
                    stale.close()
                self._clients.clear()
            api_key = self._cipher.decrypt(bytes(account.api_key_ciphertext), _context(tenant_id))
            client = self._clients[key] = self._asaas(account.environment, api_key)
        return client

    # --- charges -------------------------------------------------------------------------------
    def create_charge(
        self,
        identity: Identity,
        order_id: UUID,
        *,
        billing_type: str,
        value_cents: int | None,
        due_date: date | None,
        correlation_id: str | None,
    ) -> ChargeRow:
        require(identity, Permission.ORDERS_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            order = orders_db.get(conn, order_id, lock=True)
            if order is None:
                raise NotFoundError("Ordem de serviço não encontrada.")
            account = pay_db.get_account(conn)
            if account is None:
                raise NoPaymentAccountError
            charges = pay_db.charges_of(conn, order_id)
            unfinished = [c for c in charges if c.asaas_payment_id is None and c.status == "pending"]
            open_ = [c for c in charges if c.asaas_payment_id is not None and c.status in _OPEN]
            if open_:
                raise ConflictError(
                    "Esta OS já tem uma cobrança em aberto. Cancele-a para gerar outra.",
                    details={"charge_id": str(open_[0].id), "status": open_[0].status},
                )
            if unfinished:
                charge = unfinished[0]  # a try whose answer was lost: finish it, same reference
            else:
                total = pay_db.approved_total(conn, order_id)
                amount = value_cents or ((total or 0) - order.paid_cents)
                if amount <= 0:
                    raise ValidationFailedError(
                        "Nada a cobrar: informe o valor (a OS não tem orçamento aprovado em aberto).",
                        details=[{"field": "value_cents", "message": "valor ausente ou zero"}],
                    )
                today = orders_db.local_today(conn)
                due = due_date or today + timedelta(days=3 if billing_type == "BOLETO" else 1)
                if due < today:
                    raise ValidationFailedError(
                        "O vencimento não pode ser no passado.",
                        details=[{"field": "due_date", "message": "no passado"}],
                    )
                attempt = len(charges) + 1
                charge = pay_db.insert_charge(
                    conn,
                    tenant_id=identity.tenant_id,
                    order_id=order_id,
                    attempt=attempt,
                    external_reference=f"assistec:{order_id}:{attempt}",
                    billing_type=billing_type,
                    value_cents=amount,
                    due_date=due,
                )
            customer = repo.get_customer(conn, order.customer_id)
            asaas_customer = pay_db.asaas_customer(conn, order.customer_id)
        assert customer is not None
        # The Asaas calls happen outside any transaction; the charge row already exists, so a
        # failure here leaves an unfinished charge that the next try completes.
        client = self.client_for(identity.tenant_id, account)
        try:
            if asaas_customer is None:
                reference = f"assistec:{customer.id}"
                found = client.find_customer(reference)
                asaas_customer = str(
                    (found or client.create_customer(_customer_body(customer, reference)))["id"]
                )
            payment = client.find_payment(charge.external_reference) or client.create_payment(
                {
                    "customer": asaas_customer,
                    "billingType": charge.billing_type,
                    "value": rules.reais(charge.value_cents),
                    "dueDate": charge.due_date.isoformat(),
                    "description": f"OS {order.number}",
                    "externalReference": charge.external_reference,
                }
            )
            details: dict[str, Any] = {
                "asaas_payment_id": payment["id"],
                "asaas_status": payment.get("status"),
                "invoice_url": payment.get("invoiceUrl"),
                "status": rules.state_of(payment),
            }
            if charge.billing_type == "PIX":
                qr = client.pix_qr_code(payment["id"])
                details.update(pix_payload=qr.get("payload"), pix_qr_image=qr.get("encodedImage"))
            elif charge.billing_type == "BOLETO":
                details["boleto_line"] = client.identification_field(payment["id"]).get("identificationField")
        except AsaasError as exc:
            logger.warning("asaas charge failed", extra={"charge_id": str(charge.id), "status": exc.status})
            raise _provider_error(exc) from exc
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            pay_db.save_asaas_customer(
                conn, tenant_id=identity.tenant_id, customer_id=customer.id, asaas_id=asaas_customer
            )
            charge = pay_db.update_charge(conn, charge.id, details)
            audit.record(
                conn,
                identity,
                action="create",
                entity="charge",
                entity_id=str(charge.id),
                changes={
                    "order_id": str(order_id),
                    "billing_type": charge.billing_type,
                    "value_cents": charge.value_cents,
                    "asaas_payment_id": charge.asaas_payment_id,
                },
                correlation_id=correlation_id,
            )
        return charge

    def get_charge(self, identity: Identity, charge_id: UUID) -> ChargeRow:
        require(identity, Permission.ORDERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            charge = pay_db.get_charge(conn, charge_id)
        if charge is None:
            raise NotFoundError("Cobrança não encontrada.")
        return charge

    def charges(self, identity: Identity, order_id: UUID) -> list[ChargeRow]:
        require(identity, Permission.ORDERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            if orders_db.get(conn, order_id) is None:
                raise NotFoundError("Ordem de serviço não encontrada.")
            return pay_db.charges_of(conn, order_id)

    def cancel_charge(self, identity: Identity, charge_id: UUID, *, correlation_id: str | None) -> ChargeRow:
        require(identity, Permission.ORDERS_WRITE)
        charge, account = self._charge_and_account(identity, charge_id)
        if charge.status not in _OPEN:
            raise ConflictError(
                "Só cobranças em aberto podem ser canceladas "
                f"(esta está {rules.LABELS_PT[charge.status].lower()}).",
                details={"status": charge.status},
            )
        client = self.client_for(identity.tenant_id, account)
        try:
            # A try whose answer was lost has no Asaas id here, but Asaas may have the payment:
            # its external reference finds it, so it is deleted there too.
            payment_id = charge.asaas_payment_id
            if payment_id is None:
                found = client.find_payment(charge.external_reference)
                payment_id = str(found["id"]) if found else None
            if payment_id is not None:
                client.delete_payment(payment_id)
        except AsaasError as exc:
            raise _provider_error(exc) from exc
        return self._settle(
            identity, charge_id, "cancelled", asaas_status="DELETED", correlation_id=correlation_id
        )

    def refund_charge(self, identity: Identity, charge_id: UUID, *, correlation_id: str | None) -> ChargeRow:
        """Ask Asaas to refund; the charge becomes refunded when Asaas confirms (webhook)."""
        require(identity, Permission.SETTINGS_WRITE)  # money out: owners and admins
        charge, account = self._charge_and_account(identity, charge_id)
        if charge.status != "paid" or not charge.asaas_payment_id:
            raise ConflictError("Só cobranças pagas podem ser estornadas.", details={"status": charge.status})
        client = self.client_for(identity.tenant_id, account)
        try:
            payment = client.refund_payment(charge.asaas_payment_id)
        except AsaasError as exc:
            raise _provider_error(exc) from exc
        state = rules.state_of(payment)
        return self._settle(
            identity, charge_id, state, asaas_status=str(payment.get("status")), correlation_id=correlation_id
        )

    def _charge_and_account(self, identity: Identity, charge_id: UUID) -> tuple[ChargeRow, PaymentAccountRow]:
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            charge = pay_db.get_charge(conn, charge_id)
            account = pay_db.get_account(conn)
        if charge is None:
            raise NotFoundError("Cobrança não encontrada.")
        if account is None:
            raise NoPaymentAccountError
        return charge, account

    def _settle(
        self,
        identity: Identity,
        charge_id: UUID,
        state: str,
        *,
        asaas_status: str,
        correlation_id: str | None,
    ) -> ChargeRow:
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            current = pay_db.get_charge(conn, charge_id, lock=True)
            assert current is not None
            charge, event = apply_state(
                conn,
                identity,
                current,
                state,
                asaas_status=asaas_status,
                payment=None,
                correlation_id=correlation_id,
            )
        if event:
            self._relay.flush_quietly([event])
        return charge


def _customer_body(customer: Any, reference: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": customer.name,
        "mobilePhone": customer.phone.removeprefix("+55"),
        "externalReference": reference,
        "notificationDisabled": True,  # the shop talks to its customers itself
    }
    if customer.document:
        body["cpfCnpj"] = customer.document
    if customer.email:
        body["email"] = customer.email
    return body


def apply_state(
    conn: repo.Conn,
    actor: Actor,
    charge: ChargeRow,
    state: str,
    *,
    asaas_status: str | None,
    payment: dict[str, Any] | None,
    correlation_id: str | None,
) -> tuple[ChargeRow, UUID | None]:
    """Move a locked charge to ``state``: the order's received amount, audit and a domain event,
    once. No change, no effect (a duplicate or replayed event ends here)."""
    changes: dict[str, Any] = {}
    if asaas_status and asaas_status != charge.asaas_status:
        changes["asaas_status"] = asaas_status
    if state == charge.status:
        return (pay_db.update_charge(conn, charge.id, changes) if changes else charge), None
    changes["status"] = state
    if state == "paid":
        paid_value = (payment or {}).get("value")
        changes["paid_cents"] = rules.cents(paid_value) if paid_value is not None else charge.value_cents
        changes["paid_at"] = datetime.now(UTC)
        if payment and payment.get("transactionReceiptUrl"):
            changes["receipt_url"] = payment["transactionReceiptUrl"]
    updated = pay_db.update_charge(conn, charge.id, changes)
    paid_total = pay_db.refresh_order_paid(conn, charge.order_id)
    audit.record(
        conn,
        actor,
        action="state",
        entity="charge",
        entity_id=str(charge.id),
        changes={"status": {"from": charge.status, "to": state}, "asaas_status": asaas_status},
        correlation_id=correlation_id,
    )
    event = events_db.add(
        conn,
        tenant_id=charge.tenant_id,
        detail_type="ChargeStatusChanged",
        detail={
            "charge_id": str(charge.id),
            "order_id": str(charge.order_id),
            "status": state,
            "previous_status": charge.status,
            "value_cents": charge.value_cents,
            "order_paid_cents": paid_total,
        },
    )
    return updated, event


# --- webhooks ----------------------------------------------------------------------------------
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


class WebhookInbox:
    """Ingress (store once, enqueue, answer fast) and the consumer that applies each event."""

    def __init__(
        self,
        db: Database,
        queue: EventQueue,
        relay: OutboxRelay,
        payments: Callable[[], PaymentsService],
        resume: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self._db = db
        self._queue = queue
        self._relay = relay
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
        with self._db.tenant_tx(tenant_id) as conn:
            stored = pay_db.webhook_account(conn, webhook_key)
        token_hash = stored[0] if stored else None
        if len(self._accounts) > 10_000:
            self._accounts.clear()
        self._accounts[webhook_key] = (token_hash, now)
        return token_hash

    def receive(self, webhook_key: str, token: str | None, body: str) -> bool:
        """Store one delivery; True when new. Raises UnauthorizedError (401) for an unknown key or
        a wrong token and ValidationFailedError for a body that is no Asaas event; both store nothing."""
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
        with self._db.tenant_tx(tenant_id) as conn:
            new = pay_db.add_to_inbox(
                conn,
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
        """Apply one stored event, once; return its outcome. Raises to have the message retried."""
        with self._db.tenant_tx(tenant_id) as conn:
            item = pay_db.take_from_inbox(conn, event_id)
            if item is None:
                return "unknown_event_id"
            if item.processed_at is not None:
                return "already_processed"
            outcome, event, charge = self._apply(conn, item.tenant_id, item.event, item.payload)
            pay_db.finish(conn, event_id, outcome)
        if event:
            self._relay.flush_quietly([event])
        if charge is not None:
            resume_flow(charge, self._resume)
        return outcome

    def _apply(
        self, conn: repo.Conn, tenant_id: UUID, event: str, payload: dict[str, Any]
    ) -> tuple[str, UUID | None, ChargeRow | None]:
        if event not in rules.KNOWN_EVENTS:
            return "ignored_event_type", None, None
        payment = payload.get("payment") or {}
        charge = (
            pay_db.charge_by_payment(conn, str(payment.get("id")), lock=True) if payment.get("id") else None
        )
        if charge is None:
            # Not a charge of this shop (or made outside assistec): nothing of ours to move.
            return "ignored_unknown_payment", None, None
        candidate = rules.state_of(payment)
        if event == "PAYMENT_DELETED":
            candidate = "cancelled"
        if candidate != charge.status:
            # Deliveries come duplicated and out of order: before any change (money moving above
            # all), ask Asaas for the payment as it is now, and trust that over the payload.
            account = pay_db.get_account(conn)
            assert account is not None
            client = self._payments().client_for(tenant_id, account)
            try:
                payment = client.get_payment(str(payment["id"]))
            except AsaasError as exc:
                if exc.status != 404:
                    raise  # Asaas unreachable: the message comes back and is tried again
                payment = {**payment, "deleted": True}  # gone from Asaas: cancelled there
            candidate = rules.state_of(payment)
        actor = PublicActor(tenant_id=tenant_id, label="Asaas")
        updated, domain_event = apply_state(
            conn,
            actor,
            charge,
            candidate,
            asaas_status=str(payment.get("status")),
            payment=payment,
            correlation_id=None,
        )
        return ("applied" if domain_event else "no_change"), domain_event, updated


def resume_flow(charge: ChargeRow, resume: Callable[[str, dict[str, Any]], None] | None) -> None:
    """A paid charge a payment flow waits on hands the flow its task token back (after commit).
    A flow already gone (timed out, stopped) refuses the token: logged, never retried."""
    if resume is None or charge.status != "paid" or not charge.flow_task_token:
        return
    try:
        resume(
            charge.flow_task_token,
            {"charge_id": str(charge.id), "status": charge.status, "paid_cents": charge.paid_cents},
        )
    except Exception:
        logger.warning("payment flow could not be resumed", extra={"charge_id": str(charge.id)})


def sweep(db: Database, queue: EventQueue, *, older_than_s: int = 120, limit: int = 500) -> int:
    """Enqueue again what was stored but never applied (a lost queue message); return how many."""
    with db.transaction() as conn:
        pay_db.as_sweeper(conn)
        stale = pay_db.stale(conn, older_than_s=older_than_s, limit=limit)
    for tenant_id, event_id in stale:
        queue.send(tenant_id, event_id)
    return len(stale)


@dataclass
class ReconcileReport:
    shops: int = 0
    checked: int = 0
    mismatches: int = 0
    repaired: int = 0
    errors: int = 0


def reconcile(
    db: Database,
    payments: PaymentsService,
    *,
    window_days: int = 3,
    only: list[UUID] | None = None,
    resume: Callable[[str, dict[str, Any]], None] | None = None,
) -> ReconcileReport:
    """Compare every shop's charges with Asaas and repair what a lost webhook left behind.

    Asaas's side: our open charges and those changed within the window, read one by one, and the
    payments Asaas says were paid within the window (paginated) that carry our reference. Any
    difference is applied as Asaas has it (Asaas is the ledger) and recorded as a mismatch.
    ``only``: these shops (ops reconciling one shop by hand); default every shop with an account.
    """
    report = ReconcileReport()
    with db.transaction() as conn:
        shops = [t for t in pay_db.shops_with_accounts(conn) if only is None or t in only]
    since = (datetime.now(UTC) - timedelta(days=window_days)).date().isoformat()
    for tenant_id in shops:
        report.shops += 1
        try:
            with db.tenant_tx(tenant_id) as conn:
                account = pay_db.get_account(conn)
                charges = pay_db.charges_to_check(conn, window_days=window_days)
            assert account is not None
            remote: dict[str, dict[str, Any]] = {}
            client = payments.client_for(tenant_id, account)
            for charge in charges:
                assert charge.asaas_payment_id is not None
                try:
                    remote[charge.asaas_payment_id] = client.get_payment(charge.asaas_payment_id)
                except AsaasError as exc:
                    if exc.status != 404:
                        raise
                    # Gone from Asaas: an open charge was deleted there; a settled one going
                    # missing is an anomaly for people to look at, never "repaired".
                    remote[charge.asaas_payment_id] = {
                        "id": charge.asaas_payment_id,
                        "deleted": True,
                        "status": "NOT_FOUND",
                        "_settled_locally": charge.status not in _OPEN,
                    }
            offset = 0
            while True:
                page = client.list_payments(**{"paymentDate[ge]": since, "limit": 100, "offset": offset})
                for payment in page.get("data") or []:
                    if str(payment.get("externalReference") or "").startswith("assistec:"):
                        remote.setdefault(str(payment["id"]), payment)
                if not page.get("hasMore"):
                    break
                offset += 100
            report.checked += len(remote)
            actor = PublicActor(tenant_id=tenant_id, label="Reconciliação")
            events: list[UUID] = []
            to_resume: list[ChargeRow] = []
            with db.tenant_tx(tenant_id) as conn:
                for payment_id, payment in remote.items():
                    local = pay_db.charge_by_payment(conn, payment_id, lock=True)
                    want = rules.state_of(payment)
                    if local is not None and local.status == want:
                        continue
                    report.mismatches += 1
                    if local is not None and not payment.get("_settled_locally"):
                        repaired_row, event = apply_state(
                            conn,
                            actor,
                            local,
                            want,
                            asaas_status=str(payment.get("status") or "DELETED"),
                            payment=payment,
                            correlation_id=None,
                        )
                        if event:
                            events.append(event)
                        report.repaired += 1
                        to_resume.append(repaired_row)
                    pay_db.record_mismatch(
                        conn,
                        tenant_id=tenant_id,
                        charge_id=local.id if local else None,
                        asaas_payment_id=payment_id,
                        local_status=local.status if local else None,
                        remote_status=str(payment.get("status") or "DELETED"),
                        repaired=local is not None and not payment.get("_settled_locally"),
                    )
            payments._relay.flush_quietly(events)
            for row in to_resume:
                resume_flow(row, resume)
        except Exception:  # one shop's trouble (Asaas down, key revoked) never stops the others
            report.errors += 1
            logger.exception("reconciliation failed for a shop", extra={"tenant_id": str(tenant_id)})
    return report
