"""Asaas API v3 over httpx: auth headers, timeouts, retries that honour the rate-limit headers, and
Asaas's ``{"errors": [...]}`` turned into ``AsaasError``.

Two kinds of account use it: the platform's (the shops' subscriptions) and each shop's own (its
customers' charges), each with its own API key. Only the endpoints assistec calls are here.

What is retried, and how long it may take:

- Reads (GET) and calls that only set state (DELETE, a subscription's update) are retried on 429,
  5xx and network errors.
- Calls that create (customers, payments, subscriptions, webhooks) are sent once. A 429 and a
  connection never made are retried (Asaas did nothing). After an ambiguous failure (a timeout or a
  dropped connection after the request went out, a 5xx) the object is looked up by its
  externalReference (a webhook by its URL) and sent again only when Asaas does not have it.
- A refund is never sent twice: after an ambiguous failure the payment is read back, and either it
  shows the refund or the failure is raised (``ambiguous``) for the caller to decide.
- Time budget: every operation (one call, or a create with its lookups) runs under a deadline of
  ``budget_s`` (8 s by default); a use case may put several operations under one ``deadline()``.
  Each try waits at most ``timeout_s`` (4 s; connecting 2 s) and never past the deadline, and
  backoff waits that would cross it give up instead. The API function's timeout is 15 s
  (infra FunctionSpec), API Gateway's 29 s: a request spends at most 8 s on Asaas, leaving the rest
  for the database and the answer.
"""

from __future__ import annotations

import json as jsonlib
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from assistec import __version__
from assistec.domain.payments import reais
from assistec.integrations.deadline import Deadline

if TYPE_CHECKING:
    import httpx

BASE_URLS = {
    "sandbox": "https://api-sandbox.asaas.com/v3",
    "production": "https://api.asaas.com/v3",
}
Environment = Literal["sandbox", "production"]
_RETRYABLE = {429, 500, 502, 503, 504}
# The payment statuses that show a refund Asaas has taken (requested, under way or done).
REFUND_STATUSES = frozenset({"REFUND_REQUESTED", "REFUND_IN_PROGRESS", "REFUNDED"})
BUDGET_S = 8.0  # what one API request may spend on Asaas (the API function's timeout is 15 s)
_MIN_TRY_S = 0.05  # a try with less time left than this is not started

_deadline = Deadline("asaas_deadline")  # this provider's, per thread/context


@dataclass
class AsaasError(Exception):
    """Asaas refused the call (4xx with its error list) or stayed unavailable after the retries.
    ``ambiguous``: the request may have been carried out (a timeout after sending it, a 5xx)."""

    status: int
    errors: list[dict[str, str]]
    ambiguous: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        described = "; ".join(f"{e.get('code', '?')}: {e.get('description', '')}" for e in self.errors)
        return f"Asaas answered {self.status}: {described or 'no details'}"

    @property
    def retryable(self) -> bool:
        return self.status in _RETRYABLE or self.status == 0


def _wait_s(response: httpx.Response, attempt: int, *, cap_s: float) -> float:
    """How long to wait before the next try: the server's word first (not shortened: a wait that
    does not fit the deadline gives up instead), then exponential backoff up to ``cap_s``."""
    for header in ("retry-after", "ratelimit-reset"):
        value = response.headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        if seconds > 1e9:  # an epoch timestamp rather than a delay
            seconds -= time.time()
        return max(0.0, seconds)
    return _backoff_s(attempt, cap_s)


def _backoff_s(attempt: int, cap_s: float) -> float:
    return float(min(cap_s, 0.5 * 2.0**attempt + random.uniform(0, 0.25)))  # noqa: S311 - jitter, not crypto


def _network_error(exc: Exception, *, ambiguous: bool) -> AsaasError:
    return AsaasError(0, [{"code": "network", "description": type(exc).__name__}], ambiguous=ambiguous)


def encode_json(value: Any) -> bytes:
    """JSON with ``Decimal`` written as the exact number it is (``Decimal("19.90")`` → ``19.90``):
    money goes to Asaas from centavos without passing through a float."""
    return _encode(value).encode()


