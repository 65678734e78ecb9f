"""Charges through the shop's Asaas account (the offline simulator behind the real client): connecting
the account, charging an order once whatever Asaas answers, cancelling and refunding; through the
API handler and the consumer, against the database."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, FakeQueue, rest_event, signup
from tests.integration.payment_helpers import KEY, _rows, approved_order, charge, connect
from tests.integration.shop_helpers import _ok


def test_connecting_stores_the_key_encrypted_and_registers_the_webhook(
    client: Client, asaas: Any, database: PgDatabase
) -> None:
    shop = signup(client)
    assert _ok(client.call("GET", "/settings/payments", shop.access_token))["connected"] is False
    account = connect(client, shop)
    assert account["connected"]
    assert account["webhook_token"]
    assert account["webhook_url"].startswith(
        "https://abcdef1234.execute-api.sa-east-1.amazonaws.com/v1/webhooks/asaas/"
    )
    hook = next(iter(asaas._accounts[KEY].webhooks))
    assert (hook["url"], hook["authToken"], hook["sendType"]) == (
        account["webhook_url"],
        account["webhook_token"],
        "SEQUENTIALLY",
    )
    assert "PAYMENT_RECEIVED" in hook["events"]
    (stored,) = _rows(
        database, "select api_key_ciphertext from payment_accounts where tenant_id = %s", shop.tenant_id
    )
    assert KEY.encode() not in bytes(stored[0])
    again = _ok(client.call("GET", "/settings/payments", shop.access_token))
    assert again["webhook_url"] == account["webhook_url"]
    assert again["webhook_token"] is None


def test_a_key_asaas_refuses_is_422_and_nothing_is_stored(
    client: Client, asaas: Any, database: PgDatabase
) -> None:
    shop = signup(client)
    status, body, _ = client.call(
        "PUT",
        "/settings/payments",
        shop.access_token,
        body={"api_key": "aact_not_a_real_key_at_all", "environment": "sandbox"},
    )
    assert (status, body["code"]) == (422, "validation_error")
    assert _rows(database, "select count(*) from payment_accounts where tenant_id = %s", shop.tenant_id) == [
        (0,)
    ]


def test_a_pix_charge_pays_the_order_through_the_webhook(
    client: Client, asaas: Any, queue: FakeQueue, bus: FakeBus, database: PgDatabase
) -> None:
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop, 25000)
    status, pix = charge(client, shop, order)
    assert status == 201, pix
    assert (pix["billing_type"], pix["value_cents"], pix["status"]) == ("PIX", 25000, "pending")
    assert pix["pix_payload"].startswith("000201")
    assert pix["pix_qr_image"]
    assert pix["invoice_url"]
    payment = asaas.payment(pix["asaas_payment_id"])
    assert payment["externalReference"] == f"assistec:{order['id']}:1"
    assert payment["value"] == 250.0
    queue.drain()  # PAYMENT_CREATED: nothing moves
    # The customer pays: Asaas posts PAYMENT_RECEIVED (PIX never sends CONFIRMED) to our URL
    asaas.pay_by_id(pix["asaas_payment_id"])
    assert [d["event"] for d in asaas.deliveries] == ["PAYMENT_CREATED", "PAYMENT_RECEIVED"]
    assert all(d["status"] == 200 for d in asaas.deliveries)
    assert queue.drain() == ["applied"]
    paid = _ok(client.call("GET", f"/charges/{pix['id']}", shop.access_token))
    assert (paid["status"], paid["paid_cents"], paid["asaas_status"]) == ("paid", 25000, "RECEIVED")
    assert paid["receipt_url"].startswith("https://sandbox.asaas.com/comprovantes/")
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["paid_cents"] == 25000
    assert [(e["status"], e["order_paid_cents"]) for e in bus.details("ChargeStatusChanged")] == [
        ("paid", 25000)
    ]
    # Asaas delivers the same event again: 200, one effect
    again = asaas.deliveries[-1]
    response = client.invoke(
        rest_event(
            "POST",
            again["url"].split("/v1", 1)[1],
            raw_body=json.dumps(again["envelope"]),
            headers={"asaas-access-token": asaas._accounts[KEY].webhooks[0]["authToken"]},
        )
    )
    assert (response["statusCode"], response["body"]) == (200, "{}")
    assert queue.messages == []  # a duplicate is not enqueued again
    assert len(bus.details("ChargeStatusChanged")) == 1


def test_one_open_charge_at_a_time_and_a_lost_answer_never_charges_twice(
    client: Client, asaas: Any, database: PgDatabase
) -> None:
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    # Asaas fails after our charge row exists: 502, nothing charged
    asaas.fail_next = [503] * 4
    status, body = charge(client, shop, order, "BOLETO")
    assert (status, body["code"]) == (502, "payment_provider_error")
    assert asaas._accounts[KEY].payments == {}
    # The retry finishes the same attempt (same external reference), once
    status, boleto = charge(client, shop, order, "BOLETO")
    assert status == 201, boleto
    assert boleto["attempt"] == 1
    assert boleto["boleto_line"]
    assert len(asaas._accounts[KEY].payments) == 1
    # A double click gets the open charge back as a conflict, not a second charge
    status, body = charge(client, shop, order, "PIX")
    assert (status, body["details"]["charge_id"]) == (409, boleto["id"])
    assert len(asaas._accounts[KEY].payments) == 1
    # The Asaas customer was created once and is reused for the next order of the same customer
    assert len(asaas._accounts[KEY].customers) == 1


def test_a_created_payment_is_found_again_by_its_reference(client: Client, asaas: Any) -> None:
    """Asaas created the payment but our process died before storing it: the retry finds it."""
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    # Make the QR code call fail after the payment exists
    original = asaas._route

    def flaky(account: Any, method: str, path: str, params: Any, body: Any) -> Any:
        if path.endswith("/pixQrCode") and not getattr(flaky, "done", False):
            flaky.done = True  # type: ignore[attr-defined]
            return 400, {"errors": [{"code": "x", "description": "falha"}]}, {}
        return original(account, method, path, params, body)

    asaas._route = flaky
    assert charge(client, shop, order)[0] == 422
    status, pix = charge(client, shop, order)
    assert status == 201, pix
    assert len(asaas._accounts[KEY].payments) == 1


def test_cancelling_a_charge_whose_answer_was_lost_deletes_it_in_asaas_too(
    client: Client, asaas: Any
) -> None:
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    original = asaas._route

    def broken_qr(account: Any, method: str, path: str, params: Any, body: Any) -> Any:
        if path.endswith("/pixQrCode"):
            return 400, {"errors": [{"code": "x", "description": "falha"}]}, {}
        return original(account, method, path, params, body)

    asaas._route = broken_qr
    assert charge(client, shop, order)[0] == 422  # Asaas has the payment; we have no id for it
    (payment,) = asaas._accounts[KEY].payments.values()
    (unfinished,) = _ok(client.call("GET", f"/orders/{order['id']}/charges", shop.access_token))["items"]
    assert unfinished["asaas_payment_id"] is None
    cancelled = _ok(client.call("POST", f"/charges/{unfinished['id']}/cancel", shop.access_token))
    assert cancelled["status"] == "cancelled"
    assert payment["deleted"] is True


def test_cancel_refund_and_a_late_overdue(client: Client, asaas: Any, queue: FakeQueue, bus: FakeBus) -> None:
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop, 10000)
    _, first = charge(client, shop, order, "BOLETO")
    cancelled = _ok(client.call("POST", f"/charges/{first['id']}/cancel", shop.access_token))
    assert cancelled["status"] == "cancelled"
    assert asaas.payment(first["asaas_payment_id"])["deleted"] is True
    assert client.call("POST", f"/charges/{first['id']}/cancel", shop.access_token)[0] == 409
    queue.drain()
    _, second = charge(client, shop, order, "PIX")
    assert second["attempt"] == 2
    asaas.pay_by_id(second["asaas_payment_id"])
    queue.drain()
    # A late OVERDUE (sent before payment, delivered after) never downgrades a paid charge
    payment = dict(asaas.payment(second["asaas_payment_id"]), status="OVERDUE")
    late = {
        "id": f"evt_late_{uuid.uuid4().hex}",
        "event": "PAYMENT_OVERDUE",
        "dateCreated": "2026-11-26 10:00:00",
        "payment": payment,
    }
    url = asaas._accounts[KEY].webhooks[0]["url"]
    token = asaas._accounts[KEY].webhooks[0]["authToken"]
    client.invoke(
        rest_event(
            "POST", url.split("/v1", 1)[1], raw_body=json.dumps(late), headers={"asaas-access-token": token}
        )
    )
    assert queue.drain() == ["no_change"]
    assert _ok(client.call("GET", f"/charges/{second['id']}", shop.access_token))["status"] == "paid"
    # Refund: Asaas confirms, the order's received amount goes back
    refunded = _ok(client.call("POST", f"/charges/{second['id']}/refund", shop.access_token))
    assert refunded["status"] == "refunded"
    assert queue.drain() == ["no_change"]  # the PAYMENT_REFUNDED webhook finds it done
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["paid_cents"] == 0
    assert [e["status"] for e in bus.details("ChargeStatusChanged")] == ["cancelled", "paid", "refunded"]


def test_charges_need_an_account_and_an_amount(client: Client, asaas: Any) -> None:
    shop = signup(client)
    order = approved_order(client, shop)
    status, body = charge(client, shop, order)
    assert (status, body["code"]) == (409, "payment_account_missing")
    connect(client, shop)
    for extra, _field in [
        ({"value_cents": 10}, "value_cents"),
        ({"due_date": "2020-01-01"}, "due_date"),
        ({"billing_type": "CHEQUE"}, "billing_type"),
    ]:
        status, body = charge(client, shop, order, **extra)
        assert (status, body["code"]) == (422, "validation_error"), body
    other = signup(client)
    assert (
        client.call(
            "POST", f"/orders/{order['id']}/charges", other.access_token, body={"billing_type": "PIX"}
        )[0]
        == 404
    )
