"""/payments: list, create (one-off or a subscription's), read, delete, the PIX QR code, the boleto's
digitable line and refund."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from asaas_sim.answers import Answer, error, matches, page
from asaas_sim.state import Account, Fire, now

_PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
_PIX_PREFIX = "00020101021226820014br.gov.bcb.pix2560qrpix.simulador.asaas/"
_PIX_SUFFIX = "5204000053039865802BR5913ASSISTEC6009SAO PAULO6304ABCD"


def route(
    account: Account,
    method: str,
    rest: list[str],
    params: dict[str, str],
    body: dict[str, Any],
    fire: Fire,
    *,
    refund_later: bool = False,
) -> Answer | None:
    """The answer of a /payments route; None for a route not simulated. ``refund_later``: a refund
    waits for the bank (REFUND_IN_PROGRESS, ``control.refunded`` finishes it), as Asaas's do when
    the money has not settled yet."""
    if not rest and method == "GET":
        found = [p for p in account.payments.values() if matches(p, params)]
        return 200, page(found, params), {}
    if not rest and method == "POST":
        return create(account, body, fire)
    if not rest:
        return None
    payment = account.payments.get(rest[0])
    if payment is None:
        return 404, error("not_found", "Cobrança não encontrada."), {}
    if len(rest) == 1 and method == "GET":
        return 200, payment, {}
    if len(rest) == 1 and method == "DELETE":
        payment["deleted"] = True
        fire(account, "PAYMENT_DELETED", payment)
        return 200, {"deleted": True, "id": payment["id"]}, {}
    if rest[1:] == ["pixQrCode"]:
        return (
            200,
            {
                "encodedImage": _PNG_1PX,
                "payload": _PIX_PREFIX + payment["id"] + _PIX_SUFFIX,
                "expirationDate": f"{payment['dueDate']} 23:59:59",
            },
            {},
        )
    if rest[1:] == ["identificationField"]:
        return (
            200,
            {
                "identificationField": "23793381286000000000300000000401" + payment["id"][-6:].rjust(15, "0"),
                "nossoNumero": payment["nossoNumero"],
                "barCode": "2379" + "0" * 40,
            },
            {},
        )
    if rest[1:] == ["refund"] and method == "POST":
        if payment["status"] not in ("RECEIVED", "CONFIRMED"):
            return 400, error("invalid_action", "Só é possível estornar cobranças recebidas."), {}
        if refund_later:
            payment["status"] = "REFUND_IN_PROGRESS"
            fire(account, "PAYMENT_REFUND_IN_PROGRESS", payment)
            return 200, payment, {}
        payment["status"] = "REFUNDED"
        fire(account, "PAYMENT_REFUNDED", payment)
        return 200, payment, {}
    return None


def create(account: Account, body: dict[str, Any], fire: Fire, *, subscription: str | None = None) -> Answer:
    if body.get("customer") not in account.customers:
        return 400, error("invalid_customer", "Cliente inexistente."), {}
    if body.get("billingType") not in ("PIX", "BOLETO", "CREDIT_CARD", "UNDEFINED"):
        return 400, error("invalid_billingType", "Forma de pagamento inválida."), {}
    if not isinstance(body.get("value"), (int, float)) or body["value"] < 5:
        return 400, error("invalid_value", "O valor da cobrança deve ser de no mínimo R$ 5,00."), {}
    payment_id = f"pay_{secrets.token_hex(8)}"
    token = payment_id[4:]
    payment = {
        "object": "payment",
        "id": payment_id,
        "dateCreated": now().date().isoformat(),
        "customer": body["customer"],
        "paymentLink": None,
        "value": body["value"],
        "netValue": round(body["value"] * 0.97, 2),
        "originalValue": None,
        "interestValue": None,
        "description": body.get("description"),
        "billingType": body["billingType"],
        "canBePaidAfterDueDate": True,
        "confirmedDate": None,
        "pixTransaction": None,
        "status": "PENDING",
        "dueDate": body.get("dueDate") or (now().date() + timedelta(days=3)).isoformat(),
        "originalDueDate": body.get("dueDate"),
        "paymentDate": None,
        "clientPaymentDate": None,
        "installmentNumber": None,
        "invoiceUrl": f"https://sandbox.asaas.com/i/{token}",
        "invoiceNumber": f"{len(account.payments) + 1:08d}",
        "externalReference": body.get("externalReference"),
        "deleted": False,
        "anticipated": False,
        "anticipable": False,
        "creditDate": None,
        "estimatedCreditDate": None,
        "transactionReceiptUrl": None,
        "nossoNumero": f"{secrets.randbelow(10**8):08d}",
        "bankSlipUrl": f"https://sandbox.asaas.com/b/pdf/{token}"
        if body["billingType"] == "BOLETO"
        else None,
        "lastInvoiceViewedDate": None,
        "lastBankSlipViewedDate": None,
        "discount": {"value": 0, "limitDate": None, "dueDateLimitDays": 0, "type": "FIXED"},
        "fine": {"value": 0, "type": "FIXED"},
        "interest": {"value": 0, "type": "PERCENTAGE"},
        "postalService": False,
        "custody": None,
        "refunds": None,
    }
    if subscription is not None:
        payment["subscription"] = subscription
    account.payments[payment_id] = payment
    fire(account, "PAYMENT_CREATED", payment)
    return 200, payment, {}
