"""The shop's own view of its subscription to assistec: status, plan and invoices; changing the plan
and cancelling. The API refuses a suspended shop (402) where it enters the shop's unit of work
(``db.connection.billing_gate``), from the status kept on the tenant; these routes stay open to it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistec.db import billing as bill_db
from assistec.domain import billing as billing_rules
from assistec.domain.payments import reais
from assistec.domain.permissions import Permission, Role
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, ForbiddenError, ValidationFailedError, found
from assistec.integrations.asaas import AsaasError
from assistec.services.billing.common import PLATFORM_TZ, BillingUnavailableError, PlatformUseCases
from assistec.services.billing.invoices import fetch_remote, write_remote
from assistec.services.billing.standing import refresh_status

if TYPE_CHECKING:
    from assistec.db.sql import Conn

_NO_SUBSCRIPTION = "Esta loja não tem assinatura."


class Subscription(PlatformUseCases):
    """The shop's subscription as its owner and admins manage it (``BILLING_MANAGE``; cancelling is
    the owner's alone). Changes follow optimistic locking on the subscription's version (409 with
    ``current_version``), reach Asaas before they are written here (502 and nothing changed when
    Asaas does not answer), and are audited."""

    def overview(self, identity: Identity) -> dict[str, Any]:
        """Status, plan, dates, version and the latest invoices (with their payment links); 404 for
        a shop without a subscription."""
        with self._work(identity, Permission.BILLING_MANAGE) as uow:
            sub = found(bill_db.subscription(uow.conn), _NO_SUBSCRIPTION)
            plan = bill_db.plan(uow.conn, sub.plan_code)
            invoices = bill_db.invoices(uow.conn)
        return {
            "status": sub.billing_status,
            "status_label": billing_rules.LABELS_PT[sub.billing_status],
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
        """The plans a shop can subscribe to (the same for every shop)."""
        with self._work.db.transaction() as conn:
            return bill_db.plans(conn)

    def change_plan(self, identity: Identity, plan_code: str, *, version: int) -> None:
        """Move the shop to another plan: the Asaas subscription's value changes (its open invoices
        too), then ours. Only a shop in good standing (trial, active) and not cancelled changes plan
        (409); an unknown plan is a 422; the current plan changes nothing."""
        with self._work(identity, Permission.BILLING_MANAGE) as uow:
            sub = _subscription_at(uow.conn, version)
            plan = bill_db.plan(uow.conn, plan_code)
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
        # Asaas is asked with no transaction open; the change is then written under a short lock,
        # at the version read (409 when someone moved it meanwhile: Asaas's change is idempotent,
        # so a retry at the new version completes it).
        remote = None
        if sub.asaas_subscription_id is not None:
            try:
                client = self._platform.client()
                client.update_subscription(
                    sub.asaas_subscription_id,
                    {
                        "value": reais(plan.price_cents),
                        "description": f"Assinatura assistec: plano {plan.name}",
                        "updatePendingPayments": True,
                    },
                )
                remote = fetch_remote(client, sub.asaas_subscription_id)
            except AsaasError as exc:
                raise BillingUnavailableError(details={"status": exc.status}) from exc
        with self._work(identity, Permission.BILLING_MANAGE) as uow:
            _locked_subscription(uow.conn, version)
            if remote is not None:
                write_remote(uow, remote)
            bill_db.update_subscription(uow.conn, plan_code=plan.code)
            uow.audit(
                "plan_changed",
                "tenant",
                uow.tenant_id,
                changes={"plan": {"from": sub.plan_code, "to": plan.code}},
            )

    def cancel(self, identity: Identity, *, version: int) -> None:
        """The owner cancels the subscription (403 for anyone else): no more invoices (the Asaas
        subscription is deleted); a shop in good standing keeps its access until the end of what it
        paid for (the next due date, or the trial's end), a shop in arrears loses it now. Data is
        kept; support reopens. A second cancel is a 409."""
        if identity.role is not Role.OWNER:
            raise ForbiddenError("Só o dono da loja pode cancelar a assinatura.")
        today = self._today()
        with self._work(identity) as uow:
            sub = _subscription_at(uow.conn, version)
            if sub.cancelled_at is not None:
                raise ConflictError(
                    "A assinatura já foi cancelada.",
                    details={"cancel_on": sub.cancel_on.isoformat() if sub.cancel_on else None},
                )
        # Asaas first, with no transaction open; then ours under a short lock at the version read.
        remote = None
        if sub.asaas_subscription_id is not None:
            client = self._platform.client()
            try:
                client.delete_subscription(sub.asaas_subscription_id)
            except AsaasError as exc:
                if exc.status != 404:  # already gone at Asaas: nothing left to stop
                    raise BillingUnavailableError(details={"status": exc.status}) from exc
            try:
                remote = fetch_remote(client, sub.asaas_subscription_id)
            except AsaasError as exc:
                raise BillingUnavailableError(details={"status": exc.status}) from exc
        with self._work(identity) as uow:
            sub = _locked_subscription(uow.conn, version)
            if remote is not None:
                write_remote(uow, remote)
            if sub.billing_status in ("trial", "active"):
                cancel_on = max(sub.next_due_date or sub.trial_ends_on, today)
            else:
                cancel_on = today
            bill_db.update_subscription(uow.conn, cancelled_at=datetime.now(PLATFORM_TZ), cancel_on=cancel_on)
            uow.audit(
                "subscription_cancelled",
                "tenant",
                uow.tenant_id,
                changes={"cancel_on": cancel_on.isoformat()},
            )
            refresh_status(uow, today=today)


def _subscription_at(conn: Conn, version: int, *, lock: bool = False) -> bill_db.SubscriptionRow:
    """The shop's subscription at the version the caller read (409 otherwise)."""
    sub = found(bill_db.subscription(conn, lock=lock), _NO_SUBSCRIPTION)
    if sub.version != version:
        raise ConflictError(
            "A assinatura foi alterada por outra pessoa. Recarregue e tente de novo.",
            details={"current_version": sub.version},
        )
    return sub


def _locked_subscription(conn: Conn, version: int) -> bill_db.SubscriptionRow:
    """The shop's subscription, locked, at the version the caller read (409 otherwise)."""
    return _subscription_at(conn, version, lock=True)
