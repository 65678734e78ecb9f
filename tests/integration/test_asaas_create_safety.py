"""Nothing is created twice at Asaas (issue 10 §2): a charge claimed for the whole Asaas exchange
(truly parallel requests against a slow simulator make one payment), creations whose answer was
lost found by their reference instead of being sent again (payments, customers, subscriptions,
webhooks), a refund never sent twice, and a stored Asaas payment id never replaced.

"Lost answers" are the simulator's: it carries the call out, then the transport raises
httpx.ReadTimeout (``AsaasSimulator.lose_answers``), what a client sees when Asaas did the work
and the answer died on the way."""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.conftest import PgDatabase
from tests.integration.billing_fixtures import Platform
from tests.integration.conftest import Client, FakeBus, FakeCipher, FakeQueue, Shop, signup
from tests.integration.payment_helpers import KEY, _rows, approved_order, charge, connect
from tests.integration.shop_helpers import _ok


class GateTransport(httpx.BaseTransport):
    """The simulator's transport, holding the first call that matches ``pattern`` (e.g.
    ``"POST /payments"``) until ``release`` is set: a request caught in the middle of its Asaas
    exchange, for as long as the test needs, without sleeping."""

    def __init__(self, sim: Any, pattern: str) -> None:
        self._inner: httpx.BaseTransport = sim.transport()
        self._pattern = pattern
        self._armed = True
        self._lock = threading.Lock()
        self.arrived = threading.Event()
        self.release = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        call = f"{request.method} {re.sub(r'^/v3', '', request.url.path)}"
        with self._lock:
            hold = self._armed and fnmatch.fnmatchcase(call, self._pattern)
            if hold:
                self._armed = False
        if hold:
            self.arrived.set()
            assert self.release.wait(30), "the test never released the held Asaas call"
        return self._inner.handle_request(request)


def _service(database: PgDatabase, cipher: FakeCipher, transport: httpx.BaseTransport) -> tuple[Any, Any]:
    """A PaymentsService with its own database connection (one per thread, as one per Lambda
    environment), on the simulator through ``transport``; and the connection, to close."""
    from assistec.db.connection import Database
    from assistec.integrations.asaas import AsaasClient
    from assistec.services.outbox import OutboxRelay
    from assistec.services.payments.charges import PaymentsService
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings

    db = Database(DatabaseSettings(database_url=database.app_url, db_sslmode="disable"))  # type: ignore[arg-type]

    def client(environment: str, api_key: str) -> AsaasClient:
        return AsaasClient(
            api_key, base_url="https://asaas.sim/v3", transport=transport, sleep=lambda s: None
        )

    return PaymentsService(UnitsOfWork(db, OutboxRelay(db, FakeBus())), cipher, client), db


def _run_out(database: PgDatabase, order_id: str) -> None:
    """The order's charge claims, and its customer's, run out (as they would after CLAIM_S)."""
    _rows(database, "update charges set claimed_until = now() where order_id = %s returning 1", order_id)
    _rows(
        database,
        "update asaas_customer_claims set claimed_until = now() "
        "where customer_id = (select customer_id from service_orders where id = %s) returning 1",
        order_id,
    )


def _owner(shop: Shop) -> Any:
    from assistec.domain.permissions import Role
    from assistec.domain.tokens import Identity

    return Identity(tenant_id=UUID(shop.tenant_id), user_id=UUID(shop.owner_id), role=Role.OWNER)


