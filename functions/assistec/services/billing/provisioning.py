"""A shop's subscription from signup to Asaas: signup opens it (a trial on the chosen plan) and emits
``ShopSignedUp``; EventBridge hands that to the payments queue and the consumer provisions the shop's
Asaas customer and monthly subscription."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import billing as bill_db
from assistec.errors import ValidationFailedError
from assistec.integrations.asaas import AsaasClient, AsaasError
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.billing.common import DEFAULT_PLAN, PlatformUseCases, external_reference
from assistec.services.billing.invoices import store_remote_invoices
from assistec.services.billing.standing import refresh_status

if TYPE_CHECKING:
    from assistec.services.unit_of_work import UnitOfWork


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


class Provisioning(PlatformUseCases):
    """Creates a shop's Asaas customer and subscription on the platform account. Each is found by the
    shop's externalReference before it is created, and the shop's subscription row stays locked for
    the whole exchange, so a retry or a second consumer never makes a second one."""

    def provision(self, tenant_id: UUID) -> str:
        """Create what is missing at Asaas, store the subscription's invoices and the shop's status;
        the outcome (``provisioned``, ``already_provisioned``, ``cancelled``, ``no_subscription``,
        ``refused``). Safe to repeat. Raises on what a retry may fix (Asaas unavailable, nothing
        written); a refusal of the shop's data is recorded on the subscription for ops, not retried."""
        client = self._platform.client()
        with self._work(SystemActor(tenant_id)) as uow:
            sub = bill_db.subscription(uow.conn, lock=True)
            if sub is None:
                return "no_subscription"
            if sub.cancelled_at is not None:
                return "cancelled"
            if sub.asaas_subscription_id is not None:
                return "already_provisioned"
            try:
                remote = self._find_or_create(client, tenant_id, sub)
            except AsaasError as exc:
                if exc.retryable:
                    raise
                bill_db.update_subscription(uow.conn, provision_error=str(exc)[:500])
                logger.error("asaas refused the shop's subscription", extra={"error": str(exc)})
                return "refused"
            bill_db.update_subscription(
                uow.conn,
                asaas_customer_id=remote["customer"],
                asaas_subscription_id=remote["id"],
                provision_error=None,
            )
            store_remote_invoices(uow, client, remote)
            refresh_status(uow, today=self._today())
        return "provisioned"

    def _find_or_create(
        self, client: AsaasClient, tenant_id: UUID, sub: bill_db.SubscriptionRow
    ) -> dict[str, Any]:
        """The shop's Asaas subscription: the one Asaas has under the shop's reference (a lost answer
        of an earlier try), else a new one (and the customer, found or created the same way)."""
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
