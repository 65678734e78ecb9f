"""Charges through the shop's Asaas account (the offline simulator behind the real client) and
the webhooks that settle them, through the API handler and the consumer, against the database."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psycopg

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, FakeQueue, Shop, rest_event, signup
from tests.integration.test_quotes_and_stock_api import _ok, quoted_order

KEY = "$aact_YTU5YTE0M2M2N2I4MTliNzk0YTI5N2U5MzdjNWZmNDQ6OjAwMDAwMDAwMDAwMDAwMDAwMDA6OiRhYWNoXzAwMDAw"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asaas"


def connect(client: Client, shop: Shop, key: str = KEY) -> dict:
    return _ok(
        client.call(
            "PUT", "/settings/payments", shop.access_token, body={"api_key": key, "environment": "sandbox"}
        )
    )


def approved_order(client: Client, shop: Shop, price_cents: int = 25000) -> dict:
    order, quote = quoted_order(
        client, shop, [{"kind": "labour", "description": "Troca de tela", "price_cents": price_cents}]
    )
    _ok(
        client.call(
            "POST",
            f"/quotes/{quote['id']}/decision",
            shop.access_token,
            body={"decision": "approve", "name": "Ana"},
        )
    )
    return _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))


def charge(
    client: Client, shop: Shop, order: dict, billing_type: str = "PIX", **extra: Any
) -> tuple[int, dict]:
    status, body, _ = client.call(
        "POST",
        f"/orders/{order['id']}/charges",
        shop.access_token,
        body={"billing_type": billing_type, **extra},
    )
    return status, body


def _rows(database: PgDatabase, sql: str, *params: Any) -> list[tuple]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(sql, params).fetchall()


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


def test_webhook_refusals_store_nothing(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase
) -> None:
    shop = signup(client)
    account = connect(client, shop)
    path = account["webhook_url"].split("/v1", 1)[1]
    body = (FIXTURES / "payment_received_boleto__sandbox_capture.json").read_text()
    for headers, raw, expected in [
        ({"asaas-access-token": "errado"}, body, 401),
        ({}, body, 401),
        ({"asaas-access-token": account["webhook_token"]}, "{nope", 422),
        ({"asaas-access-token": account["webhook_token"]}, json.dumps({"id": "evt_sem_tipo"}), 422),
    ]:
        response = client.invoke(rest_event("POST", path, raw_body=raw, headers=headers))
        assert response["statusCode"] == expected, response["body"]
    # Another shop's URL with this shop's token
    other = signup(client)
    other_url = connect(client, other)["webhook_url"].split("/v1", 1)[1]
    response = client.invoke(
        rest_event("POST", other_url, raw_body=body, headers={"asaas-access-token": account["webhook_token"]})
    )
    assert response["statusCode"] == 401
    # A made-up key
    fake = f"/webhooks/asaas/{shop.tenant_id}.{'x' * 32}"
    assert (
        client.invoke(
            rest_event("POST", fake, raw_body=body, headers={"asaas-access-token": account["webhook_token"]})
        )["statusCode"]
        == 401
    )
    assert _rows(
        database,
        "select count(*) from webhook_inbox where tenant_id in (%s, %s)",
        shop.tenant_id,
        other.tenant_id,
    ) == [(0,)]
    assert queue.messages == []


def test_real_payloads_of_unknown_charges_and_event_types_are_kept_and_ignored(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase
) -> None:
    shop = signup(client)
    account = connect(client, shop)
    path = account["webhook_url"].split("/v1", 1)[1]
    headers = {"asaas-access-token": account["webhook_token"]}
    for name in sorted(p.name for p in FIXTURES.glob("*.json")):
        response = client.invoke(
            rest_event("POST", path, raw_body=(FIXTURES / name).read_text(), headers=headers)
        )
        assert (response["statusCode"], response["body"]) == (200, "{}"), name
    outcomes = sorted(queue.drain())
    # BILL_PAID is not ours; the payments belong to no charge of this shop
    assert outcomes == [
        "ignored_event_type",
        "ignored_unknown_payment",
        "ignored_unknown_payment",
        "ignored_unknown_payment",
    ]
    assert _rows(
        database,
        "select count(*) from webhook_inbox where tenant_id = %s and processed_at is not null",
        shop.tenant_id,
    ) == [(4,)]


def test_database_down_at_ingress_answers_503_and_recovers(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase, api_root: Any
) -> None:
    from assistec.db.connection import Database
    from assistec.services.payments.inbox import WebhookInbox
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings

    shop = signup(client)
    account = connect(client, shop)
    path = account["webhook_url"].split("/v1", 1)[1]
    body = (FIXTURES / "payment_created_boleto__sandbox_capture.json").read_text()
    headers = {"asaas-access-token": account["webhook_token"]}
    healthy = api_root.webhook_inbox
    down = Database(
        DatabaseSettings(
            database_url="postgresql://assistec_app:x@127.0.0.1:1/assistec",
            db_sslmode="disable",
            db_connect_timeout_s=1,
        )  # type: ignore[call-arg]
    )
    api_root.webhook_inbox = WebhookInbox(UnitsOfWork(down), queue, lambda: api_root.payments)
    response = client.invoke(rest_event("POST", path, raw_body=body, headers=headers))
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["code"] == "service_unavailable"
    assert _rows(database, "select count(*) from webhook_inbox where tenant_id = %s", shop.tenant_id) == [
        (0,)
    ]
    api_root.webhook_inbox = healthy
    assert client.invoke(rest_event("POST", path, raw_body=body, headers=headers))["statusCode"] == 200
    assert _rows(database, "select count(*) from webhook_inbox where tenant_id = %s", shop.tenant_id) == [
        (1,)
    ]


def test_a_lost_queue_message_is_swept_back(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase, api_root: Any
) -> None:
    from assistec.services.payments.inbox import sweep

    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    _, pix = charge(client, shop, order)
    queue.drain()
    queue.down = True
    asaas.pay_by_id(pix["asaas_payment_id"])  # stored, 200 to Asaas, but SQS refused the message
    assert asaas.deliveries[-1]["status"] == 200
    assert queue.messages == []
    queue.down = False
    assert sweep(api_root.database, queue, older_than_s=0) >= 1
    # The sweep covers every shop; this test applies its own shop's events
    queue.messages = [m for m in queue.messages if str(m[0]) == shop.tenant_id]
    assert len(queue.messages) == 1
    queue.drain()
    assert _ok(client.call("GET", f"/charges/{pix['id']}", shop.access_token))["status"] == "paid"


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


def test_reconciliation_repairs_what_a_lost_webhook_left_behind(
    client: Client, asaas: Any, queue: FakeQueue, bus: FakeBus, database: PgDatabase, api_root: Any
) -> None:
    from assistec.services.payments.reconcile import Reconciliation

    reconcile = Reconciliation(api_root.work, api_root.payments).run

    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop, 9000)
    _, pix = charge(client, shop, order)
    queue.drain()
    # The customer pays, but Asaas's webhook never arrives (lost, queue paused...)
    asaas._deliver = lambda url, token, body: 500
    asaas.pay_by_id(pix["asaas_payment_id"])
    assert _ok(client.call("GET", f"/charges/{pix['id']}", shop.access_token))["status"] == "pending"
    only = [uuid.UUID(shop.tenant_id)]
    report = reconcile(only=only)
    assert report.errors == 0
    assert report.mismatches >= 1
    assert report.repaired >= 1
    repaired = _ok(client.call("GET", f"/charges/{pix['id']}", shop.access_token))
    assert (repaired["status"], repaired["paid_cents"]) == ("paid", 9000)
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["paid_cents"] == 9000
    assert _rows(
        database,
        "select local_status, remote_status, repaired from reconciliation_mismatches where charge_id = %s",
        pix["id"],
    ) == [("pending", "RECEIVED", True)]
    # A second run finds nothing left to repair for this shop
    before = _rows(
        database, "select count(*) from reconciliation_mismatches where tenant_id = %s", shop.tenant_id
    )
    reconcile()
    assert (
        _rows(database, "select count(*) from reconciliation_mismatches where tenant_id = %s", shop.tenant_id)
        == before
    )
    assert [e["status"] for e in bus.details("ChargeStatusChanged") if e["charge_id"] == pix["id"]] == [
        "paid"
    ]


def test_a_paid_charge_missing_at_asaas_is_reported_not_undone(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase, api_root: Any
) -> None:
    from assistec.services.payments.reconcile import Reconciliation

    reconcile = Reconciliation(api_root.work, api_root.payments).run

    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop, 9000)
    _, pix = charge(client, shop, order)
    asaas.pay_by_id(pix["asaas_payment_id"])
    queue.drain()
    del asaas._accounts[KEY].payments[pix["asaas_payment_id"]]  # Asaas answers 404 for it now
    report = reconcile(only=[uuid.UUID(shop.tenant_id)])
    assert (report.mismatches, report.repaired, report.errors) == (1, 0, 0)
    assert _ok(client.call("GET", f"/charges/{pix['id']}", shop.access_token))["status"] == "paid"
    assert _rows(
        database,
        "select local_status, remote_status, repaired from reconciliation_mismatches where charge_id = %s",
        pix["id"],
    ) == [("paid", "NOT_FOUND", False)]


def test_a_poison_delivery_is_swept_ten_times_then_left_to_people(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase, api_root: Any
) -> None:
    from assistec.services.payments.inbox import sweep

    shop = signup(client)
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "insert into webhook_inbox (tenant_id, event_id, event, payload, received_at) "
            "values (%s, 'evt_poison', 'PAYMENT_RECEIVED', '{}', now() - interval '1 hour')",
            (shop.tenant_id,),
        )
    swept = 0
    for _ in range(12):
        queue.messages.clear()
        sweep(api_root.database, queue, older_than_s=60)
        swept += sum(1 for tenant, event in queue.messages if event == "evt_poison")
    assert swept == 10