def _in_parallel(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``count`` threads released together; each one's result or exception."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work()
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _down_after(asaas: Any, trigger: str, failing: str, times: int = 4) -> None:
    """Once a call matching ``trigger`` was carried out, the next ``times`` calls matching
    ``failing`` answer 503 (Asaas unreachable right after doing the work): every retry of a
    lookup fails."""
    original = asaas._route
    state = {"triggered": False, "left": times}

    def route(account: Any, method: str, path: str, params: Any, body: Any) -> Any:
        call = f"{method} {path}"
        if state["triggered"] and state["left"] > 0 and fnmatch.fnmatchcase(call, failing):
            state["left"] -= 1
            return 503, {"errors": [{"code": "x", "description": "indisponível"}]}, {}
        answer = original(account, method, path, params, body)
        if fnmatch.fnmatchcase(call, trigger):
            state["triggered"] = True
        return answer

    asaas._route = route


def test_parallel_charges_of_one_order_against_a_slow_asaas_make_one_payment(
    client: Client, asaas: Any, database: PgDatabase, fakes: tuple[FakeCipher, Any]
) -> None:
    from assistec.errors import AppError

    # Given a shop with an approved order and an Asaas that takes a while to answer each call
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    asaas.delay_s = 0.2
    identity = _owner(shop)
    services = [_service(database, fakes[0], asaas.transport()) for _ in range(4)]
    turn = iter(range(4))

    def charge_it() -> Any:
        service, _ = services[next(turn)]
        return service.create_charge(
            identity, UUID(order["id"]), billing_type="PIX", value_cents=None, due_date=None
        )

    # When four attendants (or double clicks) charge the order at the same moment
    try:
        results = _in_parallel(4, charge_it)
    finally:
        for _, db in services:
            db.close()
    # Then one charge is made; the others are refused with a 409 and make nothing at Asaas
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(made) == 1, results
    assert all(isinstance(r, AppError) and r.status == 409 for r in refused), refused
    assert {getattr(r, "code", None) for r in refused} <= {"charge_in_progress", "conflict"}
    assert len(asaas._accounts[KEY].payments) == 1
    assert len(asaas._accounts[KEY].customers) == 1
    assert [p["id"] for p in asaas._accounts[KEY].payments.values()] == [made[0].asaas_payment_id]
    assert _rows(
        database,
        "select count(*), count(asaas_payment_id), count(claim_token) from charges where order_id = %s",
        order["id"],
    ) == [(1, 1, 0)]


def test_a_charge_being_made_answers_409_charge_in_progress_and_calls_asaas_for_nothing(
    client: Client, asaas: Any, database: PgDatabase, fakes: tuple[FakeCipher, Any]
) -> None:
    # Given one request of the order caught in the middle of creating its Asaas payment
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    gate = GateTransport(asaas, "POST /payments")
    service, db = _service(database, fakes[0], gate)
    first: list[Any] = []
    thread = threading.Thread(
        target=lambda: first.append(
            service.create_charge(
                _owner(shop), UUID(order["id"]), billing_type="PIX", value_cents=None, due_date=None
            )
        )
    )
    thread.start()
    try:
        assert gate.arrived.wait(30)
        calls_before = len(asaas.requests)
        # When a second attendant charges the same order through the API, and cancels the charge
        status, body = charge(client, shop, order, "BOLETO")
        (unfinished,) = _ok(client.call("GET", f"/orders/{order['id']}/charges", shop.access_token))["items"]
        cancel = client.call("POST", f"/charges/{unfinished['id']}/cancel", shop.access_token)
        calls_during = len(asaas.requests)
    finally:
        gate.release.set()
        thread.join()
        db.close()
    # Then both are a clear 409 (pt-BR), and neither called Asaas
    assert (status, body["code"]) == (409, "charge_in_progress")
    assert body["message"].startswith("Já há uma cobrança sendo gerada para esta OS")
    assert (cancel[0], cancel[1]["code"]) == (409, "charge_in_progress")
    assert calls_during == calls_before
    # And the first request finishes its charge: one payment, the claim given back
    (made,) = first
    assert made.asaas_payment_id is not None
    assert len(asaas._accounts[KEY].payments) == 1
    assert _rows(database, "select claim_token from charges where order_id = %s", order["id"]) == [(None,)]


def test_two_orders_of_one_customer_charged_at_once_make_one_asaas_customer(
    client: Client, asaas: Any, database: PgDatabase, fakes: tuple[FakeCipher, Any]
) -> None:
    from assistec.errors import AppError

    # Given two orders of the same customer (each its own, unlocked order row) and a slow Asaas
    shop = signup(client)
    connect(client, shop)
    first = approved_order(client, shop)
    second = _ok(
        client.call(
            "POST",
            "/orders",
            shop.access_token,
            body={
                "customer_id": first["customer_id"],
                "device_id": first["device_id"],
                "reported_problem": "Bateria estufada",
            },
        )
    )
    # (whichever request first creates the Asaas customer is held there until the other is done)
    gate = GateTransport(asaas, "POST /customers")
    identity = _owner(shop)
    services = [_service(database, fakes[0], gate) for _ in range(2)]
    results: list[Any] = [None, None]
    done = [threading.Event(), threading.Event()]
    barrier = threading.Barrier(2)

    def charge_it(i: int, order_id: str) -> None:
        barrier.wait()
        try:
            results[i] = services[i][0].create_charge(
                identity, UUID(order_id), billing_type="PIX", value_cents=9000, due_date=None
            )
        except BaseException as exc:
            results[i] = exc
        done[i].set()

    # When two attendants charge them at the same moment
    threads = [
        threading.Thread(target=charge_it, args=(i, order["id"])) for i, order in enumerate((first, second))
    ]
    try:
        for t in threads:
            t.start()
        assert gate.arrived.wait(30)
        # the request that is not held finishes first (refused: it never reaches Asaas's customers)
        assert any(e.wait(0.05) for _ in range(600) for e in done), "neither request finished"
    finally:
        gate.release.set()
        for t in threads:
            t.join()
        for _, db in services:
            db.close()
    # Then the customer is made at Asaas once: one charge is made, the other is a clear 409 that
    # wrote nothing (no charge row left behind)
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert (len(made), len(refused)) == (1, 1), results
    (error,) = refused
    assert isinstance(error, AppError), error
    assert (error.status, error.code) == (409, "charge_in_progress"), error
    assert "cliente" in error.message
    assert len(asaas._accounts[KEY].customers) == 1
    assert _rows(
        database,
        "select count(*) from charges where order_id in (%s, %s)",
        first["id"],
        second["id"],
    ) == [(1,)]
    assert _rows(
        database, "select count(*) from asaas_customer_claims where customer_id = %s", first["customer_id"]
    ) == [(0,)]
    # And charging the other order again uses that customer
    other = second if made[0].order_id == UUID(first["id"]) else first
    status, body = charge(client, shop, other, "PIX", value_cents=9000)
    assert status == 201, body
    assert len(asaas._accounts[KEY].customers) == 1
    assert len(asaas._accounts[KEY].payments) == 2


def test_a_claim_left_by_a_dead_request_runs_out_and_the_next_try_finishes_the_charge(
    client: Client, asaas: Any, database: PgDatabase
) -> None:
    # Given a try whose process died while Asaas created the payment (claim left, no id stored)
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    asaas.lose_answers = ["POST /payments"]
    _down_after(asaas, "POST /payments", "GET /payments")  # and its lookup failed too
    status, _ = charge(client, shop, order)
    assert status == 502
    assert len(asaas._accounts[KEY].payments) == 1
    with_claim = (
        "update charges set claim_token = gen_random_uuid(), claimed_until = now() + interval '1 hour'"
    )
    _rows(database, with_claim + " where order_id = %s returning 1", order["id"])
    # When someone charges again while the dead request's claim is live: refused
    status, body = charge(client, shop, order)
    assert (status, body["code"]) == (409, "charge_in_progress")
    # When the claim has run out, the next try finishes the same attempt
    _run_out(database, order["id"])
    status, pix = charge(client, shop, order)
    # Then it found the payment Asaas made: still one payment, now stored
    assert status == 201, pix
    assert pix["attempt"] == 1
    assert len(asaas._accounts[KEY].payments) == 1
    assert pix["asaas_payment_id"] == next(iter(asaas._accounts[KEY].payments))


def test_a_stored_asaas_payment_id_is_never_replaced(
    client: Client, asaas: Any, database: PgDatabase, fakes: tuple[FakeCipher, Any]
) -> None:
    # Given a request held just before creating its payment, whose claim then runs out, and a
    # later try that creates and stores the charge's payment meanwhile
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    gate = GateTransport(asaas, "POST /payments")
    service, db = _service(database, fakes[0], gate)
    first: list[Any] = []

    def slow() -> None:
        try:
            first.append(
                service.create_charge(
                    _owner(shop), UUID(order["id"]), billing_type="PIX", value_cents=None, due_date=None
                )
            )
        except BaseException as exc:
            first.append(exc)

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        assert gate.arrived.wait(30)
        _run_out(database, order["id"])
        status, stored = charge(client, shop, order)
        assert status == 201, stored
    finally:
        gate.release.set()
        thread.join()
        db.close()
    # When the held request's late payment comes back
    (late,) = first
    # Then it is refused (409) and the stored payment stays; its own duplicate is deleted at Asaas
    assert getattr(late, "status", None) == 409, late
    assert _rows(database, "select asaas_payment_id from charges where order_id = %s", order["id"]) == [
        (stored["asaas_payment_id"],)
    ]
    live = [p for p in asaas._accounts[KEY].payments.values() if not p["deleted"]]
    assert [p["id"] for p in live] == [stored["asaas_payment_id"]]


def test_a_charge_whose_creations_answers_were_lost_makes_one_customer_and_one_payment(
    client: Client, asaas: Any
) -> None:
    # Given an Asaas that creates the customer and the payment but whose answers time out
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop, 19999)
    asaas.lose_answers = ["POST /customers", "POST /payments"]
    # When the order is charged
    status, pix = charge(client, shop, order)
    # Then the charge is made from what Asaas made: one customer, one payment, each sent once
    assert status == 201, pix
    assert len(asaas._accounts[KEY].customers) == 1
    assert len(asaas._accounts[KEY].payments) == 1
    assert pix["asaas_payment_id"] == next(iter(asaas._accounts[KEY].payments))
    creations = [c for c in asaas.requests if c[0] == "POST" and c[1] != "/webhooks"]
    assert creations == [("POST", "/customers"), ("POST", "/payments")]
    # And the value went over as the exact decimal of its centavos
    assert asaas.payment(pix["asaas_payment_id"])["value"] == 199.99


