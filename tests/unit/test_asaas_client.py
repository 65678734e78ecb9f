"""The Asaas client against Asaas's answer shapes (respx): headers, retries honouring the
rate-limit headers, errors. Payloads from tests/fixtures/asaas (real deliveries and docs)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from assistec import __version__
from assistec.integrations.asaas import AsaasClient, AsaasError

BASE = "https://api-sandbox.asaas.com/v3"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asaas"
PAYMENT = json.loads((FIXTURES / "payment_received_boleto__sandbox_capture.json").read_text())["payment"]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> AsaasClient:
    return AsaasClient("$aact_test_key_123456789", environment="sandbox", sleep=sleeps.append)


@respx.mock
def test_sends_the_key_and_our_user_agent_and_reads_the_payment(client: AsaasClient) -> None:
    route = respx.get(f"{BASE}/payments/{PAYMENT['id']}").mock(return_value=httpx.Response(200, json=PAYMENT))
    payment = client.get_payment(PAYMENT["id"])
    assert payment["status"] == "RECEIVED"
    assert payment["value"] == 42.23
    request = route.calls.last.request
    assert request.headers["access_token"] == "$aact_test_key_123456789"
    assert request.headers["user-agent"] == f"assistec/{__version__}"


@respx.mock
def test_production_has_its_own_base_url() -> None:
    route = respx.get("https://api.asaas.com/v3/payments/pay_1").mock(
        return_value=httpx.Response(200, json=PAYMENT)
    )
    AsaasClient("$aact_prod_key_123456789", environment="production").get_payment("pay_1")
    assert route.called


@respx.mock
def test_429_waits_what_the_ratelimit_headers_say_then_succeeds(
    client: AsaasClient, sleeps: list[float]
) -> None:
    respx.get(f"{BASE}/payments/pay_1").mock(
        side_effect=[
            httpx.Response(429, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "3"}, json={}),
            httpx.Response(429, headers={"Retry-After": "1"}, json={}),
            httpx.Response(200, json=PAYMENT),
        ]
    )
    assert client.get_payment("pay_1")["id"] == PAYMENT["id"]
    assert sleeps == [3.0, 1.0]


@respx.mock
def test_5xx_and_network_errors_back_off_and_give_up_with_an_error(
    client: AsaasClient, sleeps: list[float]
) -> None:
    respx.post(f"{BASE}/payments").mock(
        side_effect=[
            httpx.ConnectError("boom"),
            httpx.Response(502),
            httpx.Response(503),
            httpx.Response(500),
        ]
    )
    with pytest.raises(AsaasError) as caught:
        client.create_payment({"customer": "cus_1"})
    assert caught.value.status == 500
    assert caught.value.retryable
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[1] < sleeps[2] <= 8.0


@respx.mock
def test_a_4xx_is_not_retried_and_carries_asaass_errors(client: AsaasClient, sleeps: list[float]) -> None:
    errors = {
        "errors": [
            {"code": "invalid_value", "description": "O valor da cobrança deve ser maior que R$ 5,00."}
        ]
    }
    respx.post(f"{BASE}/payments").mock(return_value=httpx.Response(400, json=errors))
    with pytest.raises(AsaasError) as caught:
        client.create_payment({"value": 1})
    assert caught.value.status == 400
    assert not caught.value.retryable
    assert caught.value.errors == errors["errors"]
    assert "R$ 5,00" in str(caught.value)
    assert sleeps == []


@respx.mock
def test_lookups_by_external_reference_skip_deleted_payments(client: AsaasClient) -> None:
    deleted = {**PAYMENT, "id": "pay_old", "deleted": True}
    route = respx.get(f"{BASE}/payments").mock(
        return_value=httpx.Response(200, json={"object": "list", "hasMore": False, "data": [deleted]})
    )
    assert client.find_payment("assistec:o:1") is None
    assert route.calls.last.request.url.params["externalReference"] == "assistec:o:1"
