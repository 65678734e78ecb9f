"""Charges for orders through the shop's own Asaas account.

Money rules: one open charge per order at a time (a double click gets a 409 naming the open one,
never a second charge); each charge has an external reference Asaas keeps, looked up before
creating, so a retry after a lost answer finds the first try; what an order has received is
recomputed from its paid charges, never incremented (``state.apply_state``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, NoReturn
from uuid import UUID, uuid4

from assistec.db import customers as customers_db
from assistec.db import orders as orders_db
from assistec.db import payments as pay_db
from assistec.db.rows import ChargeRow, CustomerRow, PaymentAccountRow
from assistec.domain import payments as payment_rules
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import (
    ChargeInProgressError,
    ConflictError,
    CustomerChargeInProgressError,
    NotFoundError,
    ValidationFailedError,
)
from assistec.integrations.asaas import BUDGET_S, AsaasClient, AsaasError, refund_recorded
from assistec.observability import logger
from assistec.services.payments.account import AsaasAccounts
from assistec.services.payments.errors import NoPaymentAccountError, PaymentProviderError, provider_error
from assistec.services.payments.state import OPEN, apply_state

_CHARGE_NOT_FOUND = "Cobrança não encontrada."
# How long a request's claim on a charge lasts: well past the most it can spend on Asaas
# (``BUDGET_S``) and writing the answer down, so a live request never loses its claim; a request
# that died frees the charge for the next try when it runs out.
CLAIM_S = int(4 * BUDGET_S)
_BUSY_CHARGE = (
    "Esta cobrança está sendo processada no Asaas agora (criação, cancelamento ou estorno). "
    "Aguarde alguns segundos e atualize a página."
)
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
        without an account. The charge row is written, and claimed, before Asaas is called: a
        concurrent request (a double click, two attendants) finds the live claim and gets 409
        ``charge_in_progress`` without calling Asaas; a try whose answer was lost is finished by
        the next one (same reference, found in Asaas: never two payments); a stored Asaas payment
        id is never replaced. Asaas refusing is 422 (its reasons) or 502, and nothing is charged."""
        token = uuid4()
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            order = orders_db.get(uow.conn, order_id, lock=True)
            if order is None:
                raise NotFoundError(_ORDER_NOT_FOUND)
            # Shared: a reconnection waits for this charge row, then sees it and refuses.
            account = pay_db.get_account(uow.conn, share=True)
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
                if not pay_db.claim_charge(uow.conn, charge.id, token, seconds=CLAIM_S):
                    raise ChargeInProgressError(details={"charge_id": str(charge.id)})
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
                claimed = pay_db.claim_charge(uow.conn, charge.id, token, seconds=CLAIM_S)
                assert claimed, "a new charge has no claim yet"
            customer = customers_db.get_customer(uow.conn, order.customer_id)
            asaas_customer = pay_db.asaas_customer(uow.conn, order.customer_id)
            # No Asaas customer yet: this request makes it, under a claim on the customer. Another
            # order's charge of the same customer being made right now holds it: 409, and this
            # transaction (the charge row and its claim) is rolled back, nothing written.
            if asaas_customer is None and not pay_db.claim_asaas_customer(
                uow.conn, tenant_id=uow.tenant_id, customer_id=order.customer_id, token=token, seconds=CLAIM_S
            ):
                raise CustomerChargeInProgressError(details={"customer_id": str(order.customer_id)})
        assert customer is not None
        # The Asaas calls happen outside any transaction, under the charge's claim and within the
        # client's time budget; the charge row already exists, so a failure here leaves an
        # unfinished charge that the next try completes (its claim given back, or run out).
        client = self.client_for(identity.tenant_id, account)
        try:
            with client.deadline():
                if asaas_customer is None:
                    reference = f"assistec:{customer.id}"
                    asaas_customer = str(
                        client.find_or_create_customer(_customer_body(customer, reference))["id"]
                    )
                details = _create_payment(client, charge, asaas_customer, f"OS {order.number}")
        except AsaasError as exc:
            logger.warning(
                "asaas charge failed",
                extra={"charge_id": str(charge.id), "status": exc.status, "ambiguous": exc.ambiguous},
            )
            self._release(identity, charge.id, token, customer_id=customer.id)
            raise provider_error(exc) from exc
        except BaseException:
            self._release(identity, charge.id, token, customer_id=customer.id)
            raise
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            pay_db.save_asaas_customer(
                uow.conn, tenant_id=uow.tenant_id, customer_id=customer.id, asaas_id=asaas_customer
            )
            pay_db.release_asaas_customer(uow.conn, customer.id, token)
            finished = pay_db.finish_charge(uow.conn, charge.id, token, details)
            if finished is not None:
                charge = finished
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
        if finished is None:
            self._drop_duplicate(client, charge.id, str(details["asaas_payment_id"]))
        return charge

    def _drop_duplicate(self, client: AsaasClient, charge_id: UUID, payment_id: str) -> NoReturn:
        """The charge already holds another Asaas payment (stored by a try that took over after
        this one's claim ran out): it stays, never overwritten, and the one this try made (the
        same reference, seen by nobody) is deleted at Asaas, best effort. 409 either way."""
        logger.error(
            "charge already holds another asaas payment",
            extra={"charge_id": str(charge_id), "asaas_payment_id": payment_id},
        )
        try:
            with client.deadline():
                client.delete_payment(payment_id)
        except AsaasError:
            logger.error("duplicate asaas payment not deleted", extra={"asaas_payment_id": payment_id})
        raise ChargeInProgressError(
            "Esta cobrança foi concluída por outra tentativa. Atualize a página para vê-la.",
            details={"charge_id": str(charge_id)},
        )

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
        409 for a charge no longer open, and 409 ``charge_in_progress`` while another request is
        at Asaas about it (its payment being created); an Asaas failure (422/502) leaves it open."""

        def cancellable(charge: ChargeRow) -> None:
            if charge.status not in OPEN:
                raise ConflictError(
                    "Só cobranças em aberto podem ser canceladas "
                    f"(esta está {payment_rules.LABELS_PT[charge.status].lower()}).",
                    details={"status": charge.status},
                )

        token = uuid4()
        charge, account = self._claim(identity, charge_id, Permission.ORDERS_WRITE, token, cancellable)
        client = self.client_for(identity.tenant_id, account)
        try:
            with client.deadline():
                # A try whose answer was lost has no Asaas id here, but Asaas may have the payment:
                # its external reference finds it, so it is deleted there too.
                payment_id = charge.asaas_payment_id
                if payment_id is None:
                    found = client.find_payment(charge.external_reference)
                    payment_id = str(found["id"]) if found else None
                if payment_id is not None:
                    client.delete_payment(payment_id)
        except AsaasError as exc:
            self._release(identity, charge_id, token)
            raise provider_error(exc) from exc
        except BaseException:
            self._release(identity, charge_id, token)
            raise
        return self._settle(identity, charge_id, "cancelled", asaas_status="DELETED", token=token)

    def refund_charge(self, identity: Identity, charge_id: UUID) -> ChargeRow:
        """Refund a paid charge (money out: settings writers, i.e. owners and admins). Asaas is
        asked first; the charge takes the state Asaas answers (refunded once Asaas confirms, by
        webhook). 409 for a charge that is not paid, 409 ``charge_in_progress`` while another
        request is at Asaas about it.

        Never refunded twice: the payment is read first and a refund Asaas already shows is not
        asked again; the refund is sent once (``AsaasClient.refund_payment``), and when its answer
        is lost and Asaas does not show it yet, the claim is kept until it runs out, so a retry
        reads Asaas again after that instead of sending a second refund at once."""

        def refundable(charge: ChargeRow) -> None:
            if charge.status != "paid" or not charge.asaas_payment_id:
                raise ConflictError(
                    "Só cobranças pagas podem ser estornadas.", details={"status": charge.status}
                )

        token = uuid4()
        charge, account = self._claim(identity, charge_id, Permission.SETTINGS_WRITE, token, refundable)
        assert charge.asaas_payment_id is not None
        client = self.client_for(identity.tenant_id, account)
        try:
            with client.deadline():
                payment = client.get_payment(charge.asaas_payment_id)
                if not refund_recorded(payment):
                    payment = client.refund_payment(charge.asaas_payment_id)
        except AsaasError as exc:
            if not exc.ambiguous:
                self._release(identity, charge_id, token)
            logger.warning(
                "asaas refund failed",
                extra={"charge_id": str(charge_id), "status": exc.status, "ambiguous": exc.ambiguous},
            )
            if exc.ambiguous:
                raise PaymentProviderError(
                    "O Asaas não confirmou o estorno a tempo. Ele pode ter sido registrado: confira a "
                    "cobrança em um minuto antes de estornar de novo.",
                    details={"status": exc.status},
                ) from exc
            raise provider_error(exc) from exc
        except BaseException:
            self._release(identity, charge_id, token)
            raise
        return self._settle(
            identity,
            charge_id,
            payment_rules.state_of(payment),
            asaas_status=str(payment.get("status")),
            token=token,
        )

    def _claim(
        self,
        identity: Identity,
        charge_id: UUID,
        permission: Permission,
        token: UUID,
        check: Callable[[ChargeRow], None],
    ) -> tuple[ChargeRow, PaymentAccountRow]:
        """The charge (``check``ed) and the account, the charge claimed for ``token`` in one short
        transaction; 409 ``charge_in_progress`` while another request's claim is live."""
        with self._work(identity, permission) as uow:
            charge = pay_db.get_charge(uow.conn, charge_id, lock=True)
            account = pay_db.get_account(uow.conn)
            if charge is None:
                raise NotFoundError(_CHARGE_NOT_FOUND)
            if account is None:
                raise NoPaymentAccountError
            check(charge)
            if not pay_db.claim_charge(uow.conn, charge_id, token, seconds=CLAIM_S):
                raise ChargeInProgressError(_BUSY_CHARGE, details={"charge_id": str(charge_id)})
        return charge, account

    def _release(
        self, identity: Identity, charge_id: UUID, token: UUID, *, customer_id: UUID | None = None
    ) -> None:
        """Give a claim back after a failure, and the customer's (best effort: unreleased, they
        run out by themselves)."""
        try:
            with self._work(identity) as uow:
                pay_db.release_claim(uow.conn, charge_id, token)
                if customer_id is not None:
                    pay_db.release_asaas_customer(uow.conn, customer_id, token)
        except Exception:
            logger.warning("charge claim not released", extra={"charge_id": str(charge_id)})

    def _settle(
        self, identity: Identity, charge_id: UUID, state: str, *, asaas_status: str, token: UUID | None = None
    ) -> ChargeRow:
        with self._work(identity) as uow:
            current = pay_db.get_charge(uow.conn, charge_id, lock=True)
            assert current is not None
            charge, _ = apply_state(uow, current, state, asaas_status=asaas_status, payment=None)
            if token is not None:
                pay_db.release_claim(uow.conn, charge_id, token)
        return charge


def _create_payment(
    client: AsaasClient, charge: ChargeRow, asaas_customer: str, description: str
) -> dict[str, Any]:
    """Find the charge's payment in Asaas by its reference, or create it (once: looked up again
    after an ambiguous failure); the columns to store (and the PIX code or the boleto line to pay
    it with). The value goes from centavos to Asaas as an exact decimal."""
    payment = client.find_or_create_payment(
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
