"""Charges for orders through the shop's own Asaas account.

Money rules: one open charge per order at a time (a double click gets a 409 naming the open one,
never a second charge); each charge has an external reference Asaas keeps, looked up before
creating, so a retry after a lost answer finds the first try; what an order has received is
recomputed from its paid charges, never incremented (``state.apply_state``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from assistec.db import customers as customers_db
from assistec.db import orders as orders_db
from assistec.db import payments as pay_db
from assistec.db.rows import ChargeRow, CustomerRow, PaymentAccountRow
from assistec.domain import payments as payment_rules
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, NotFoundError, ValidationFailedError
from assistec.integrations.asaas import AsaasClient, AsaasError
from assistec.observability import logger
from assistec.services.payments.account import AsaasAccounts
from assistec.services.payments.errors import NoPaymentAccountError, provider_error
from assistec.services.payments.state import OPEN, apply_state

_CHARGE_NOT_FOUND = "Cobrança não encontrada."
_ORDER_NOT_FOUND = "Ordem de serviço não encontrada."


class PaymentsService(AsaasAccounts):
    """The shop's Asaas account (``AsaasAccounts``) and the charges made through it.

    Every Asaas call happens outside any database transaction; what it changes is written (with
    its audit row and ``ChargeStatusChanged`` event) in the shop's unit of work right after."""

    def create_charge(
        self,
        identity: Identity,
        order_id: UUID,
        *,
        billing_type: str,
        value_cents: int | None,
        due_date: date | None,
    ) -> ChargeRow:
        """Charge an order of the shop (order writers): the amount given, or what its approved
        quote still lacks. 409 while another charge is open; 409 ``payment_account_missing``
        without an account. The charge row is written before Asaas is called, so a try whose
        answer was lost is finished by the next one (same reference, found in Asaas: never two
        payments); Asaas refusing is 422 (its reasons) or 502, and nothing is charged."""
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            order = orders_db.get(uow.conn, order_id, lock=True)
            if order is None:
                raise NotFoundError(_ORDER_NOT_FOUND)
            account = pay_db.get_account(uow.conn)
            if account is None:
                raise NoPaymentAccountError
            charges = pay_db.charges_of(uow.conn, order_id)
            unfinished = [c for c in charges if c.asaas_payment_id is None and c.status == "pending"]
            open_ = [c for c in charges if c.asaas_payment_id is not None and c.status in OPEN]
            if open_:
                raise ConflictError(
                    "Esta OS já tem uma cobrança em aberto. Cancele-a para gerar outra.",
                    details={"charge_id": str(open_[0].id), "status": open_[0].status},
                )
            if unfinished:
                charge = unfinished[0]  # a try whose answer was lost: finish it, same reference
            else:
                total = pay_db.approved_total(uow.conn, order_id)
                amount = value_cents or ((total or 0) - order.paid_cents)
                if amount <= 0:
                    raise ValidationFailedError(
                        "Nada a cobrar: informe o valor (a OS não tem orçamento aprovado em aberto).",
                        details=[{"field": "value_cents", "message": "valor ausente ou zero"}],
                    )
                today = orders_db.local_today(uow.conn)
                due = due_date or today + timedelta(days=3 if billing_type == "BOLETO" else 1)
                if due < today:
                    raise ValidationFailedError(
                        "O vencimento não pode ser no passado.",
                        details=[{"field": "due_date", "message": "no passado"}],
                    )
                attempt = len(charges) + 1
                charge = pay_db.insert_charge(
                    uow.conn,
                    tenant_id=uow.tenant_id,
                    order_id=order_id,
                    attempt=attempt,
                    external_reference=f"assistec:{order_id}:{attempt}",
                    billing_type=billing_type,
                    value_cents=amount,
                    due_date=due,
                )
            customer = customers_db.get_customer(uow.conn, order.customer_id)
            asaas_customer = pay_db.asaas_customer(uow.conn, order.customer_id)
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
            details = _create_payment(client, charge, asaas_customer, f"OS {order.number}")
        except AsaasError as exc:
            logger.warning("asaas charge failed", extra={"charge_id": str(charge.id), "status": exc.status})
            raise provider_error(exc) from exc
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            pay_db.save_asaas_customer(
                uow.conn, tenant_id=uow.tenant_id, customer_id=customer.id, asaas_id=asaas_customer
            )
            charge = pay_db.update_charge(uow.conn, charge.id, details)
            uow.audit(
                "create",
                "charge",
                charge.id,
                changes={
                    "order_id": str(order_id),
                    "billing_type": charge.billing_type,
                    "value_cents": charge.value_cents,
                    "asaas_payment_id": charge.asaas_payment_id,
                },
            )
        return charge

    def get_charge(self, identity: Identity, charge_id: UUID) -> ChargeRow:
        """One charge of the shop (order readers); 404 when it is not the shop's."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            charge = pay_db.get_charge(uow.conn, charge_id)
        if charge is None:
            raise NotFoundError(_CHARGE_NOT_FOUND)
        return charge

    def charges(self, identity: Identity, order_id: UUID) -> list[ChargeRow]:
        """An order's charges, oldest first (order readers); 404 when it is not the shop's."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            if orders_db.get(uow.conn, order_id) is None:
                raise NotFoundError(_ORDER_NOT_FOUND)
            return pay_db.charges_of(uow.conn, order_id)

    def cancel_charge(self, identity: Identity, charge_id: UUID) -> ChargeRow:
        """Cancel an open charge (order writers): deleted in Asaas first (found by its reference
        when its creation's answer was lost), then cancelled here, audited, with its event.
        409 for a charge no longer open; an Asaas failure (422/502) leaves it open."""
        charge, account = self._charge_and_account(identity, charge_id, Permission.ORDERS_WRITE)
        if charge.status not in OPEN:
            raise ConflictError(
                "Só cobranças em aberto podem ser canceladas "
                f"(esta está {payment_rules.LABELS_PT[charge.status].lower()}).",
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
            raise provider_error(exc) from exc
        return self._settle(identity, charge_id, "cancelled", asaas_status="DELETED")

    def refund_charge(self, identity: Identity, charge_id: UUID) -> ChargeRow:
        """Refund a paid charge (money out: settings writers, i.e. owners and admins). Asaas is
        asked first; the charge takes the state Asaas answers (refunded once Asaas confirms, by
        webhook). 409 for a charge that is not paid."""
        charge, account = self._charge_and_account(identity, charge_id, Permission.SETTINGS_WRITE)
        if charge.status != "paid" or not charge.asaas_payment_id:
            raise ConflictError("Só cobranças pagas podem ser estornadas.", details={"status": charge.status})
        client = self.client_for(identity.tenant_id, account)
        try:
            payment = client.refund_payment(charge.asaas_payment_id)
        except AsaasError as exc:
            raise provider_error(exc) from exc
        return self._settle(
            identity, charge_id, payment_rules.state_of(payment), asaas_status=str(payment.get("status"))
        )

    def _charge_and_account(
        self, identity: Identity, charge_id: UUID, permission: Permission
    ) -> tuple[ChargeRow, PaymentAccountRow]:
        with self._work(identity, permission) as uow:
            charge = pay_db.get_charge(uow.conn, charge_id)
            account = pay_db.get_account(uow.conn)
        if charge is None:
            raise NotFoundError(_CHARGE_NOT_FOUND)
        if account is None:
            raise NoPaymentAccountError
        return charge, account

    def _settle(self, identity: Identity, charge_id: UUID, state: str, *, asaas_status: str) -> ChargeRow:
        with self._work(identity) as uow:
            current = pay_db.get_charge(uow.conn, charge_id, lock=True)
            assert current is not None
            charge, _ = apply_state(uow, current, state, asaas_status=asaas_status, payment=None)
        return charge


def _create_payment(
    client: AsaasClient, charge: ChargeRow, asaas_customer: str, description: str
) -> dict[str, Any]:
    """Find the charge's payment in Asaas by its reference, or create it; the columns to store
    (and the PIX code or the boleto line to pay it with)."""
    payment = client.find_payment(charge.external_reference) or client.create_payment(
        {
            "customer": asaas_customer,
            "billingType": charge.billing_type,
            "value": payment_rules.reais(charge.value_cents),
            "dueDate": charge.due_date.isoformat(),
            "description": description,
            "externalReference": charge.external_reference,
        }
    )
    details: dict[str, Any] = {
        "asaas_payment_id": payment["id"],
        "asaas_status": payment.get("status"),
        "invoice_url": payment.get("invoiceUrl"),
        "status": payment_rules.state_of(payment),
    }
    if charge.billing_type == "PIX":
        qr = client.pix_qr_code(payment["id"])
        details.update(pix_payload=qr.get("payload"), pix_qr_image=qr.get("encodedImage"))
    elif charge.billing_type == "BOLETO":
        details["boleto_line"] = client.identification_field(payment["id"]).get("identificationField")
    return details


def _customer_body(customer: CustomerRow, reference: str) -> dict[str, Any]:
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
