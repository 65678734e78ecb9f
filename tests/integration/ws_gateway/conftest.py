"""The local WebSocket gateway on free ports of 127.0.0.1, in front of a test double of Lambda's
Invoke API whose functions are Python callables of the test; clients are the ``websockets``
library's, the management API is driven by boto3's ``apigatewaymanagementapi`` client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from ws_gateway import GatewayConfig, RunningGateway, start

from tests.integration.ws_gateway.fake_lambda import FakeLambda

StartGateway = Callable[..., RunningGateway]


@pytest.fixture
def fake_lambda() -> Iterator[FakeLambda]:
    fake = FakeLambda()
    yield fake
    fake.close()


@pytest.fixture
def make_gateway(fake_lambda: FakeLambda) -> Iterator[StartGateway]:
    """``make_gateway(routes, **settings)``: one API (stage ``v1``) with ``routes`` (route key →
    function name, or ``(name, two_way)``), served until the test ends."""
    running: list[RunningGateway] = []

    def make(
        routes: dict[str, Any] | None = None, *, apis: list[dict[str, Any]] | None = None, **settings: Any
    ):
        if apis is None:
            apis = [{"api_id": "testapi", "stage": "v1", "routes": _routes(routes or {})}]
        config = GatewayConfig.model_validate(
            {"lambda_endpoint": fake_lambda.url, "integration_timeout_s": 10, **settings, "apis": apis}
        )
        gateway = start(config)
        running.append(gateway)
        return gateway

    yield make
    for gateway in running:
        gateway.stop()


def _routes(routes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for key, target in routes.items():
        name, two_way = target if isinstance(target, tuple) else (target, False)
        out[key] = {"function": name, "two_way": two_way}
    return out


def management_client(endpoint: str) -> Any:
    """boto3's client for the connections, as a push function builds it from its settings."""
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
