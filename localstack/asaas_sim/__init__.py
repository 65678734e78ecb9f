"""An offline Asaas (API v3) for `make dev`, the e2e suite and the integration tests.

It implements the endpoints assistec calls (customers, payments, PIX QR code, boleto line, refund,
delete, subscriptions and their payments, webhooks) with Asaas's answer and error shapes, keeps
state per API key, and has control calls under /_sim that do what a customer, the bank or the
calendar would: pay a charge, let it fall overdue (``{"days": n}`` days ago), start a
subscription's next cycle.
Each of those fires the webhooks the shop registered, with the payload shape of Asaas's real
deliveries (tests/fixtures/asaas), to the registered URL with the registered token.

Run it: ``python -m asaas_sim --port 4599`` (binds 127.0.0.1). In tests, ``AsaasSimulator()``
gives an httpx transport and a deliver callback instead of sockets.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

BRT = ZoneInfo("America/Sao_Paulo")
# (url, token, body) -> the HTTP status our endpoint answered
Deliver = Callable[[str, str, bytes], int]


def _now() -> datetime:
    return datetime.now(BRT)


def _http_deliver(url: str, token: str, body: bytes) -> int:
    response = httpx.post(
        url,
        content=body,
        headers={"Content-Type": "application/json", "asaas-access-token": token},
        timeout=30,
    )
    return response.status_code


@dataclass
class Account:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)


class AsaasSimulator:
    def __init__(self, deliver: Deliver = _http_deliver, state_file: Path | None = None) -> None:
        self._state_file = state_file
        self._accounts: dict[str, Account] = {}
        if state_file is not None and state_file.exists():
            # Kept across restarts, as Asaas keeps its records (the local database keeps ours).
            saved = json.loads(state_file.read_text())
            self._accounts = {key: Account(**value) for key, value in saved.items()}
        self._lock = threading.Lock()
        self._deliver = deliver
        self.deliveries: list[dict[str, Any]] = []  # what was sent, with our endpoint's answer
        self.fail_next: list[int] = []  # statuses to answer instead, once each (429/5xx tests)

    # --- plumbing ------------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._httpx)

    def _httpx(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        status, answer, headers = self.handle(
            request.method,
            request.url.path,
            dict(request.url.params),
            body,
            request.headers.get("access_token"),
        )
        return httpx.Response(status, json=answer, headers=headers)

    def handle(
        self, method: str, path: str, params: dict[str, str], body: Any, api_key: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        path = re.sub(r"^/(api/)?v3", "", path)
        if path.startswith("/_sim/"):
            return self._control(method, path, body)
        if self.fail_next:
            status = self.fail_next.pop(0)
            return (
                status,
                {"errors": [{"code": "simulated", "description": "falha simulada"}]},
                {"RateLimit-Reset": "0"},
            )
        if not api_key or not api_key.startswith("$aact_"):
            return (
                401,
                {"errors": [{"code": "invalid_access_token", "description": "Chave de API inválida"}]},
                {},
            )
        with self._lock:
            account = self._accounts.setdefault(api_key, Account())
            answer = self._route(account, method, path, params, body or {})
            if method != "GET":
                self._save()
            return answer

    def _save(self) -> None:
        if self._state_file is not None:
            data = {
                key: {
                    "customers": a.customers,
                    "payments": a.payments,
                    "webhooks": a.webhooks,
                    "subscriptions": a.subscriptions,
                }
                for key, a in self._accounts.items()
            }
            temporary = self._state_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(data))
            temporary.replace(self._state_file)

    def _route(
        self, account: Account, method: str, path: str, params: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        parts = [p for p in path.split("/") if p]
        if parts == ["customers"] and method == "GET":
            found = [c for c in account.customers.values() if _matches(c, params)]
            return 200, _page(found, params), {}
        if parts == ["customers"] and method == "POST":
            if not body.get("name"):
                return 400, _error("invalid_name", "O nome do cliente deve ser informado."), {}
            customer = {
                "object": "customer",
                "id": f"cus_{secrets.token_hex(6)}",
                "dateCreated": _now().date().isoformat(),
                **body,
            }
            account.customers[customer["id"]] = customer
            return 200, customer, {}
        if parts == ["payments"] and method == "GET":
            found = [p for p in account.payments.values() if _matches(p, params)]
            return 200, _page(found, params), {}
        if parts == ["payments"] and method == "POST":
            return self._create_payment(account, body)
        if parts and parts[0] == "subscriptions":
            return self._subscriptions(account, method, parts[1:], params, body)
        if parts == ["webhooks"] and method == "GET":
            return 200, _page(list(account.webhooks), params), {}
        if len(parts) == 2 and parts[0] == "webhooks" and method == "DELETE":
            kept = [h for h in account.webhooks if h["id"] != parts[1]]
            if len(kept) == len(account.webhooks):
                return 404, _error("not_found", "Webhook não encontrado."), {}
            account.webhooks[:] = kept
            return 200, {"deleted": True, "id": parts[1]}, {}
        if parts == ["webhooks"] and method == "POST":
            if not body.get("url") or not body.get("email"):
                return 400, _error("invalid_object", "Informe url e email."), {}
            hook = {"id": secrets.token_hex(8), **body}
            account.webhooks.append(hook)
            return 200, hook, {}
        if len(parts) >= 2 and parts[0] == "payments":
            payment = account.payments.get(parts[1])
            if payment is None:
                return 404, _error("not_found", "Cobrança não encontrada."), {}
            if len(parts) == 2 and method == "GET":
                return 200, payment, {}
            if len(parts) == 2 and method == "DELETE":
                payment["deleted"] = True
                self._fire(account, "PAYMENT_DELETED", payment)
                return 200, {"deleted": True, "id": payment["id"]}, {}
            if parts[2:] == ["pixQrCode"]:
                return (
                    200,
                    {
                        "encodedImage": _PNG_1PX,
                        "payload": _PIX_PREFIX + payment["id"] + _PIX_SUFFIX,
                        "expirationDate": f"{payment['dueDate']} 23:59:59",
                    },
                    {},
                )
            if parts[2:] == ["identificationField"]:
                return (
                    200,
                    {
                        "identificationField": "23793381286000000000300000000401"
                        + payment["id"][-6:].rjust(15, "0"),
                        "nossoNumero": payment["nossoNumero"],
                        "barCode": "2379" + "0" * 40,
                    },
                    {},
                )
            if parts[2:] == ["refund"] and method == "POST":
                if payment["status"] not in ("RECEIVED", "CONFIRMED"):
                    return 400, _error("invalid_action", "Só é possível estornar cobranças recebidas."), {}
                payment["status"] = "REFUNDED"
                self._fire(account, "PAYMENT_REFUNDED", payment)
                return 200, payment, {}
        return 404, _error("not_found", f"Rota não simulada: {method} {path}"), {}

    # --- subscriptions ---------------------------------------------------------------------------
    def _subscriptions(
        self, account: Account, method: str, rest: list[str], params: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        if not rest and method == "GET":
            found = [s for s in account.subscriptions.values() if _matches(s, params)]
            return 200, _page(found, params), {}
        if not rest and method == "POST":
            if body.get("customer") not in account.customers:
                return 400, _error("invalid_customer", "Cliente inexistente."), {}
            if body.get("cycle") not in ("WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "YEARLY"):
                return 400, _error("invalid_cycle", "Periodicidade inválida."), {}
            if not body.get("nextDueDate"):
                return 400, _error("invalid_nextDueDate", "Informe o vencimento da primeira cobrança."), {}
            if not isinstance(body.get("value"), (int, float)) or body["value"] < 5:
                return 400, _error("invalid_value", "O valor deve ser de no mínimo R$ 5,00."), {}
            subscription = {
                "object": "subscription",
                "id": f"sub_{secrets.token_hex(8)}",
                "dateCreated": _now().date().isoformat(),
                "customer": body["customer"],
                "paymentLink": None,
                "billingType": body.get("billingType", "UNDEFINED"),
                "cycle": body["cycle"],
                "value": body["value"],
                "nextDueDate": body["nextDueDate"],
                "endDate": None,
                "description": body.get("description"),
                "status": "ACTIVE",
                "deleted": False,
                "externalReference": body.get("externalReference"),
            }
            account.subscriptions[subscription["id"]] = subscription
            self.next_cycle(account, subscription)  # Asaas creates the first payment at once
            return 200, subscription, {}
        existing = account.subscriptions.get(rest[0]) if rest else None
        if existing is None:
            return 404, _error("not_found", "Assinatura não encontrada."), {}
        subscription = existing
        if len(rest) == 1 and method == "GET":
            return 200, subscription, {}
        if len(rest) == 1 and method == "POST":
            for key in ("value", "description", "nextDueDate", "billingType"):
                if key in body:
                    subscription[key] = body[key]
            if body.get("updatePendingPayments"):
                for payment in account.payments.values():
                    if payment.get("subscription") == subscription["id"] and payment["status"] in (
                        "PENDING",
                        "OVERDUE",
                    ):
                        payment["value"] = subscription["value"]
                        payment["netValue"] = round(subscription["value"] * 0.97, 2)
            return 200, subscription, {}
        if len(rest) == 1 and method == "DELETE":
            subscription.update(deleted=True, status="INACTIVE")
            for payment in account.payments.values():  # what was not due yet goes with it
                if payment.get("subscription") == subscription["id"] and payment["status"] == "PENDING":
                    payment["deleted"] = True
                    self._fire(account, "PAYMENT_DELETED", payment)
            return 200, {"deleted": True, "id": subscription["id"]}, {}
        if rest[1:] == ["payments"] and method == "GET":
            found = [p for p in account.payments.values() if p.get("subscription") == subscription["id"]]
            found.sort(key=lambda p: p["dueDate"])
            return 200, _page(found, params), {}
        return 404, _error("not_found", "Rota não simulada."), {}

    def next_cycle(self, account: Account, subscription: dict[str, Any]) -> dict[str, Any]:
        """The subscription's payment for its next due date; the due date moves one cycle on."""
        due = date.fromisoformat(subscription["nextDueDate"])
        status, payment, _ = self._create_payment(
            account,
            {
                "customer": subscription["customer"],
                "billingType": subscription["billingType"],
                "value": subscription["value"],
                "dueDate": due.isoformat(),
                "description": subscription["description"],
                "externalReference": subscription["externalReference"],
            },
            subscription=subscription["id"],
        )
        assert status == 200, payment
        subscription["nextDueDate"] = _add_month(due).isoformat()
        return dict(payment)

    def _create_payment(
        self, account: Account, body: dict[str, Any], *, subscription: str | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        if body.get("customer") not in account.customers:
            return 400, _error("invalid_customer", "Cliente inexistente."), {}
        if body.get("billingType") not in ("PIX", "BOLETO", "CREDIT_CARD", "UNDEFINED"):
            return 400, _error("invalid_billingType", "Forma de pagamento inválida."), {}
        if not isinstance(body.get("value"), (int, float)) or body["value"] < 5:
            return 400, _error("invalid_value", "O valor da cobrança deve ser de no mínimo R$ 5,00."), {}
        payment_id = f"pay_{secrets.token_hex(8)}"
        token = payment_id[4:]
        payment = {
            "object": "payment",
            "id": payment_id,
            "dateCreated": _now().date().isoformat(),
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
            "dueDate": body.get("dueDate") or (_now().date() + timedelta(days=3)).isoformat(),
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
        self._fire(account, "PAYMENT_CREATED", payment)
        return 200, payment, {}

    # --- control: what the customer and the bank do --------------------------------------------
    def _control(self, method: str, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        cycle = re.fullmatch(r"/_sim/subscriptions/([^/]+)/next-cycle", path)
        if method == "POST" and cycle is not None:
            with self._lock:
                for account in self._accounts.values():
                    if cycle.group(1) in account.subscriptions:
                        payment = self.next_cycle(account, account.subscriptions[cycle.group(1)])
                        self._save()
                        return 200, payment, {}
            return 404, _error("not_found", "Assinatura não encontrada."), {}
        match = re.fullmatch(r"/_sim/payments/([^/]+)/(pay|overdue)", path)
        if method != "POST" or match is None:
            return 404, _error("not_found", "controle desconhecido"), {}
        payment_id, action = match.groups()
        with self._lock:
            found = [(a, a.payments[payment_id]) for a in self._accounts.values() if payment_id in a.payments]
            if not found:
                return 404, _error("not_found", "Cobrança não encontrada."), {}
            account, payment = found[0]
            if action == "pay":
                self.pay(account, payment, value=(body or {}).get("value"))
            else:
                self.overdue(account, payment, days=int((body or {}).get("days") or 1))
            self._save()
        return 200, payment, {}

    def pay(self, account: Account, payment: dict[str, Any], *, value: float | None = None) -> None:
        today = _now().date().isoformat()
        if value is not None:
            payment["value"] = value
        payment.update(
            confirmedDate=today,
            paymentDate=today,
            clientPaymentDate=today,
            creditDate=today,
            estimatedCreditDate=today,
            transactionReceiptUrl=f"https://sandbox.asaas.com/comprovantes/{secrets.randbelow(10**16):016d}",
        )
        if payment["billingType"] == "CREDIT_CARD":
            payment["status"] = "CONFIRMED"
            self._fire(account, "PAYMENT_CONFIRMED", payment)
        payment["status"] = "RECEIVED"  # PIX and boleto: RECEIVED only, never CONFIRMED
        self._fire(account, "PAYMENT_RECEIVED", payment)
        subscription = account.subscriptions.get(str(payment.get("subscription")))
        if subscription is not None and not any(
            p.get("subscription") == subscription["id"] and p["status"] in ("PENDING", "OVERDUE")
            for p in account.payments.values()
        ):
            self.next_cycle(account, subscription)  # the next month's payment, as Asaas generates it

    def overdue(self, account: Account, payment: dict[str, Any], *, days: int = 1) -> None:
        """The payment unpaid ``days`` days after its due date (the due date moves back when needed,
        standing in for the calendar)."""
        latest = _now().date() - timedelta(days=days)
        if date.fromisoformat(payment["dueDate"]) > latest:
            payment["dueDate"] = payment["originalDueDate"] = latest.isoformat()
        payment["status"] = "OVERDUE"
        self._fire(account, "PAYMENT_OVERDUE", payment)

    def overdue_by_id(self, payment_id: str, *, days: int = 1) -> None:
        with self._lock:
            for account in self._accounts.values():
                if payment_id in account.payments:
                    self.overdue(account, account.payments[payment_id], days=days)
                    return
        raise KeyError(payment_id)

    def pay_by_id(self, payment_id: str, *, value: float | None = None) -> None:
        with self._lock:
            for account in self._accounts.values():
                if payment_id in account.payments:
                    self.pay(account, account.payments[payment_id], value=value)
                    return
        raise KeyError(payment_id)

    def payment(self, payment_id: str) -> dict[str, Any]:
        for account in self._accounts.values():
            if payment_id in account.payments:
                return account.payments[payment_id]
        raise KeyError(payment_id)

    def _fire(self, account: Account, event: str, payment: dict[str, Any]) -> None:
        for hook in account.webhooks:
            if not hook.get("enabled", True) or event not in hook.get("events", [event]):
                continue
            envelope = {
                "id": f"evt_{secrets.token_hex(16)}&{secrets.randbelow(10**9)}",
                "event": event,
                "dateCreated": _now().strftime("%Y-%m-%d %H:%M:%S"),
                "payment": dict(payment),
            }
            body = json.dumps(envelope).encode()
            status = self._deliver(hook["url"], hook.get("authToken", ""), body)
            self.deliveries.append(
                {"url": hook["url"], "event": event, "envelope": envelope, "status": status}
            )


_PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
_PIX_PREFIX = "00020101021226820014br.gov.bcb.pix2560qrpix.simulador.asaas/"
_PIX_SUFFIX = "5204000053039865802BR5913ASSISTEC6009SAO PAULO6304ABCD"


def _add_month(day: date) -> date:
    month = day.month % 12 + 1
    year = day.year + (day.month == 12)
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError(day)


def _error(code: str, description: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "description": description}]}


def _matches(item: dict[str, Any], params: dict[str, str]) -> bool:
    reference = params.get("externalReference")
    paid_since = params.get("paymentDate[ge]")
    if reference is not None and item.get("externalReference") != reference:
        return False
    return paid_since is None or bool(item.get("paymentDate") and item["paymentDate"] >= paid_since)


def _page(items: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
    offset, limit = int(params.get("offset", 0)), int(params.get("limit", 10))
    chunk = items[offset : offset + limit]
    return {
        "object": "list",
        "hasMore": offset + limit < len(items),
        "totalCount": len(items),
        "limit": limit,
        "offset": offset,
        "data": chunk,
    }


__all__ = ["AsaasSimulator", "date"]
