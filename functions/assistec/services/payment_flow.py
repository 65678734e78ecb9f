"""The payment flow's steps (Step Functions runs them; see infra/.../payment_flow.py).

create the charge → e-mail the customer → wait for the payment (a task token kept on the charge,
server-side; the webhook consumer hands it back when the charge is paid) → mark paid. A wait that
times out sends a reminder and waits once more; the second timeout expires (cancels) the charge.
"""

from __future__ import annotations

import json
from typing import Any, Protocol
from uuid import UUID

from assistec.db import orders as orders_db
from assistec.db import payments as pay_db
from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.db.rows import ChargeRow
from assistec.domain import quotes as text
from assistec.domain.permissions import Role
from assistec.domain.tokens import Identity
from assistec.services import audit
from assistec.services.payments import PaymentsService


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class FlowResumer(Protocol):
    def resume(self, token: str, output: dict[str, Any]) -> None: ...


class SesMailer:
    def __init__(self, sender: str) -> None:
        self._sender = sender
        self._client: Any = None

    def send(self, to: str, subject: str, body: str) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("ses")
        self._client.send_email(
            Source=self._sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
            },
        )


class StepFunctionsResumer:
    def __init__(self) -> None:
        self._client: Any = None

    def resume(self, token: str, output: dict[str, Any]) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("stepfunctions")
        self._client.send_task_success(taskToken=token, output=json.dumps(output))


def identity_of(flow: dict[str, Any]) -> Identity:
    return Identity(tenant_id=UUID(flow["tenant_id"]), user_id=UUID(flow["user_id"]), role=Role(flow["role"]))


def message(charge: ChargeRow, *, shop: str, customer: str, number: int, reminder: bool) -> tuple[str, str]:
    """The customer's e-mail: plain pt-BR, everything needed to pay without opening anything else."""
    subject = f"{'Lembrete: ' if reminder else ''}pagamento da OS {number} — {shop}"
    lines = [
        f"Olá, {customer}!",
        "",
        ("Ainda não identificamos o pagamento" if reminder else "Segue a cobrança")
        + f" do serviço da ordem {number} na {shop}.",
        f"Valor: {text.brl(charge.value_cents)}. Vencimento: {charge.due_date:%d/%m/%Y}.",
    ]
    if charge.pix_payload:
        lines += ["", "Pix copia e cola:", charge.pix_payload]
    if charge.boleto_line:
        lines += ["", "Linha digitável do boleto:", charge.boleto_line]
    if charge.invoice_url:
        lines += ["", f"Ou pague pela página da cobrança: {charge.invoice_url}"]
    lines += ["", "Se já pagou, desconsidere este e-mail.", shop]
    return subject, "\n".join(lines)


