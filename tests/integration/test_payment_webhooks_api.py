"""Asaas's webhooks for the shops' charges: the inbox's refusals and what it keeps, a database or
queue down at ingress, the sweep, and the hourly reconciliation repairing what a lost webhook left
behind; through the API handler and the consumer, against the database."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, FakeQueue, rest_event, signup
from tests.integration.payment_helpers import FIXTURES, KEY, _rows, approved_order, charge, connect
from tests.integration.shop_helpers import _ok


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