def test_a_5xx_after_a_creation_is_looked_up_before_sending_again(client: Client, asaas: Any) -> None:
    # Given an Asaas that answers 502 after creating the payment
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    original = asaas._route

    def broken_after_work(account: Any, method: str, path: str, params: Any, body: Any) -> Any:
        answer = original(account, method, path, params, body)
        if (method, path) == ("POST", "/payments") and not getattr(broken_after_work, "done", False):
            broken_after_work.done = True  # type: ignore[attr-defined]
            return 502, {"errors": [{"code": "x", "description": "gateway"}]}, {}
        return answer

    asaas._route = broken_after_work
    # When the order is charged
    status, pix = charge(client, shop, order)
    # Then the payment Asaas made is found by its reference, not made again
    assert status == 201, pix
    assert len(asaas._accounts[KEY].payments) == 1


def test_connecting_when_the_webhooks_answer_is_lost_registers_one_webhook(
    client: Client, asaas: Any
) -> None:
    # Given an Asaas that registers the webhook but whose answer is lost
    shop = signup(client)
    asaas.lose_answers = ["POST /webhooks"]
    # When the shop connects its account
    account = connect(client, shop)
    # Then one webhook is registered, the one the shop was given
    hooks = asaas._accounts[KEY].webhooks
    assert [(h["url"], h["authToken"]) for h in hooks] == [(account["webhook_url"], account["webhook_token"])]


