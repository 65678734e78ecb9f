"""The Asaas client against Asaas's answer shapes (respx): headers, retries honouring the
rate-limit headers, errors; creations never sent twice after an ambiguous failure, refunds never
sent twice, money sent as exact decimals, and the time budget. Payloads from tests/fixtures/asaas
(real deliveries and docs)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from assistec import __version__
from assistec.domain.payments import cents, reais
from assistec.integrations.asaas import AsaasClient, AsaasError, encode_json

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
def test_reads_back_off_on_5xx_and_network_errors_and_give_up_with_an_error(
    client: AsaasClient, sleeps: list[float]
) -> None:
    # Given Asaas unreachable, then failing
    route = respx.get(f"{BASE}/payments/pay_1").mock(
        side_effect=[
            httpx.ConnectError("boom"),
            httpx.ReadTimeout("slow"),
            httpx.Response(503),
            httpx.Response(500),
        ]
    )
    # When a payment is read
    with pytest.raises(AsaasError) as caught:
        client.get_payment("pay_1")
    # Then every try was made, with growing waits, and the last failure is raised
    assert route.call_count == 4
    assert caught.value.status == 500
    assert caught.value.retryable
    assert not caught.value.ambiguous  # a read changes nothing
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[1] < sleeps[2] <= 2.0


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


def _listing(*items: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"object": "list", "hasMore": False, "data": list(items)})


@respx.mock
def test_a_creation_that_timed_out_is_looked_up_by_its_reference_not_sent_again(
    client: AsaasClient, sleeps: list[float]
) -> None:
    # Given Asaas created the payment but its answer never came back
    created = {**PAYMENT, "id": "pay_made", "externalReference": "assistec:o:1"}
    post = respx.post(f"{BASE}/payments").mock(side_effect=httpx.ReadTimeout("answer lost"))
    lookup = respx.get(f"{BASE}/payments").mock(return_value=_listing(created))
    # When the payment is created
    payment = client.create_payment({"customer": "cus_1", "externalReference": "assistec:o:1"})
    # Then the one Asaas made is found and returned; the creation was sent once
    assert payment["id"] == "pay_made"
    assert post.call_count == 1
    assert lookup.calls.last.request.url.params["externalReference"] == "assistec:o:1"


@respx.mock
def test_a_creation_asaas_does_not_have_after_a_5xx_is_sent_again(client: AsaasClient) -> None:
    # Given a 502 for the creation and nothing under the reference at Asaas
    post = respx.post(f"{BASE}/customers").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json={"id": "cus_new"})]
    )
    lookup = respx.get(f"{BASE}/customers").mock(return_value=_listing())
    # When the customer is created
    customer = client.create_customer({"name": "Ana", "externalReference": "assistec:c:1"})
    # Then it was looked up before being sent again, and made once
    assert customer["id"] == "cus_new"
    assert (post.call_count, lookup.call_count) == (2, 1)


@respx.mock
def test_a_creation_without_a_reference_is_never_resent_after_an_ambiguous_failure(
    client: AsaasClient,
) -> None:
    # Given a 503 for a creation that carries no reference to look it up by
    post = respx.post(f"{BASE}/payments").mock(return_value=httpx.Response(503))
    # When it is created
    with pytest.raises(AsaasError) as caught:
        client.create_payment({"customer": "cus_1"})
    # Then the failure is raised as ambiguous and nothing was sent again
    assert (caught.value.status, caught.value.ambiguous) == (503, True)
    assert post.call_count == 1


@respx.mock
def test_a_creation_is_retried_when_asaas_surely_did_nothing(
    client: AsaasClient, sleeps: list[float]
) -> None:
    # Given a connection never made, then a 429 (refused before any work), then success
    post = respx.post(f"{BASE}/subscriptions").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(429, headers={"Retry-After": "1"}, json={}),
            httpx.Response(200, json={"id": "sub_1"}),
        ]
    )
    lookup = respx.get(f"{BASE}/subscriptions").mock(return_value=_listing())
    # When the subscription is created
    assert client.create_subscription({"externalReference": "assistec-shop:1"})["id"] == "sub_1"
    # Then it was simply sent again, with no lookup needed
    assert (post.call_count, lookup.call_count) == (3, 0)
    assert sleeps[1] == 1.0


@respx.mock
def test_a_webhook_whose_answer_was_lost_is_found_by_its_url(client: AsaasClient) -> None:
    # Given Asaas registered the webhook but the answer was lost
    url = "https://api.test/v1/webhooks/asaas/shop.key"
    post = respx.post(f"{BASE}/webhooks").mock(side_effect=httpx.RemoteProtocolError("dropped"))
    respx.get(f"{BASE}/webhooks").mock(
        return_value=_listing({"id": "other", "url": "https://elsewhere"}, {"id": "wh_1", "url": url})
    )
    # When it is registered
    hook = client.create_webhook({"name": "assistec", "url": url, "email": "a@b.c"})
    # Then the registered one is returned; it was sent once
    assert hook["id"] == "wh_1"
    assert post.call_count == 1


@respx.mock
def test_a_refund_whose_answer_was_lost_is_read_back_never_sent_twice(client: AsaasClient) -> None:
    # Given Asaas took the refund but its answer timed out
    refund = respx.post(f"{BASE}/payments/pay_1/refund").mock(side_effect=httpx.ReadTimeout("lost"))
    respx.get(f"{BASE}/payments/pay_1").mock(
        return_value=httpx.Response(200, json={**PAYMENT, "id": "pay_1", "status": "REFUND_IN_PROGRESS"})
    )
    # When the payment is refunded
    payment = client.refund_payment("pay_1")
    # Then the payment as Asaas has it comes back; the refund was sent once
    assert payment["status"] == "REFUND_IN_PROGRESS"
    assert refund.call_count == 1


@respx.mock
def test_a_refund_asaas_does_not_show_after_a_5xx_is_raised_not_resent(client: AsaasClient) -> None:
    # Given a 502 for the refund and the payment still shown as received
    refund = respx.post(f"{BASE}/payments/pay_1/refund").mock(return_value=httpx.Response(502))
    respx.get(f"{BASE}/payments/pay_1").mock(
        return_value=httpx.Response(200, json={**PAYMENT, "id": "pay_1", "status": "RECEIVED"})
    )
    # When the payment is refunded
    with pytest.raises(AsaasError) as caught:
        client.refund_payment("pay_1")
    # Then the failure is raised as ambiguous: the refund was sent once, never again
    assert (caught.value.status, caught.value.ambiguous) == (502, True)
    assert refund.call_count == 1


@respx.mock
def test_money_goes_to_asaas_as_the_exact_decimal_of_its_centavos(client: AsaasClient) -> None:
    # Given amounts whose float would not be exact (0.1 + 0.2, 19.99, R$ 1.234.567,89)
    post = respx.post(f"{BASE}/payments").mock(return_value=httpx.Response(200, json={"id": "pay_1"}))
    refund = respx.post(f"{BASE}/payments/pay_1/refund").mock(
        return_value=httpx.Response(200, json={"id": "pay_1", "status": "REFUNDED"})
    )
    # When a payment is created and partly refunded (the refund takes centavos)
    client.create_payment({"customer": "cus_1", "value": reais(123456789), "externalReference": "r"})
    client.refund_payment("pay_1", 1999)
    # Then the JSON carries the exact decimal numbers
    assert b'"value":1234567.89' in post.calls.last.request.content
    assert refund.calls.last.request.content == b'{"value":19.99}'
    assert reais(30) == Decimal("0.30")
    with pytest.raises(TypeError):
        reais(19.99)  # type: ignore[arg-type]


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_call_never_spends_more_than_the_budget_on_asaas() -> None:
    # Given an Asaas that never answers (each try spends the whole timeout it was given)
    clock = _Clock()
    timeouts: list[float] = []

    def hang(request: httpx.Request) -> httpx.Response:
        timeout = request.extensions["timeout"]["read"]
        timeouts.append(timeout)
        clock.now += timeout
        raise httpx.ReadTimeout("no answer", request=request)

    client = AsaasClient(
        "$aact_test_key_123456789",
        sleep=clock.sleep,
        clock=clock,
        transport=httpx.MockTransport(hang),
    )
    # When a payment is read (reads retry)
    with pytest.raises(AsaasError):
        client.get_payment("pay_1")
    # Then it gave up within the 8 s budget, each try cut to what was left
    assert clock.now <= 8.0
    assert len(timeouts) >= 2
    assert all(t <= 4.0 for t in timeouts)
    # And several calls under one deadline share it (a use case's whole exchange)
    clock.now = 0.0
    with client.deadline():
        for _ in range(5):
            with pytest.raises(AsaasError):
                client.get_payment("pay_1")
    assert clock.now <= 8.0


@given(st.integers(min_value=1, max_value=10**13))
def test_any_amount_in_centavos_reaches_asaas_as_exactly_that_amount(value_cents: int) -> None:
    # Given any amount in centavos; When it is written as Asaas's JSON value
    body = encode_json({"value": reais(value_cents)})
    # Then it reads back as exactly that many centavos, two places, no float in between
    text = json.loads(body, parse_float=Decimal)["value"]
    assert text * 100 == value_cents
    assert cents(text) == value_cents
    assert body.decode().endswith(f"{value_cents // 100}.{value_cents % 100:02d}}}")


def test_a_float_never_reaches_asaas() -> None:
    # Given a body whose value took a detour through a float (price_cents / 100)
    # When it is encoded for Asaas
    # Then it is refused: money goes as reais(centavos), an exact Decimal
    with pytest.raises(TypeError, match="no float"):
        encode_json({"value": 14990 / 100})
    assert encode_json({"value": reais(14990)}) == b'{"value":149.90}'
