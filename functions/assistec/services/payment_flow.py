"""The payment flow's steps (Step Functions runs them; see infra/.../payment_flow.py).

create the charge → e-mail the customer → wait for the payment (a task token kept on the charge,
server-side; the webhook consumer hands it back when the charge is paid) → mark paid. A wait that
times out sends a reminder and waits once more; the second timeout expires (cancels) the charge.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import customers as customers_db
from assistec.db import orders as orders_db
from assistec.db import payments as pay_db
from assistec.db import tenants as tenants_db
from assistec.db.rows import ChargeRow
from assistec.domain import quotes as quote_rules
from assistec.domain.permissions import Permission, Role
from assistec.domain.tokens import Identity
from assistec.errors import NotFoundError
from assistec.integrations.flows import FlowResumer, FlowStarter
from assistec.integrations.queue import WhatsappQueue
from assistec.observability import correlation_id
from assistec.services.payments.charges import PaymentsService
from assistec.services.payments.errors import NoPaymentAccountError
from assistec.services.payments.state import OPEN, paid_output
from assistec.services.unit_of_work import UnitsOfWork
from assistec.services.whatsapp import outgoing

if TYPE_CHECKING:
    from assistec.services.email.service import Mail


def identity_of(flow: dict[str, Any]) -> Identity:
    """The user who started the flow: its steps act on their behalf."""
    return Identity(tenant_id=UUID(flow["tenant_id"]), user_id=UUID(flow["user_id"]), role=Role(flow["role"]))


def message(charge: ChargeRow, *, shop: str, customer: str, number: int, reminder: bool) -> tuple[str, str]:
    """The customer's e-mail: plain pt-BR, everything needed to pay without opening anything else."""
    subject = f"{'Lembrete: ' if reminder else ''}pagamento da OS {number} — {shop}"
    lines = [
        f"Olá, {customer}!",
        "",
        ("Ainda não identificamos o pagamento" if reminder else "Segue a cobrança")
        + f" do serviço da ordem {number} na {shop}.",
        f"Valor: {quote_rules.brl(charge.value_cents)}. Vencimento: {charge.due_date:%d/%m/%Y}.",
    ]
    if charge.pix_payload:
        lines += ["", "Pix copia e cola:", charge.pix_payload]
    if charge.boleto_line:
        lines += ["", "Linha digitável do boleto:", charge.boleto_line]
    if charge.invoice_url:
        lines += ["", f"Ou pague pela página da cobrança: {charge.invoice_url}"]
    lines += ["", "Se já pagou, desconsidere este e-mail.", shop]
    return subject, "\n".join(lines)


class PaymentFlowStarter:
    """Starts the payment flow for an order (the API's side)."""

    def __init__(self, work: UnitsOfWork, starter: Callable[[], FlowStarter]) -> None:
        self._work = work
        self._starter = starter

    def start(
        self,
        identity: Identity,
        order_id: UUID,
        *,
        billing_type: str,
        value_cents: int | None,
        wait_hours: int,
    ) -> str:
        """Start the flow for an order of the caller's shop (order writers); its execution ARN.

        Checked here, before anything runs: 404 for an order that is not the shop's, 409
        ``payment_account_missing`` without an Asaas account. The flow carries the caller's
        identity and this request's correlation id (its steps' audit rows keep it)."""
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            if orders_db.get(uow.conn, order_id) is None:
                raise NotFoundError("Ordem de serviço não encontrada.")
            if pay_db.get_account(uow.conn) is None:
                raise NoPaymentAccountError
        flow = {
            "tenant_id": str(identity.tenant_id),
            "user_id": str(identity.user_id),
            "role": identity.role.value,
            "order_id": str(order_id),
            "billing_type": billing_type,
            "value_cents": value_cents,
            "wait_seconds": wait_hours * 3600,
            "correlation_id": correlation_id(),
        }
        return self._starter().start(f"os-{order_id}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}", flow)


