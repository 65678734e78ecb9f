"""A shop's subscription from signup to Asaas: signup opens it (a trial on the chosen plan) and emits
``ShopSignedUp``; EventBridge hands that to the payments queue and the consumer provisions the shop's
Asaas customer and monthly subscription."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import billing as bill_db
from assistec.domain.payments import reais
from assistec.errors import ValidationFailedError
from assistec.integrations.asaas import AsaasClient, AsaasError
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.billing.common import DEFAULT_PLAN, PlatformUseCases, external_reference
from assistec.services.billing.invoices import store_invoice, store_next_due
from assistec.services.billing.standing import refresh_status

if TYPE_CHECKING:
    from assistec.services.unit_of_work import UnitOfWork

# How long a consumer may hold a shop's provisioning: longer than any consumer can live (the
# function's timeout is 300 s, infra capabilities/payments.py; the exchange itself is two Asaas
# deadlines of 8 s), so a lease never runs out under a consumer still at Asaas; one left by a
# consumer that died is taken over after it.
PROVISION_LEASE_S = 600


class ProvisioningBusy(RuntimeError):
    """Another consumer is provisioning this shop (or just did): the queue's next try decides."""

    def __init__(self) -> None:
        super().__init__("the shop's provisioning is leased by another consumer")


def open_subscription(uow: UnitOfWork, plan_code: str | None, *, today: date) -> None:
    """Inside signup's unit of work: the shop's subscription row (a trial of the plan's length from
    ``today``; 422 for an unknown plan) and the ``ShopSignedUp`` event that gets its Asaas
    subscription created."""
    plan = bill_db.plan(uow.conn, plan_code or DEFAULT_PLAN)
    if plan is None:
        codes = [p.code for p in bill_db.plans(uow.conn)]
        raise ValidationFailedError(
            "Plano desconhecido.",
            details=[{"field": "plan", "message": f"use um destes: {', '.join(codes)}"}],
        )
    bill_db.create_subscription(
        uow.conn,
        tenant_id=uow.tenant_id,
        plan_code=plan.code,
        trial_ends_on=today + timedelta(days=plan.trial_days),
    )
    uow.emit("ShopSignedUp", {"plan": plan.code})


@dataclass(frozen=True)
class Reopening:
    """What reopening a shop did: ``outcome`` (``reopened``, ``not_cancelled``, ``no_subscription``,
    ``unpaid_invoices``) and, when reopened, the status before and after and the new subscription's
    first due date; ``unpaid``: the invoices left unpaid by the cancelled subscription."""

    outcome: str
    status_before: str | None = None
    status_after: str | None = None
    first_due: date | None = None
    asaas_subscription_id: str | None = None
    unpaid: tuple[bill_db.InvoiceRow, ...] = ()


