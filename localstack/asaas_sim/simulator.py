"""The simulator: per-API-key accounts behind one entry point (``handle``), reached through an httpx
transport in tests or the HTTP server (``python -m asaas_sim``), plus the calls tests make directly."""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import httpx

from asaas_sim import control, customers, payments, state, subscriptions, webhooks
from asaas_sim.answers import Answer, error
from asaas_sim.state import Account
from asaas_sim.webhooks import Deliver


class AsaasSimulator:
    def __init__(self, deliver: Deliver = webhooks.http_deliver, state_file: Path | None = None) -> None:
        self._state_file = state_file
        self._accounts: dict[str, Account] = state.load(state_file)
        self._lock = threading.Lock()
        self._deliver = deliver
        self.deliveries: list[dict[str, Any]] = []  # what was sent, with our endpoint's answer
        self.fail_next: list[int] = []  # statuses to answer instead, once each (429/5xx tests)
        # Slow answers: each /v3 call waits this long before it is carried out (outside the lock,
        # so concurrent calls overlap as they would at Asaas).
        self.delay_s = 0.0
        # Answers lost after the work was done, once each: "POST /payments", "POST /payments/*/refund"
        # (fnmatch on the path without /v3). The transport raises httpx.ReadTimeout; the HTTP server
        # drops the connection. What a client sees when Asaas created something and the answer died.
        self.lose_answers: list[str] = []
        # The latest /v3 calls carried out, (method, path), for tests (bounded: the local stack's
        # simulator runs for days)
        self.requests: deque[tuple[str, str]] = deque(maxlen=10_000)
        # Refunds wait for the bank (REFUND_IN_PROGRESS until ``refunded_by_id`` or
        # POST /_sim/payments/{id}/refunded); off: a refund is REFUNDED at once.
        self.refunds_in_progress = False

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
        if self.answer_lost(request.method, request.url.path):
            raise httpx.ReadTimeout("simulated: the answer was lost after the work was done", request=request)
        return httpx.Response(status, json=answer, headers=headers)

    def answer_lost(self, method: str, path: str) -> bool:
        """Whether this call's answer is to be lost (and, if so, one fewer to lose)."""
        call = f"{method} {re.sub(r'^/(api/)?v3', '', path)}"
        with self._lock:
            for i, pattern in enumerate(self.lose_answers):
                if fnmatch.fnmatchcase(call, pattern):
                    del self.lose_answers[i]
                    return True
        return False

    def handle(
        self, method: str, path: str, params: dict[str, str], body: Any, api_key: str | None
    ) -> Answer:
        path = re.sub(r"^/(api/)?v3", "", path)
        if path.startswith("/_sim/"):
            return self._control(method, path, body)
        if self.delay_s > 0:
            time.sleep(self.delay_s)
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
            self.requests.append((method, path))
            account = self._accounts.setdefault(api_key, Account())
            answer = self._route(account, method, path, params, body or {})
            if method != "GET":
                self._save()
            return answer

    def _save(self) -> None:
        state.save(self._state_file, self._accounts)

    def _route(
        self, account: Account, method: str, path: str, params: dict[str, str], body: dict[str, Any]
    ) -> Answer:
        resource, *rest = [p for p in path.split("/") if p] or [""]
        answer: Answer | None = None
        if resource == "customers":
            answer = customers.route(account, method, rest, params, body)
        elif resource == "payments":
            answer = payments.route(
                account, method, rest, params, body, self._fire, refund_later=self.refunds_in_progress
            )
        elif resource == "subscriptions":
            answer = subscriptions.route(account, method, rest, params, body, self._fire)
        elif resource == "webhooks":
            answer = webhooks.route(account, method, rest, params, body)
        return answer or (404, error("not_found", f"Rota não simulada: {method} {path}"), {})

    def _fire(self, account: Account, event: str, payment: dict[str, Any]) -> None:
        webhooks.fire(account, event, payment, deliver=self._deliver, deliveries=self.deliveries)

    # --- control: what the customer and the bank do --------------------------------------------
    def _control(self, method: str, path: str, body: Any) -> Answer:
        if method == "POST" and path == "/_sim/behaviour":
            # The local stack's knobs: {"delay_s": 2.5, "lose_answers": ["POST /payments"]}
            self.delay_s = float((body or {}).get("delay_s") or 0.0)
            self.lose_answers = [str(p) for p in (body or {}).get("lose_answers") or []]
            return 200, {"delay_s": self.delay_s, "lose_answers": list(self.lose_answers)}, {}
        cycle = re.fullmatch(r"/_sim/subscriptions/([^/]+)/next-cycle", path)
        if method == "POST" and cycle is not None:
            with self._lock:
                for account in self._accounts.values():
                    if cycle.group(1) in account.subscriptions:
                        payment = self.next_cycle(account, account.subscriptions[cycle.group(1)])
                        self._save()
                        return 200, payment, {}
            return 404, error("not_found", "Assinatura não encontrada."), {}
        match = re.fullmatch(r"/_sim/payments/([^/]+)/(pay|overdue|refunded)", path)
        if method != "POST" or match is None:
            return 404, error("not_found", "controle desconhecido"), {}
        payment_id, action = match.groups()
        with self._lock:
            found = [(a, a.payments[payment_id]) for a in self._accounts.values() if payment_id in a.payments]
            if not found:
                return 404, error("not_found", "Cobrança não encontrada."), {}
            account, payment = found[0]
            if action == "pay":
                self.pay(account, payment, value=(body or {}).get("value"))
            elif action == "refunded":
                if not control.refunded(account, payment, self._fire):
                    return 400, error("invalid_action", "Não há estorno em andamento."), {}
            else:
                self.overdue(account, payment, days=int((body or {}).get("days") or 1))
            self._save()
        return 200, payment, {}

    def next_cycle(self, account: Account, subscription: dict[str, Any]) -> dict[str, Any]:
        """The subscription's payment for its next due date; the due date moves one cycle on."""
        return subscriptions.next_cycle(account, subscription, self._fire)

    def pay(self, account: Account, payment: dict[str, Any], *, value: float | None = None) -> None:
        control.pay(account, payment, self._fire, value=value)

    def overdue(self, account: Account, payment: dict[str, Any], *, days: int = 1) -> None:
        """The payment unpaid ``days`` days after its due date (the due date moves back when needed,
        standing in for the calendar)."""
        control.overdue(account, payment, self._fire, days=days)

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

    def refunded_by_id(self, payment_id: str) -> None:
        """The bank finished the payment's refund in progress (REFUNDED, PAYMENT_REFUNDED)."""
        with self._lock:
            for account in self._accounts.values():
                if payment_id in account.payments:
                    if not control.refunded(account, account.payments[payment_id], self._fire):
                        raise ValueError(f"no refund in progress for {payment_id}")
                    return
        raise KeyError(payment_id)

    def payment(self, payment_id: str) -> dict[str, Any]:
        for account in self._accounts.values():
            if payment_id in account.payments:
                return account.payments[payment_id]
        raise KeyError(payment_id)