class PaymentFlow:
    """The flow's tasks, each on behalf of the user who started it. Errors propagate: the state
    machine retries and catches them."""

    def __init__(
        self,
        work: UnitsOfWork,
        payments: PaymentsService,
        mail: Mail,
        resumer: FlowResumer,
        whatsapp: Callable[[], WhatsappQueue] | None = None,
    ) -> None:
        self._work = work
        self._payments = payments
        self._mail = mail
        self._resumer = resumer
        self._whatsapp = whatsapp

    def create(self, flow: dict[str, Any]) -> dict[str, Any]:
        """Charge the order as ``PaymentsService.create_charge`` does (same rules, same audit)."""
        charge = self._payments.create_charge(
            identity_of(flow),
            UUID(flow["order_id"]),
            billing_type=flow["billing_type"],
            value_cents=flow.get("value_cents"),
            due_date=None,
        )
        return {"charge_id": str(charge.id), "status": charge.status}

    def notify(self, flow: dict[str, Any], *, reminder: bool = False) -> dict[str, Any]:
        """Tell the customer how to pay (or a reminder): on WhatsApp when the shop's number and the
        customer can (not opted out), by e-mail otherwise; nothing for a charge no longer open or a
        customer with neither (the output says why)."""
        queued = None
        with self._work(identity_of(flow)) as uow:
            charge = pay_db.get_charge(uow.conn, UUID(flow["charge"]["charge_id"]))
            assert charge is not None
            order = orders_db.get(uow.conn, charge.order_id)
            assert order is not None
            customer = customers_db.get_customer(uow.conn, order.customer_id)
            tenant_row = tenants_db.get_tenant(uow.conn, uow.tenant_id)
            assert customer is not None
            assert tenant_row is not None
            if charge.status in OPEN and self._whatsapp is not None:
                _, text = message(
                    charge,
                    shop=tenant_row.name,
                    customer=customer.name,
                    number=order.number,
                    reminder=reminder,
                )
                queued = outgoing.to_customer(
                    uow, order.customer_id, text.replace("este e-mail", "esta mensagem")
                )
        if charge.status not in OPEN:
            return {"notified": False, "reason": f"charge {charge.status}"}
        if queued is not None and queued.message_id is not None and self._whatsapp is not None:
            self._whatsapp().outbound(uow.tenant_id, queued.message_id)
            return {"notified": True, "channel": "whatsapp"}
        if not customer.email:
            return {"notified": False, "reason": "customer has no e-mail"}
        sent = self._mail.send(
            uow.tenant_id,
            template="payment_link",
            to=customer.email,
            context={
                "customer_name": customer.name,
                "order_number": order.number,
                "value_cents": charge.value_cents,
                "due_date": charge.due_date,
                "pix_payload": charge.pix_payload,
                "boleto_line": charge.boleto_line,
                "invoice_url": charge.invoice_url,
                "reminder": reminder,
            },
            order_id=order.id,
        )
        if not sent.ok:
            return {"notified": False, "reason": sent.reason}
        return {"notified": True, "channel": "email", "to": customer.email}

    def await_payment(self, flow: dict[str, Any], token: str) -> None:
        """Keep the task token on the charge (the webhook that pays it resumes the flow); a charge
        already paid resumes the flow at once."""
        with self._work(identity_of(flow)) as uow:
            charge = pay_db.get_charge(uow.conn, UUID(flow["charge"]["charge_id"]), lock=True)
            assert charge is not None
            charge = pay_db.update_charge(uow.conn, charge.id, {"flow_task_token": token})
        if charge.status == "paid":
            self._resumer.resume(token, paid_output(charge))

    def finish(self, flow: dict[str, Any], *, outcome: str) -> dict[str, Any]:
        """Paid or expired: forget the token and audit the outcome; an expired charge still open is
        cancelled as ``PaymentsService.cancel_charge`` does (in Asaas too)."""
        identity = identity_of(flow)
        charge_id = UUID(flow["charge"]["charge_id"])
        queued = None
        with self._work(identity) as uow:
            charge = pay_db.get_charge(uow.conn, charge_id, lock=True)
            assert charge is not None
            pay_db.update_charge(uow.conn, charge_id, {"flow_task_token": None})
            uow.audit(f"flow_{outcome}", "charge", charge_id, changes={"status": charge.status})
            if outcome == "paid" and charge.status == "paid" and self._whatsapp is not None:
                # The customer hears the money arrived (on WhatsApp when they can get it there)
                order = orders_db.get(uow.conn, charge.order_id)
                assert order is not None
                text = (
                    f"Pagamento recebido: {quote_rules.brl(charge.paid_cents)} da OS {order.number}. "
                    "Obrigado! Avisaremos por aqui quando o aparelho estiver pronto."
                )
                queued = outgoing.to_customer(uow, order.customer_id, text)
        if queued is not None and queued.message_id is not None and self._whatsapp is not None:
            self._whatsapp().outbound(identity.tenant_id, queued.message_id)
        if outcome == "expired" and charge.status in OPEN:
            charge = self._payments.cancel_charge(identity, charge_id)
        return {"outcome": outcome, "status": charge.status}