class Provisioning(PlatformUseCases):
    """Creates a shop's Asaas customer and subscription on the platform account. Each is found by the
    shop's externalReference before it is created. No transaction is open and no row locked while
    Asaas is called: a short transaction first takes a lease on the shop's provisioning (a retry or
    a second consumer meanwhile waits for the queue's next try instead of creating a second one),
    then Asaas is called, then a short transaction writes the result if the subscription row is
    still the version that was read."""

    def provision(self, tenant_id: UUID) -> str:
        """Create what is missing at Asaas, store the subscription's invoices and the shop's status;
        the outcome (``provisioned``, ``already_provisioned``, ``cancelled``, ``no_subscription``,
        ``refused``). Safe to repeat. Raises on what a retry may fix (Asaas unavailable, another
        consumer provisioning the shop right now, nothing written); a refusal of the shop's data is
        recorded on the subscription for ops, not retried."""
        client = self._platform.client()
        actor = SystemActor(tenant_id)
        # 1. Read and lease (short): who is provisioning the shop, for how long.
        with self._work(actor) as uow:
            sub = bill_db.subscription(uow.conn)
            if sub is None:
                return "no_subscription"
            if sub.cancelled_at is not None:
                return "cancelled"
            if sub.asaas_subscription_id is not None:
                return "already_provisioned"
            if not bill_db.lease_provisioning(uow.conn, seconds=PROVISION_LEASE_S):
                raise ProvisioningBusy()
        # 2. Call Asaas with nothing open.
        try:
            remote = self._find_or_create(client, tenant_id, sub)
            payments = list(client.subscription_payments(str(remote["id"])))
        except AsaasError as exc:
            if exc.retryable:
                with self._work(actor) as uow:
                    bill_db.release_provisioning(uow.conn)
                raise
            with self._work(actor) as uow:
                bill_db.update_subscription(uow.conn, provision_error=str(exc)[:500])
                bill_db.release_provisioning(uow.conn)
            logger.error("asaas refused the shop's subscription", extra={"error": str(exc)})
            return "refused"
        # 3. Write (short): the row locked, and only over the version that was read.
        with self._work(actor) as uow:
            current = bill_db.subscription(uow.conn, lock=True)
            if current is None or current.version != sub.version:
                # Changed meanwhile (cancelled, or provisioned by a consumer whose lease had run
                # out): the lease is given back and the next try reads it again (and finds at
                # Asaas, by its reference, what this one made).
                bill_db.release_provisioning(uow.conn)
                moved = True
            else:
                moved = False
                self._store(uow, current, remote, payments)
        if moved:
            raise ProvisioningBusy()
        return "provisioned"

    def reopen(self, tenant_id: UUID) -> Reopening:
        """Support reopens a cancelled shop (the ops console): the shop pays again from where it
        stopped. Cancelling deleted its Asaas subscription, so a new one is made (found by the shop's
        reference first, like provisioning: a retry never makes two), its first invoice due at the
        end of what the shop already had (the paid period or the trial, when still running: a shop
        whose cancellation has not taken effect yet loses nothing) and never before today. Then, in
        one short write over the version that was read: the cancellation cleared, the new
        subscription and its invoices stored, the status recomputed from the invoices, audited.

        A shop that still owes invoices of its cancelled subscription (it cancelled in arrears) is
        not reopened (``unpaid_invoices``): those invoices belong to the old Asaas subscription,
        whose payments the platform webhook maps to the shop only while it is the shop's; the shop
        pays them first (their links stay on /billing), then support reopens it.

        Nothing is changed here when Asaas fails or refuses (``AsaasError``), and
        ``ProvisioningBusy`` when the subscription moved meanwhile (a retry finds at Asaas what this
        one made)."""
        client = self._platform.client()
        actor = SystemActor(tenant_id)
        with self._work(actor) as uow:
            sub = bill_db.subscription(uow.conn)
            if sub is None:
                return Reopening("no_subscription")
            if sub.cancelled_at is None:
                return Reopening("not_cancelled", status_before=sub.billing_status)
            unpaid = bill_db.open_invoices(uow.conn)
            if unpaid:
                return Reopening("unpaid_invoices", status_before=sub.billing_status, unpaid=tuple(unpaid))
            if not bill_db.lease_provisioning(uow.conn, seconds=PROVISION_LEASE_S):
                raise ProvisioningBusy()
        today = self._today()
        first_due = max(sub.trial_ends_on, sub.cancel_on or today, today)
        try:
            remote = self._find_or_create(client, tenant_id, sub, first_due=first_due)
            payments = list(client.subscription_payments(str(remote["id"])))
        except AsaasError:
            with self._work(actor) as uow:
                bill_db.release_provisioning(uow.conn)
            raise
        with self._work(actor) as uow:
            current = bill_db.subscription(uow.conn, lock=True)
            moved = current is None or current.version != sub.version
            bill_db.release_provisioning(uow.conn)
            if current is not None and not moved:
                bill_db.update_subscription(
                    uow.conn,
                    cancelled_at=None,
                    cancel_on=None,
                    asaas_customer_id=remote["customer"],
                    asaas_subscription_id=remote["id"],
                    provision_error=None,
                )
                for payment in payments:
                    store_invoice(uow, payment)
                store_next_due(uow, remote, current=current.next_due_date)
                before, after = refresh_status(uow, today=today, reopening=True)
                uow.audit(
                    "subscription_reopened",
                    "tenant",
                    tenant_id,
                    changes={
                        "cancel_on": {"from": current.cancel_on, "to": None},
                        "asaas_subscription_id": {
                            "from": current.asaas_subscription_id,
                            "to": remote["id"],
                        },
                        "billing_status": {"from": before, "to": after},
                        "first_due": first_due.isoformat(),
                        "by": "support",
                    },
                )
        if moved:
            raise ProvisioningBusy()
        return Reopening("reopened", before, after, first_due, str(remote["id"]))

    def _store(
        self,
        uow: UnitOfWork,
        current: bill_db.SubscriptionRow,
        remote: dict[str, Any],
        payments: list[dict[str, Any]],
    ) -> None:
        """Inside the short write: the Asaas ids, the invoices, the next due date and the status."""
        bill_db.update_subscription(
            uow.conn,
            asaas_customer_id=remote["customer"],
            asaas_subscription_id=remote["id"],
            provision_error=None,
        )
        bill_db.release_provisioning(uow.conn)
        for payment in payments:
            store_invoice(uow, payment)
        store_next_due(uow, remote, current=current.next_due_date)
        refresh_status(uow, today=self._today())

    def _find_or_create(
        self,
        client: AsaasClient,
        tenant_id: UUID,
        sub: bill_db.SubscriptionRow,
        *,
        first_due: date | None = None,
    ) -> dict[str, Any]:
        """The shop's Asaas subscription: the one Asaas has under the shop's reference (a lost answer
        of an earlier try), else a new one (and the customer, found or created the same way). Each
        creation is sent once and, after an ambiguous failure, looked up by the reference before
        it is sent again (``AsaasClient.create``); all of it within the client's time budget."""
        reference = external_reference(tenant_id)
        first_due = first_due or max(sub.trial_ends_on, self._today())
        with client.deadline():
            return self._find_or_create_within(client, reference, sub, first_due)

    def _find_or_create_within(
        self, client: AsaasClient, reference: str, sub: bill_db.SubscriptionRow, first_due: date
    ) -> dict[str, Any]:
        customer = client.find_or_create_customer(
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
                "value": reais(sub.price_cents),
                "nextDueDate": first_due.isoformat(),
                "cycle": "MONTHLY",
                "description": f"Assinatura assistec: plano {plan_name}",
                "externalReference": reference,
            }
        )