def test_a_refund_whose_answer_was_lost_is_sent_once(client: Client, asaas: Any, queue: FakeQueue) -> None:
    # Given a paid charge, and an Asaas that takes the refund but whose answer times out
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    _, pix = charge(client, shop, order)
    asaas.pay_by_id(pix["asaas_payment_id"])
    queue.drain()
    asaas.lose_answers = ["POST /payments/*/refund"]
    # When the owner refunds it
    status, refunded, _ = client.call("POST", f"/charges/{pix['id']}/refund", shop.access_token)
    # Then the refund Asaas took is read back: the charge follows it, and it was sent once
    assert status == 200, refunded
    assert refunded["status"] in ("refunding", "refunded")
    assert asaas.requests.count(("POST", f"/payments/{pix['asaas_payment_id']}/refund")) == 1
    # And a second click finds it taken: no second refund is sent
    again = client.call("POST", f"/charges/{pix['id']}/refund", shop.access_token)
    assert again[0] == 409
    assert asaas.requests.count(("POST", f"/payments/{pix['asaas_payment_id']}/refund")) == 1


def test_a_refund_asaas_already_shows_is_not_sent_again(
    client: Client, asaas: Any, queue: FakeQueue, database: PgDatabase
) -> None:
    # Given a paid charge whose refund Asaas took while our answer and read-back were lost
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    _, pix = charge(client, shop, order)
    asaas.pay_by_id(pix["asaas_payment_id"])
    queue.drain()
    refund_call = ("POST", f"/payments/{pix['asaas_payment_id']}/refund")
    asaas.lose_answers = ["POST /payments/*/refund"]
    _down_after(asaas, "POST /payments/*/refund", "GET /payments/*")
    status, body, _ = client.call("POST", f"/charges/{pix['id']}/refund", shop.access_token)
    assert (status, body["code"]) == (502, "payment_provider_error"), body
    assert "não confirmou o estorno" in body["message"]
    # When the owner tries again (once the first try's claim ran out)
    busy = client.call("POST", f"/charges/{pix['id']}/refund", shop.access_token)
    assert (busy[0], busy[1]["code"]) == (409, "charge_in_progress")  # the lost answer holds it a while
    _rows(database, "update charges set claimed_until = now() where id = %s returning 1", pix["id"])
    status, refunded, _ = client.call("POST", f"/charges/{pix['id']}/refund", shop.access_token)
    # Then Asaas's refund is read and followed; no second refund is sent
    assert status == 200, refunded
    assert refunded["status"] in ("refunding", "refunded")
    assert asaas.requests.count(refund_call) == 1


