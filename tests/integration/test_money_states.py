"""Money states (issue 10 §3): a refund in progress never reopens a paid charge, and reconnecting the
shop's Asaas account neither strands its open charges nor leaves the old webhook working.

Through the API handler, the consumer and the offline Asaas simulator behind the real client,
against the real database."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import httpx

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, FakeQueue, Shop, rest_event, signup
from tests.integration.payment_helpers import KEY, _rows, approved_order, charge, connect
from tests.integration.shop_helpers import _ok

OTHER_KEY = "$aact_b3RoZXIta2V5LWZvci10aGUtc2FtZS1zaG9wOjowMDAwMDAwMDAwMDAwMDAwMDAwOjokYWFjaF8wMDAwMQ=="


def _paid_charge(client: Client, shop: Shop, asaas: Any, queue: FakeQueue, cents: int = 10000) -> tuple:
    order = approved_order(client, shop, cents)
    status, pix = charge(client, shop, order, "PIX")
    assert status == 201, pix
    queue.drain()  # PAYMENT_CREATED
    asaas.pay_by_id(pix["asaas_payment_id"])
    assert queue.drain() == ["applied"]
    return order, pix


def _post(client: Client, url: str, token: str, envelope: dict[str, Any]) -> int:
    response = client.invoke(
        rest_event(
            "POST",
            url.split("/v1", 1)[1],
            raw_body=json.dumps(envelope),
            headers={"asaas-access-token": token},
        )
    )
    return int(response["statusCode"])


def _event(event: str, payment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "event": event,
        "dateCreated": "2026-11-29 10:00:00",
        "payment": payment,
    }


# --- a refund in progress -------------------------------------------------------------------------
def test_a_refund_in_progress_keeps_the_charge_received_until_asaas_says_refunded(
    client: Client, asaas: Any, queue: FakeQueue, bus: FakeBus
) -> None:
    # Given a paid PIX charge, and an Asaas whose refunds wait for the bank
    shop = signup(client)
    connect(client, shop)
    order, pix = _paid_charge(client, shop, asaas, queue)
    asaas.refunds_in_progress = True

    # When the owner refunds it
    refunding = _ok(client.call("POST", f"/charges/{pix['id']}/refund", shop.access_token))

    # Then it is being refunded (the PAYMENT_REFUND_IN_PROGRESS webhook finds it so), and the
    # order still counts the money as received
    assert (refunding["status"], refunding["asaas_status"]) == ("refunding", "REFUND_IN_PROGRESS")
    assert queue.drain() == ["no_change"]
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["paid_cents"] == 10000
    # ...it cannot be cancelled (nor deleted at Asaas), nor refunded a second time
    status, body, _ = client.call("POST", f"/charges/{pix['id']}/cancel", shop.access_token)
    assert (status, body["details"]["status"]) == (409, "refunding")
    assert "estorno em andamento" in body["message"]
    assert asaas.payment(pix["asaas_payment_id"])["deleted"] is False
    status, body, _ = client.call("POST", f"/charges/{pix['id']}/refund", shop.access_token)
    assert status == 409
    # ...and it is no open charge: the order has nothing left to charge (as when it was paid)
    status, body = charge(client, shop, order, "PIX")
    assert (status, body["code"]) == (422, "validation_error")

    # When the bank finishes the refund (Asaas's PAYMENT_REFUNDED)
    asaas.refunded_by_id(pix["asaas_payment_id"])
    assert queue.drain() == ["applied"]

    # Then the charge is refunded and the order's received amount goes back
    assert _ok(client.call("GET", f"/charges/{pix['id']}", shop.access_token))["status"] == "refunded"
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["paid_cents"] == 0
    assert [e["status"] for e in bus.details("ChargeStatusChanged")] == ["paid", "refunding", "refunded"]
    assert [e["order_paid_cents"] for e in bus.details("ChargeStatusChanged")] == [10000, 10000, 0]


def test_a_refund_requested_at_asaas_reaches_the_charge_without_reopening_it(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase
) -> None:
    # Given a paid charge whose refund was asked for in Asaas's own panel (REFUND_REQUESTED)
    shop = signup(client)
    account = connect(client, shop)
    order, pix = _paid_charge(client, shop, asaas, queue, cents=25000)
    payment = asaas.payment(pix["asaas_payment_id"])
    payment["status"] = "REFUND_REQUESTED"

    # When Asaas tells us (the consumer confirms with Asaas before applying)
    assert (
        _post(client, account["webhook_url"], account["webhook_token"], _event("PAYMENT_UPDATED", payment))
        == 200
    )
    assert queue.drain() == ["applied"]

    # Then the charge is being refunded, not pending: the order keeps what it received and a
    # second charge is not blocked by an "open" one
    assert _rows(database, "select status, paid_cents from charges where id = %s", pix["id"]) == [
        ("refunding", 25000)
    ]
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["paid_cents"] == 25000
    status, body = charge(client, shop, order, "PIX", value_cents=5000)
    assert status == 201, body


# --- reconnecting the account ---------------------------------------------------------------------
def test_reconnecting_while_charges_are_open_is_409_and_changes_nothing(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase
) -> None:
    # Given a shop with an open PIX charge made in its Asaas account
    shop = signup(client)
    account = connect(client, shop)
    order = approved_order(client, shop, 10000)
    status, pix = charge(client, shop, order, "PIX")
    assert status == 201
    queue.drain()

    # When an admin connects another Asaas account
    status, body, _ = client.call(
        "PUT", "/settings/payments", shop.access_token, body={"api_key": OTHER_KEY, "environment": "sandbox"}
    )

    # Then it is refused with a clear 409 naming the open charge, and nothing changed: the same
    # account and webhook, no webhook left in the other account, the charge still open
    assert (status, body["code"]) == (409, "payment_account_has_open_charges")
    assert "cobranças em aberto" in body["message"]
    assert body["details"]["charges"] == [{"charge_id": pix["id"], "status": "pending"}]
    assert (
        _ok(client.call("GET", "/settings/payments", shop.access_token))["webhook_url"]
        == account["webhook_url"]
    )
    assert OTHER_KEY not in asaas._accounts or asaas._accounts[OTHER_KEY].webhooks == []
    assert _ok(client.call("GET", f"/charges/{pix['id']}", shop.access_token))["status"] == "pending"
    # And the charge still moves by the account it was made in
    asaas.pay_by_id(pix["asaas_payment_id"])
    assert queue.drain() == ["applied"]
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["paid_cents"] == 10000


def test_a_refund_in_progress_also_keeps_the_account(client: Client, asaas: Any, queue: FakeQueue) -> None:
    # Given a charge whose refund is under way in the connected account
    shop = signup(client)
    connect(client, shop)
    _, pix = _paid_charge(client, shop, asaas, queue)
    asaas.refunds_in_progress = True
    _ok(client.call("POST", f"/charges/{pix['id']}/refund", shop.access_token))
    queue.drain()

    # When the account is replaced, Then 409 until Asaas says refunded
    put = {"api_key": OTHER_KEY, "environment": "sandbox"}
    status, body, _ = client.call("PUT", "/settings/payments", shop.access_token, body=put)
    assert (status, body["details"]["charges"][0]["status"]) == (409, "refunding")
    asaas.refunded_by_id(pix["asaas_payment_id"])
    assert queue.drain() == ["applied"]
    _ok(client.call("PUT", "/settings/payments", shop.access_token, body=put))


def test_after_a_reconnect_the_old_url_and_token_are_refused_and_the_old_webhook_is_removed(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase
) -> None:
    # Given a connected shop whose webhook has just been used (a delivery accepted)
    shop = signup(client)
    old = connect(client, shop)
    order, pix = _paid_charge(client, shop, asaas, queue)  # settled: nothing open
    payment = dict(asaas.payment(pix["asaas_payment_id"]))
    assert _post(client, old["webhook_url"], old["webhook_token"], _event("PAYMENT_UPDATED", payment)) == 200
    assert len(asaas._accounts[KEY].webhooks) == 1

    # When the owner connects another Asaas account
    new = connect(client, shop, OTHER_KEY)

    # Then the old URL and token are refused from the next delivery on (nothing stored)...
    before = _rows(database, "select count(*) from webhook_inbox where tenant_id = %s", shop.tenant_id)
    assert _post(client, old["webhook_url"], old["webhook_token"], _event("PAYMENT_UPDATED", payment)) == 401
    assert _post(client, new["webhook_url"], old["webhook_token"], _event("PAYMENT_UPDATED", payment)) == 401
    assert (
        _rows(database, "select count(*) from webhook_inbox where tenant_id = %s", shop.tenant_id) == before
    )
    # ...the new ones work...
    assert _post(client, new["webhook_url"], new["webhook_token"], _event("PAYMENT_UPDATED", payment)) == 200
    # ...the old webhook is gone from the old account (deleted with the old key), the new one is
    # registered in the new account, and the outcome is audited
    assert asaas._accounts[KEY].webhooks == []
    assert [h["url"] for h in asaas._accounts[OTHER_KEY].webhooks] == [new["webhook_url"]]
    [(changes,)] = _rows(
        database,
        "select changes from audit_log where tenant_id = %s and action = 'remove_webhook'",
        shop.tenant_id,
    )
    assert (changes["outcome"], changes["webhook_url"]) == ("removed", old["webhook_url"])
    # ...and the shop's customers are found again in the new account on the next charge
    status, second = charge(client, shop, order, "PIX", value_cents=5000)
    assert status == 201, second
    assert second["asaas_payment_id"] in asaas._accounts[OTHER_KEY].payments


def test_an_account_connected_before_webhook_ids_were_kept_loses_its_webhook_by_url(
    client: Client, asaas: Any, database: PgDatabase
) -> None:
    # Given an account stored without its webhook's id (connected before migration 0014)
    shop = signup(client)
    old = connect(client, shop)
    with __import__("psycopg").connect(database.superuser_url) as conn:
        conn.execute(
            "update payment_accounts set asaas_webhook_id = null where tenant_id = %s", (shop.tenant_id,)
        )

    # When it is reconnected
    connect(client, shop, OTHER_KEY)

    # Then the old webhook is found by its URL in the old account and removed
    assert asaas._accounts[KEY].webhooks == []
    [(changes,)] = _rows(
        database,
        "select changes from audit_log where tenant_id = %s and action = 'remove_webhook'",
        shop.tenant_id,
    )
    assert (changes["outcome"], changes["webhook_url"]) == ("removed", old["webhook_url"])


def test_an_old_account_that_cannot_be_reached_still_reconnects_and_records_the_failure(
    client: Client, asaas: Any, api_root: Any, database: PgDatabase
) -> None:
    from assistec.integrations.asaas import AsaasClient

    # Given a connected shop whose old Asaas account answers nothing but 503 from now on
    shop = signup(client)
    connect(client, shop)
    real = api_root.asaas_client

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"errors": [{"code": "down", "description": "fora do ar"}]})

    def factory(environment: str, api_key: str) -> AsaasClient:
        if api_key == KEY:
            return AsaasClient(
                api_key,
                base_url="https://asaas.sim/v3",
                transport=httpx.MockTransport(down),
                sleep=lambda s: None,
            )
        return real(environment, api_key)

    api_root.asaas_client = factory

    # When the shop connects another account
    new = connect(client, shop, OTHER_KEY)

    # Then the reconnection stands (best effort), and the failure is recorded for people
    assert new["connected"]
    [(changes,)] = _rows(
        database,
        "select changes from audit_log where tenant_id = %s and action = 'remove_webhook'",
        shop.tenant_id,
    )
    assert (changes["outcome"], changes["status"]) == ("failed", 503)
    assert len(asaas._accounts[KEY].webhooks) == 1  # still there: ops remove it by hand


class _HeldPayment(httpx.BaseTransport):
    """The simulator's transport, holding the first ``POST /payments`` until ``release`` is set: a
    charge caught in the middle of its Asaas exchange, for as long as the test needs."""

    def __init__(self, sim: Any) -> None:
        self._inner = sim.transport()
        self._armed = True
        self._lock = threading.Lock()
        self.arrived = threading.Event()
        self.release = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            hold = self._armed and request.method == "POST" and request.url.path.endswith("/payments")
            self._armed = self._armed and not hold
        if hold:
            self.arrived.set()
            assert self.release.wait(30), "the test never released the held Asaas call"
        return self._inner.handle_request(request)


def test_a_reconnect_while_a_charge_is_being_made_in_the_old_account_is_refused(
    client: Client, asaas: Any, database: PgDatabase, fakes: tuple[Any, Any]
) -> None:
    from assistec.db.connection import Database
    from assistec.domain.permissions import Role
    from assistec.domain.tokens import Identity
    from assistec.integrations.asaas import AsaasClient
    from assistec.services.outbox import OutboxRelay
    from assistec.services.payments.charges import PaymentsService
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings

    # Given a connected shop, and an attendant's charge (its own Lambda environment: its own
    # connection) caught while Asaas creates its payment in the connected account
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop, 10000)
    held = _HeldPayment(asaas)
    db = Database(DatabaseSettings(database_url=database.app_url, db_sslmode="disable"))  # type: ignore[call-arg]
    service = PaymentsService(
        UnitsOfWork(db, OutboxRelay(db, FakeBus())),
        fakes[0],
        lambda environment, api_key: AsaasClient(
            api_key, base_url="https://asaas.sim/v3", transport=held, sleep=lambda s: None
        ),
    )
    identity = Identity(
        tenant_id=uuid.UUID(shop.tenant_id), user_id=uuid.UUID(shop.owner_id), role=Role.OWNER
    )
    made: list[Any] = []
    attendant = threading.Thread(
        target=lambda: made.append(
            service.create_charge(
                identity, uuid.UUID(order["id"]), billing_type="PIX", value_cents=None, due_date=None
            )
        )
    )
    attendant.start()
    try:
        assert held.arrived.wait(30)

        # When the owner connects another account at that moment
        status, body, _ = client.call(
            "PUT",
            "/settings/payments",
            shop.access_token,
            body={"api_key": OTHER_KEY, "environment": "sandbox"},
        )
    finally:
        held.release.set()
        attendant.join(30)
        db.close()

    # Then the reconnection is refused (the charge lives in the account it is being made in), and
    # the charge is finished there, by the account the shop still has
    assert (status, body["code"]) == (409, "payment_account_has_open_charges")
    assert [c.asaas_payment_id in asaas._accounts[KEY].payments for c in made] == [True]
    assert OTHER_KEY not in asaas._accounts or asaas._accounts[OTHER_KEY].webhooks == []
    assert len(asaas._accounts[KEY].webhooks) == 1
