"""Asaas API v3 over httpx: auth headers, timeouts, retries that honour the rate-limit headers, and
Asaas's ``{"errors": [...]}`` turned into ``AsaasError``.

Two kinds of account use it: the platform's (the shops' subscriptions) and each shop's own (its
customers' charges), each with its own API key. Only the endpoints assistec calls are here.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from assistec import __version__

if TYPE_CHECKING:
    import httpx

BASE_URLS = {
    "sandbox": "https://api-sandbox.asaas.com/v3",
    "production": "https://api.asaas.com/v3",
}
Environment = Literal["sandbox", "production"]
_RETRYABLE = {429, 500, 502, 503, 504}


@dataclass
class AsaasError(Exception):
    """Asaas refused the call (4xx with its error list) or stayed unavailable after the retries."""

    status: int
    errors: list[dict[str, str]]

    def __str__(self) -> str:
        described = "; ".join(f"{e.get('code', '?')}: {e.get('description', '')}" for e in self.errors)
        return f"Asaas answered {self.status}: {described or 'no details'}"

    @property
    def retryable(self) -> bool:
        return self.status in _RETRYABLE or self.status == 0


def _wait_s(response: httpx.Response, attempt: int, *, cap_s: float) -> float:
    """How long to wait before the next try: the server's word first, then exponential backoff."""
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
        return max(0.0, min(seconds, cap_s))
    return float(min(cap_s, 0.5 * 2.0**attempt + random.uniform(0, 0.25)))  # noqa: S311 - jitter, not crypto


class AsaasClient:
    def __init__(
        self,
        api_key: str,
        *,
        environment: Environment = "sandbox",
        base_url: str | None = None,
        timeout_s: float = 10.0,
        max_attempts: int = 4,
        max_wait_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
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
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            transport=transport,
        )
        self._max_attempts = max_attempts
        self._max_wait_s = max_wait_s
        self._sleep = sleep

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

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """One call, retried on 429/5xx and network errors (every call we make is idempotent or
        guarded by an externalReference lookup)."""
        import httpx

        last: AsaasError | None = None
        for attempt in range(self._max_attempts):
            try:
                response = self._http.request(method, path, json=json, params=params)
            except httpx.TransportError as exc:
                last = AsaasError(0, [{"code": "network", "description": type(exc).__name__}])
                if attempt + 1 < self._max_attempts:
                    self._sleep(min(self._max_wait_s, 0.5 * 2**attempt))
                continue
            if response.status_code < 400:
                return response.json() if response.content else {}
            last = AsaasError(response.status_code, _errors(response))
            if response.status_code not in _RETRYABLE:
                raise last
            if attempt + 1 < self._max_attempts:
                self._sleep(_wait_s(response, attempt, cap_s=self._max_wait_s))
        assert last is not None
        raise last

    # --- customers -----------------------------------------------------------------------------
    def find_customer(self, external_reference: str) -> dict[str, Any] | None:
        found = self.request(
            "GET", "/customers", params={"externalReference": external_reference, "limit": 1}
        )
        data = found.get("data") or []
        return data[0] if data else None

    def create_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", "/customers", json=body))

    # --- payments ------------------------------------------------------------------------------
    def find_payment(self, external_reference: str) -> dict[str, Any] | None:
        found = self.request("GET", "/payments", params={"externalReference": external_reference, "limit": 1})
        data = [p for p in found.get("data") or [] if not p.get("deleted")]
        return data[0] if data else None

    def create_payment(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", "/payments", json=body))

    def get_payment(self, payment_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/payments/{payment_id}"))

    def pix_qr_code(self, payment_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/payments/{payment_id}/pixQrCode"))

    def identification_field(self, payment_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/payments/{payment_id}/identificationField"))

    def delete_payment(self, payment_id: str) -> dict[str, Any]:
        return dict(self.request("DELETE", f"/payments/{payment_id}"))

    def refund_payment(self, payment_id: str, value: float | None = None) -> dict[str, Any]:
        return dict(
            self.request("POST", f"/payments/{payment_id}/refund", json={"value": value} if value else {})
        )

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
        return dict(self.request("POST", "/subscriptions", json=body))

    def get_subscription(self, subscription_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/subscriptions/{subscription_id}"))

    def update_subscription(self, subscription_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", f"/subscriptions/{subscription_id}", json=body))

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
    def create_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", "/webhooks", json=body))


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