def test_provisioning_whose_creations_answers_were_lost_makes_one_customer_and_subscription(
    client: Client, platform: Platform
) -> None:
    # Given an Asaas that creates the shop's customer and subscription but whose answers time out
    shop = signup(client)
    platform.sim.lose_answers = ["POST /customers", "POST /subscriptions"]
    # When the shop is provisioned
    assert platform.provision(shop) == "provisioned"
    # Then exactly one of each exists, and the shop holds them
    assert len(platform.account().customers) == 1
    assert len(platform.account().subscriptions) == 1
    assert len(platform.payments_of(shop)) == 1


@pytest.mark.parametrize("lost", ["POST /customers", "POST /payments"])
def test_a_lost_answer_and_a_failed_lookup_leave_nothing_twice_for_the_next_try(
    client: Client, asaas: Any, lost: str
) -> None:
    # Given a creation whose answer was lost and whose lookup failed too (Asaas unreachable)
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    asaas.lose_answers = [lost]
    _down_after(asaas, lost, lost.replace("POST", "GET"))
    status, body = charge(client, shop, order)
    assert (status, body["code"]) == (502, "payment_provider_error")
    # When the shop tries again (Asaas back)
    status, pix = charge(client, shop, order)
    # Then the next try finds what Asaas made: one customer, one payment
    assert status == 201, pix
    assert len(asaas._accounts[KEY].customers) == 1
    assert len(asaas._accounts[KEY].payments) == 1
