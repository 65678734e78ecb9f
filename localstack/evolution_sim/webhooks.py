"""Webhook deliveries as Evolution 2.3.x makes them (webhook.controller.ts): a POST of the envelope
to the instance's URL (``<url>/<event-kebab>`` with ``byEvents``) with its custom headers
(``jwt_key`` replaced by ``Authorization: Bearer <HS256 JWT>``), retried on anything but 2xx and
400/401/403/404/422: up to 10 attempts, waiting 5 s, 10 s, 20 s … capped at 300 s, with ±20 %
jitter (never under 5 s)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

# (url, headers, body) -> the HTTP status our endpoint answered; raises on a network failure
Deliver = Callable[[str, dict[str, str], bytes], int]

MAX_ATTEMPTS = 10
INITIAL_DELAY_S = 5.0
MAX_DELAY_S = 300.0
JITTER = 0.2
NON_RETRYABLE = frozenset({400, 401, 403, 404, 422})
REQUEST_TIMEOUT_S = 30.0  # WEBHOOK_REQUEST_TIMEOUT_MS's default in code


def http_deliver(url: str, headers: dict[str, str], body: bytes) -> int:
    return httpx.post(url, content=body, headers=headers, timeout=REQUEST_TIMEOUT_S).status_code


@dataclass
class Delivery:
    """One event's delivery: where, with which headers, what; each attempt's status (0: no answer)
    and the waits between them."""

    url: str
    headers: dict[str, str]
    envelope: dict[str, Any]
    attempts: list[int] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    delivered: bool = False
    gave_up: bool = False

    @property
    def event(self) -> str:
        return str(self.envelope["event"])


def next_delay_s(failures: int, *, jitter: float = JITTER, rng: Callable[[], float] = random.random) -> float:
    """The wait after the ``failures``-th failed attempt (1-based), as Evolution computes it."""
    delay = min(INITIAL_DELAY_S * 2.0 ** (failures - 1), MAX_DELAY_S)
    delay += delay * jitter * (rng() * 2 - 1)
    return max(INITIAL_DELAY_S, delay)


def target(webhook: dict[str, Any], event: str) -> str:
    """Where ``event`` goes: the URL, or ``<url>/<event-kebab>`` with ``byEvents``."""
    url = str(webhook["url"])
    if webhook.get("webhookByEvents"):
        return f"{url.rstrip('/')}/{event.replace('.', '-').replace('_', '-').lower()}"
    return url


def headers_for(webhook: dict[str, Any], *, now: float | None = None) -> dict[str, str]:
    """The delivery's headers: the custom ones, with ``jwt_key`` turned into a bearer JWT (HS256,
    ``{iat, exp: iat + 600, app: "evolution", action: "webhook"}``) signed with its value."""
    custom = {str(k): str(v) for k, v in (webhook.get("headers") or {}).items()}
    secret = custom.pop("jwt_key", None)
    if secret is not None:
        custom["Authorization"] = f"Bearer {jwt_hs256(secret, now=now)}"
    return {"Content-Type": "application/json", **custom}


def jwt_hs256(secret: str, *, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {"iat": issued, "exp": issued + 600, "app": "evolution", "action": "webhook"}
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def deliver_with_retries(
    delivery: Delivery,
    deliver: Deliver,
    *,
    sleep: Callable[[float], None],
    max_attempts: int = MAX_ATTEMPTS,
    jitter: float = JITTER,
) -> Delivery:
    """Post ``delivery`` until our endpoint takes it (2xx), refuses it for good (a non-retryable
    status) or ``max_attempts`` are spent; every attempt and wait is recorded on it."""
    body = json.dumps(delivery.envelope).encode()
    failures = 0
    while failures < max_attempts:
        try:
            status = deliver(delivery.url, delivery.headers, body)
        except Exception:  # a network failure or a timeout: retried, as axios's rejections are
            status = 0
        delivery.attempts.append(status)
        if 200 <= status < 300:
            delivery.delivered = True
            return delivery
        failures += 1
        if status in NON_RETRYABLE or failures >= max_attempts:
            break
        wait = next_delay_s(failures, jitter=jitter)
        delivery.waits.append(wait)
        sleep(wait)
    delivery.gave_up = True
    return delivery
