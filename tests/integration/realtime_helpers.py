"""The staff's WebSocket driven in-process: the local gateway stand-in (localstack/ws_gateway) in
front of a test double of Lambda's Invoke API whose functions are the real handlers
(handlers/realtime.py) against the test's PostgreSQL; clients are ``websockets``' own.

One Lambda environment runs one event at a time: the handlers share one composition root (one
database connection), so the double runs them one at a time too."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from ws_gateway import GatewayConfig, RunningGateway, start

from tests.conftest import LambdaContext, PgDatabase
from tests.integration.ws_gateway.fake_lambda import FakeLambda

SOCKET = "assistec-test-Realtime"  # the one function of the three triggers (handlers/realtime.handler)


@dataclass
class RealtimeStack:
    gateway: RunningGateway
    lock: threading.Lock

    @property
    def url(self) -> str:
        return self.gateway.ws_url()

    def push(self, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
        """What EventBridge hands the push function for a domain event."""
        from assistec.handlers import realtime

        event = {
            "version": "0",
            "id": "5b1c0a8e-0000-4000-8000-000000000000",
            "detail-type": detail_type,
            "source": "assistec.orders",
            "account": "111111111111",
            "time": "2026-11-30T01:00:00Z",
            "region": "sa-east-1",
            "resources": [],
            "detail": detail,
        }
        with self.lock:
            return realtime.handler(event, LambdaContext(function_name=SOCKET))


def configure_realtime(
    monkeypatch: pytest.MonkeyPatch, database: PgDatabase, management_url: str | None
) -> None:
    from assistec.wiring import realtime as wiring

    for name in ("DB_SECRET_ID",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STAGE", "test")
    monkeypatch.setenv("DATABASE_URL", database.app_url)
    monkeypatch.setenv("DB_SSLMODE", "disable")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AssistecTest")
    from assistec.observability import metrics

    monkeypatch.setattr(metrics.provider, "namespace", "AssistecTest")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    if management_url:
        monkeypatch.setenv("REALTIME_MANAGEMENT_URL", management_url)
    else:
        monkeypatch.delenv("REALTIME_MANAGEMENT_URL", raising=False)
    wiring.install(None)


@pytest.fixture
def realtime_stack(monkeypatch: pytest.MonkeyPatch, database: PgDatabase) -> Iterator[RealtimeStack]:
    # Before the package's Metrics is first built (on import), as the API's tests do; and on the
    # built one too (another test of this worker may have imported it without the variable).
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AssistecTest")
    from assistec.observability import metrics

    monkeypatch.setattr(metrics.provider, "namespace", "AssistecTest")
    from assistec.handlers import realtime
    from assistec.wiring import realtime as wiring

    fake = FakeLambda()
    lock = threading.Lock()

    def socket(event: dict[str, Any]) -> Any:
        with lock:
            return realtime.handler(event, LambdaContext(function_name=SOCKET))

    fake.handlers[SOCKET] = socket
    config = GatewayConfig.model_validate(
        {
            "lambda_endpoint": fake.url,
            "integration_timeout_s": 20,
            "apis": [
                {
                    "api_id": "realtime",
                    "stage": "v1",
                    "routes": {
                        "$connect": {"function": SOCKET},
                        "$disconnect": {"function": SOCKET},
                        "$default": {"function": SOCKET, "two_way": True},
                    },
                }
            ],
        }
    )
    gateway = start(config)
    configure_realtime(monkeypatch, database, gateway.management_url())
    try:
        yield RealtimeStack(gateway, lock)
    finally:
        gateway.stop()
        fake.close()
        wiring.install(None)


async def receive_json(ws: Any, timeout: float = 10) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))


async def nothing_more(ws: Any, wait: float = 0.3) -> bool:
    """True when no message arrives within ``wait`` seconds."""
    try:
        await asyncio.wait_for(ws.recv(), wait)
    except TimeoutError:
        return True
    return False
