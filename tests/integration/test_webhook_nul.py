"""U+0000 in a body (issue 10 §5): PostgreSQL's text and jsonb cannot hold it, and such a body used
to reach the database and answer 500. A provider's delivery is stored with U+FFFD in its place and
answered 200 (Asaas counts any other answer as a failed delivery); every other route refuses it
with 422 before anything is read or written.

Through the API handler, against the real database."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from tests.conftest import PgDatabase
from tests.integration.billing_fixtures import Platform, _post_platform
from tests.integration.conftest import Client, FakeQueue, rest_event, signup
from tests.integration.payment_helpers import FIXTURES, connect


def _rows(database: PgDatabase, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(query, params).fetchall()


def test_a_shop_webhook_with_nul_in_the_event_id_and_the_payment_is_stored_safely(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase
) -> None:
    # Given a shop with its Asaas account connected and a real delivery carrying U+0000 (as JSON's
    # \u0000 escape) in the event id and in strings of the payment
    shop = signup(client)
    account = connect(client, shop)
    path = account["webhook_url"].split("/v1", 1)[1]
    delivery = json.loads((FIXTURES / "payment_received_boleto__sandbox_capture.json").read_text())
    delivery["id"] = "evt_nul\u0000id"
    delivery["payment"]["description"] = "Reparo\u0000 de tela"
    delivery["payment"]["externalReference"] = "\u0000"
    raw = json.dumps(delivery)
    assert "\\u0000" in raw

    # When Asaas posts it
    response = client.invoke(
        rest_event("POST", path, raw_body=raw, headers={"asaas-access-token": account["webhook_token"]})
    )

    # Then it is answered 200 and stored once, with U+FFFD in place of each U+0000
    assert (response["statusCode"], response["body"]) == (200, "{}")
    stored = _rows(
        database,
        "select event_id, payload->'payment'->>'description', payload->'payment'->>'externalReference' "
        "from webhook_inbox where tenant_id = %s",
        shop.tenant_id,
    )
    assert stored == [("evt_nul\ufffdid", "Reparo\ufffd de tela", "\ufffd")]
    # And the consumer applies it like any other delivery (no charge of this shop)
    assert queue.drain() == ["ignored_unknown_payment"]


def test_a_platform_webhook_with_nul_is_stored_safely(
    client: Client, platform: Platform, database: PgDatabase
) -> None:
    # Given a platform delivery with U+0000 in the event id and in the payment's strings
    body = json.dumps(
        {
            "id": "evt_plat\u0000",
            "event": "PAYMENT_RECEIVED",
            "payment": {"id": "pay_x", "subscription": "sub_x", "description": "a\u0000b"},
        }
    )

    # When Asaas posts it to the platform webhook
    response = _post_platform(client, body, platform.webhook_token)

    # Then 200 and stored with U+FFFD
    assert (response["statusCode"], response["body"]) == (200, "{}")
    assert _rows(
        database,
        "select payload->'payment'->>'description' from platform_webhook_inbox where event_id = %s",
        "evt_plat\ufffd",
    ) == [("a\ufffdb",)]
    assert platform.queue.drain() == ["ignored_unknown_subscription"]


def test_a_webhook_without_its_token_is_still_401_whatever_the_body_holds(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase
) -> None:
    # Given a shop's webhook URL, and an attacker without the token sending U+0000
    shop = signup(client)
    path = connect(client, shop)["webhook_url"].split("/v1", 1)[1]
    raw = json.dumps({"id": "evt_\u0000", "event": "PAYMENT_RECEIVED", "payment": {"id": "pay\u0000"}})

    # When it is posted with a wrong token
    response = client.invoke(rest_event("POST", path, raw_body=raw, headers={"asaas-access-token": "x"}))

    # Then 401 and nothing stored
    assert response["statusCode"] == 401, response["body"]
    assert _rows(database, "select count(*) from webhook_inbox where tenant_id = %s", shop.tenant_id) == [
        (0,)
    ]
    assert queue.messages == []


def test_a_json_api_route_refuses_nul_in_a_string_with_422(client: Client, database: PgDatabase) -> None:
    # Given a shop
    shop = signup(client)

    # When a customer is created with U+0000 in the name, in a nested key, or base64-encoded
    refused = client.call(
        "POST", "/customers", shop.access_token, body={"name": "Ana\u0000 Souza", "phone": "11 91234-5678"}
    )
    nested = client.call(
        "PATCH", "/settings", shop.access_token, body={"version": 1, "business_hours": {"mo\u0000n": []}}
    )

    # Then both are 422 with a stable code, and nothing was written
    for status, body, _ in (refused, nested):
        assert status == 422, body
        assert body["code"] == "validation_error"
        assert body["details"] == [{"field": "body", "message": "caractere nulo"}]
    assert _rows(database, "select count(*) from customers where tenant_id = %s", shop.tenant_id) == [(0,)]
    # And an escaped backslash followed by "u0000" is plain text, not U+0000: accepted
    status, body, _ = client.call(
        "POST", "/customers", shop.access_token, body={"name": "Ana \\u0000 Souza", "phone": "11 91234-5679"}
    )
    assert status == 201, body
    assert body["name"] == "Ana \\u0000 Souza"


def test_a_base64_body_and_a_public_form_with_nul_are_refused(client: Client) -> None:
    import base64

    # Given a shop and bodies with U+0000: base64-encoded JSON, and a form with %00
    shop = signup(client)
    from tests.integration.conftest import authorize

    event = rest_event(
        "POST",
        "/customers",
        raw_body=base64.b64encode(
            json.dumps({"name": "A\u0000", "phone": "11 91234-5670"}).encode()
        ).decode(),
        authorizer=authorize(shop.access_token),
    )
    event["isBase64Encoded"] = True
    form = rest_event(
        "POST",
        f"/public/quotes/{shop.tenant_id}.{'a' * 43}/decision",
        raw_body="decision=approve&name=Ana%00",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    # When they are sent
    answers = [client.invoke(event), client.invoke(form)]

    # Then both are refused at the boundary, 422, before any route reads them
    for response in answers:
        assert response["statusCode"] == 422, response["body"]
        body = json.loads(response["body"])
        assert body["code"] == "validation_error"
        assert body["details"] == [{"field": "body", "message": "caractere nulo"}]