def _encode(value: Any) -> str:
    if isinstance(value, float):
        # Every number we send is money or a count: a float here is a centavos value that took a
        # detour (price_cents / 100). Refused, so the detour shows up in tests, not in a bill.
        raise TypeError(f"no float goes to Asaas ({value!r}): send domain.payments.reais(centavos)")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a JSON number: {value}")
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{jsonlib.dumps(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    return jsonlib.dumps(value, ensure_ascii=False)


class AsaasClient:
    def __init__(
        self,
        api_key: str,
        *,
        environment: Environment = "sandbox",
        base_url: str | None = None,
        timeout_s: float = 4.0,
        connect_timeout_s: float = 2.0,
        max_attempts: int = 4,
        max_wait_s: float = 2.0,
        budget_s: float = BUDGET_S,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx  # ~45 ms: paid by the first request that talks to Asaas, not by every cold start

        self._http = httpx.Client(
            base_url=base_url or BASE_URLS[environment],
            headers={
                "access_token": api_key,
                "User-Agent": f"assistec/{__version__}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, connect_timeout_s)),
            transport=transport,
        )
        self._timeout_s = timeout_s
        self._connect_timeout_s = min(timeout_s, connect_timeout_s)
        self._max_attempts = max_attempts
        self._max_wait_s = max_wait_s
        self._budget_s = budget_s
        self._sleep = sleep
        self._clock = clock

    @classmethod
    def for_account(cls, environment: str, api_key: str, *, base_url: str | None = None) -> AsaasClient:
        """The client of an account stored with its environment ("production", else sandbox);
        ``base_url`` replaces Asaas's own (the offline simulator, locally)."""
        return cls(
            api_key,
            environment="production" if environment == "production" else "sandbox",
            base_url=base_url,
        )

    def close(self) -> None:
        self._http.close()

    # --- time budget ---------------------------------------------------------------------------
    def deadline(self, budget_s: float | None = None) -> AbstractContextManager[None]:
        """Every call inside the block shares one deadline, ``budget_s`` (default: the client's
        budget) from now; inside another deadline the earlier one holds."""
        return _deadline.within(self._clock, self._budget_s if budget_s is None else budget_s)

    def _remaining_s(self) -> float:
        return _deadline.remaining_s(self._clock)

    def _out_of_time(self, last: AsaasError | None) -> AsaasError:
        return last or AsaasError(0, [{"code": "deadline", "description": "Asaas time budget spent"}])

    # --- one call ------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One call within the deadline. Retried on 429 and on a connection never made; on 5xx and
        on network errors after sending only when ``idempotent`` (default: GET and DELETE), else
        raised with ``ambiguous`` set (see ``create``)."""
        import httpx

        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "DELETE")
        content = encode_json(json) if json is not None else None
        with self.deadline():
            last: AsaasError | None = None
            for attempt in range(self._max_attempts):
                remaining = self._remaining_s()
                if remaining < _MIN_TRY_S:
                    raise self._out_of_time(last)
                timeout = httpx.Timeout(
                    min(self._timeout_s, remaining), connect=min(self._connect_timeout_s, remaining)
                )
                try:
                    response = self._http.request(
                        method, path, content=content, params=params, timeout=timeout
                    )
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                    last = _network_error(exc, ambiguous=False)  # never sent: Asaas did nothing
                    wait = _backoff_s(attempt, self._max_wait_s)
                except httpx.TransportError as exc:
                    last = _network_error(exc, ambiguous=not idempotent)
                    if not idempotent:
                        raise last from exc
                    wait = _backoff_s(attempt, self._max_wait_s)
                else:
                    if response.status_code < 400:
                        return response.json() if response.content else {}
                    last = AsaasError(response.status_code, _errors(response))
                    if response.status_code not in _RETRYABLE:
                        raise last
                    if response.status_code != 429 and not idempotent:
                        last.ambiguous = True  # a 5xx may come after the work was done
                        raise last
                    wait = _wait_s(response, attempt, cap_s=self._max_wait_s)
                if attempt + 1 >= self._max_attempts or wait + _MIN_TRY_S > self._remaining_s():
                    break
                self._sleep(wait)
            raise self._out_of_time(last)

    def create(
        self, path: str, body: dict[str, Any], *, find: Callable[[], dict[str, Any] | None] | None
    ) -> dict[str, Any]:
        """Create something at most once: sent once; after an ambiguous failure ``find`` looks it up
        (by our reference) and the creation is sent again only when Asaas does not have it. Without
        ``find`` an ambiguous failure is raised. All of it within one deadline."""
        with self.deadline():
            for attempt in range(self._max_attempts):
                try:
                    return dict(self.request("POST", path, json=body))
                except AsaasError as exc:
                    if not exc.ambiguous or find is None:
                        raise
                    try:
                        found = find()  # a read: retried on its own
                    except AsaasError:
                        raise exc from None  # still unknown whether Asaas made it
                    if found is not None:
                        return found
                    wait = _backoff_s(attempt, self._max_wait_s)
                    if attempt + 1 >= self._max_attempts or wait + _MIN_TRY_S > self._remaining_s():
                        raise
                    self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- customers -----------------------------------------------------------------------------
    def find_customer(self, external_reference: str) -> dict[str, Any] | None:
        found = self.request(
            "GET", "/customers", params={"externalReference": external_reference, "limit": 1}
        )
        data = [c for c in found.get("data") or [] if not c.get("deleted")]
        return data[0] if data else None

    def create_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a customer once (see ``create``: looked up by its externalReference after an
        ambiguous failure)."""
        reference = body.get("externalReference")
        return self.create(
            "/customers", body, find=(lambda: self.find_customer(reference)) if reference else None
        )

    def find_or_create_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        """The customer Asaas has under ``body``'s externalReference, else a new one (created once)."""
        with self.deadline():
            return self.find_customer(body["externalReference"]) or self.create_customer(body)

    # --- payments ------------------------------------------------------------------------------
    def find_payment(self, external_reference: str) -> dict[str, Any] | None:
        found = self.request("GET", "/payments", params={"externalReference": external_reference, "limit": 1})
        data = [p for p in found.get("data") or [] if not p.get("deleted")]
        return data[0] if data else None

    def create_payment(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a payment once (see ``create``: looked up by its externalReference after an
        ambiguous failure). ``value`` as ``Decimal`` (``domain.payments.reais``)."""
        reference = body.get("externalReference")
        return self.create(
            "/payments", body, find=(lambda: self.find_payment(reference)) if reference else None
        )

    def find_or_create_payment(self, body: dict[str, Any]) -> dict[str, Any]:
        """The payment Asaas has under ``body``'s externalReference, else a new one (created once)."""
        with self.deadline():
            return self.find_payment(body["externalReference"]) or self.create_payment(body)

    def get_payment(self, payment_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/payments/{payment_id}"))

    def pix_qr_code(self, payment_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/payments/{payment_id}/pixQrCode"))

    def identification_field(self, payment_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/payments/{payment_id}/identificationField"))

    def delete_payment(self, payment_id: str) -> dict[str, Any]:
        return dict(self.request("DELETE", f"/payments/{payment_id}"))

    def refund_payment(self, payment_id: str, value_cents: int | None = None) -> dict[str, Any]:
        """Ask Asaas to refund the payment (all of it, or ``value_cents``); the payment as Asaas has
        it then. Sent once, never again: after an ambiguous failure the payment is read back and
        returned when it shows the refund (``refund_recorded``); otherwise the failure is raised
        with ``ambiguous`` set, and whoever retries reads the payment first."""
        body = {"value": reais(value_cents)} if value_cents else {}
        with self.deadline():
            try:
                answer = dict(self.request("POST", f"/payments/{payment_id}/refund", json=body))
            except AsaasError as exc:
                if not exc.ambiguous:
                    raise
                try:
                    payment = self.get_payment(payment_id)
                except AsaasError:
                    raise exc from None  # still unknown whether Asaas took it
                if refund_recorded(payment):
                    return payment
                raise
            return answer

    def list_payments(self, **params: Any) -> dict[str, Any]:
        return dict(self.request("GET", "/payments", params=params))

    # --- subscriptions (the platform account: the shops' monthly fee) --------------------------
    def find_subscription(self, external_reference: str) -> dict[str, Any] | None:
        found = self.request(
            "GET", "/subscriptions", params={"externalReference": external_reference, "limit": 1}
        )
        data = [s for s in found.get("data") or [] if not s.get("deleted")]
        return data[0] if data else None

    def create_subscription(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a subscription once (see ``create``: looked up by its externalReference after an
        ambiguous failure)."""
        reference = body.get("externalReference")
        return self.create(
            "/subscriptions", body, find=(lambda: self.find_subscription(reference)) if reference else None
        )

    def get_subscription(self, subscription_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/subscriptions/{subscription_id}"))

    def update_subscription(self, subscription_id: str, body: dict[str, Any]) -> dict[str, Any]:
        # Sets values (the same ones again on a retry): safe to repeat.
        return dict(self.request("POST", f"/subscriptions/{subscription_id}", json=body, idempotent=True))

    def delete_subscription(self, subscription_id: str) -> dict[str, Any]:
        return dict(self.request("DELETE", f"/subscriptions/{subscription_id}"))

    def subscription_payments(self, subscription_id: str) -> list[dict[str, Any]]:
        """Every payment of the subscription (all pages)."""
        payments: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.request(
                "GET", f"/subscriptions/{subscription_id}/payments", params={"offset": offset, "limit": 100}
            )
            data = page.get("data") or []
            payments.extend(data)
            if not page.get("hasMore") or not data:
                return payments
            offset += len(data)

    # --- webhooks ------------------------------------------------------------------------------
    def find_webhook(self, url: str) -> dict[str, Any] | None:
        """The account's webhook posting to ``url`` (all pages looked at), or None."""
        offset = 0
        while True:
            page = self.request("GET", "/webhooks", params={"offset": offset, "limit": 100})
            data = page.get("data") or []
            for hook in data:
                if hook.get("url") == url:
                    return dict(hook)
            if not page.get("hasMore") or not data:
                return None
            offset += len(data)

    def create_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a webhook once: after an ambiguous failure the account's webhooks are looked
        up by ``url`` and it is sent again only when it is not there."""
        return self.create("/webhooks", body, find=lambda: self.find_webhook(str(body["url"])))

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        """Remove a webhook from the account (safe to repeat: a second try finds it gone, 404)."""
        return dict(self.request("DELETE", f"/webhooks/{webhook_id}"))


def refund_recorded(payment: dict[str, Any]) -> bool:
    """Asaas has taken a refund of this payment (requested, under way or done, or listed)."""
    return str(payment.get("status") or "") in REFUND_STATUSES or bool(payment.get("refunds"))


def _errors(response: httpx.Response) -> list[dict[str, str]]:
    try:
        body = response.json()
    except ValueError:
        return [{"code": f"http_{response.status_code}", "description": response.text[:200]}]
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        return [
            {"code": str(e.get("code", "")), "description": str(e.get("description", ""))} for e in errors
        ]
    return [{"code": f"http_{response.status_code}", "description": str(body)[:200]}]