class PaymentFlow:
    def __init__(self, db: Database, payments: PaymentsService, mailer: Mailer, resumer: FlowResumer) -> None:
        self._db = db
        self._payments = payments
        self._mailer = mailer
        self._resumer = resumer

    def create(self, flow: dict[str, Any]) -> dict[str, Any]:
        charge = self._payments.create_charge(
            identity_of(flow),
            UUID(flow["order_id"]),
            billing_type=flow["billing_type"],
            value_cents=flow.get("value_cents"),
            due_date=None,
            correlation_id=flow.get("correlation_id"),
        )
        return {"charge_id": str(charge.id), "status": charge.status}

    def notify(self, flow: dict[str, Any], *, reminder: bool = False) -> dict[str, Any]:
        tenant = UUID(flow["tenant_id"])
        with self._db.tenant_tx(tenant) as conn:
            charge = pay_db.get_charge(conn, UUID(flow["charge"]["charge_id"]))
            assert charge is not None
            order = orders_db.get(conn, charge.order_id)
            assert order is not None
            customer = repo.get_customer(conn, order.customer_id)
            tenant_row = repo.get_tenant(conn, tenant)
            assert customer is not None
            assert tenant_row is not None
        if charge.status != "pending" and charge.status != "overdue":
            return {"notified": False, "reason": f"charge {charge.status}"}
        if not customer.email:
            return {"notified": False, "reason": "customer has no e-mail"}
        subject, body = message(
            charge, shop=tenant_row.name, customer=customer.name, number=order.number, reminder=reminder
        )
        self._mailer.send(customer.email, subject, body)
        return {"notified": True, "to": customer.email}

    def await_payment(self, flow: dict[str, Any], token: str) -> None:
        """Keep the task token on the charge; a charge already paid resumes the flow at once."""
        tenant = UUID(flow["tenant_id"])
        with self._db.tenant_tx(tenant) as conn:
            charge = pay_db.get_charge(conn, UUID(flow["charge"]["charge_id"]), lock=True)
            assert charge is not None
            charge = pay_db.update_charge(conn, charge.id, {"flow_task_token": token})
        if charge.status == "paid":
            self._resumer.resume(token, paid_output(charge))

    def finish(self, flow: dict[str, Any], *, outcome: str) -> dict[str, Any]:
        """Paid or expired: forget the token; an expired charge is cancelled (in Asaas too)."""
        identity = identity_of(flow)
        charge_id = UUID(flow["charge"]["charge_id"])
        with self._db.tenant_tx(identity.tenant_id) as conn:
            charge = pay_db.get_charge(conn, charge_id, lock=True)
            assert charge is not None
            pay_db.update_charge(conn, charge_id, {"flow_task_token": None})
            audit.record(
                conn,
                identity,
                action=f"flow_{outcome}",
                entity="charge",
                entity_id=str(charge_id),
                changes={"status": charge.status},
            )
        if outcome == "expired" and charge.status in ("pending", "overdue"):
            charge = self._payments.cancel_charge(
                identity, charge_id, correlation_id=flow.get("correlation_id")
            )
        return {"outcome": outcome, "status": charge.status}


def paid_output(charge: ChargeRow) -> dict[str, Any]:
    return {"charge_id": str(charge.id), "status": charge.status, "paid_cents": charge.paid_cents}


class FlowStarter(Protocol):
    def start(self, name: str, flow: dict[str, Any]) -> str: ...


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str | None) -> None:
        self._arn = state_machine_arn
        self._client: Any = None

    def start(self, name: str, flow: dict[str, Any]) -> str:
        if not self._arn:
            from assistec.errors import ServiceUnavailableError

            raise ServiceUnavailableError("O fluxo de pagamento não está configurado neste ambiente.")
        if self._client is None:
            import boto3

            self._client = boto3.client("stepfunctions")
        started = self._client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(flow))
        return str(started["executionArn"])


def start_flow(
    db: Database,
    starter: FlowStarter,
    identity: Identity,
    order_id: UUID,
    *,
    billing_type: str,
    value_cents: int | None,
    wait_hours: int,
    correlation_id: str | None,
) -> str:
    """Start the flow for an order of the caller's shop (checked here, before anything runs)."""
    from datetime import UTC, datetime

    from assistec.domain.permissions import Permission
    from assistec.errors import NotFoundError
    from assistec.services.access import require
    from assistec.services.payments import NoPaymentAccountError

    require(identity, Permission.ORDERS_WRITE)
    with db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
        if orders_db.get(conn, order_id) is None:
            raise NotFoundError("Ordem de serviço não encontrada.")
        if pay_db.get_account(conn) is None:
            raise NoPaymentAccountError
    flow = {
        "tenant_id": str(identity.tenant_id),
        "user_id": str(identity.user_id),
        "role": identity.role.value,
        "order_id": str(order_id),
        "billing_type": billing_type,
        "value_cents": value_cents,
        "wait_seconds": wait_hours * 3600,
        "correlation_id": correlation_id,
    }
    return starter.start(f"os-{order_id}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}", flow)
