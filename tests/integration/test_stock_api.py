"""Stock through the API handler against the real database: the parts catalogue and its search,
reservations by approved quotes (never more than the shelf) and their release."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, signup
from tests.integration.shop_helpers import (
    _ok,
    _part_counts,
    move,
    part,
    quoted_order,
)


def test_cancelling_releases_the_parts(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    screen = part(client, shop, quantity=1)
    order, quote = quoted_order(client, shop, [{"kind": "part", "part_id": screen["id"]}])
    _ok(
        client.call(
            "POST",
            f"/quotes/{quote['id']}/decision",
            shop.access_token,
            body={"decision": "approve", "name": "Ana"},
        )
    )
    assert _part_counts(database, screen["id"]) == (1, 1)
    # The count cannot go below what orders hold
    status, body, _ = client.call(
        "POST", f"/parts/{screen['id']}/movements", shop.access_token, body={"kind": "adjust", "quantity": 0}
    )
    assert status == 409
    assert body["details"]["reserved"] == 1
    order = _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))
    status, body = move(client, shop, order, "cancelled", reason="Cliente desistiu")
    assert status == 200, body
    assert _part_counts(database, screen["id"]) == (1, 0)
    kinds = [
        m["kind"]
        for m in _ok(client.call("GET", f"/parts/{screen['id']}/movements", shop.access_token))["items"]
    ]
    assert kinds == ["release", "reserve", "receive"]


def test_parallel_approvals_never_reserve_more_than_the_shelf(client: Client, database: PgDatabase) -> None:
    from assistec.db.connection import Database
    from assistec.services.outbox import OutboxRelay
    from assistec.services.quotes import QuotesService
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings

    shop = signup(client)
    screen = part(client, shop, quantity=3)
    tokens = [
        quoted_order(client, shop, [{"kind": "part", "part_id": screen["id"]}])[1]["public_token"]
        for _ in range(8)
    ]
    barrier = threading.Barrier(len(tokens))
    failures: list[BaseException] = []

    def approve(token: str) -> None:
        db = Database(DatabaseSettings(database_url=database.app_url, db_sslmode="disable"))  # type: ignore[call-arg]
        try:
            barrier.wait()
            QuotesService(UnitsOfWork(db, OutboxRelay(db, FakeBus()))).decide_on_link(
                token, approve=True, name="Cliente", ip="127.0.0.1", user_agent="pytest"
            )
        except BaseException as exc:
            failures.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=approve, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert _part_counts(database, screen["id"]) == (3, 3)
    with psycopg.connect(database.superuser_url) as conn:
        held = conn.execute(
            "select reserved, count(*) from reservations where part_id = %s "
            "group by reserved order by reserved",
            (screen["id"],),
        ).fetchall()
    assert held == [(0, 5), (1, 3)]  # three orders hold theirs, five wait for stock

    # A waiting order cannot start the repair; stock arriving serves the oldest waiting orders first
    orders = _ok(client.call("GET", "/orders", shop.access_token, query={"status": "approved"}))["items"]
    waiting = [o for o in orders if _reserved_for(database, o["id"]) == 0]
    status, body = move(client, shop, waiting[0], "repairing")
    assert status == 409
    assert "Faltam peças" in body["message"]
    _ok(
        client.call(
            "POST",
            f"/parts/{screen['id']}/movements",
            shop.access_token,
            body={"kind": "receive", "quantity": 2},
        )
    )
    assert _part_counts(database, screen["id"]) == (5, 5)


def _reserved_for(database: PgDatabase, order_id: str) -> int:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute(
            "select coalesce(sum(reserved), 0) from reservations where order_id = %s", (order_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_parts_catalogue_search_and_permissions(client: Client) -> None:
    shop = signup(client)
    part(client, shop, name="Bateria iPhone 11", brand="Apple", model="iPhone 11", sku="BAT-IP11", quantity=0)
    part(client, shop, name="Tela iPhone 11 incell", brand="Apple", model="iPhone 11", quantity=4)
    part(client, shop, name="Conector de carga Moto G84", brand="Motorola", model="Moto G84")
    found = _ok(client.call("GET", "/stock/search", shop.access_token, query={"q": "iphone 11"}))["items"]
    assert [p["name"] for p in found] == ["Tela iPhone 11 incell", "Bateria iPhone 11"]  # in stock first
    assert found[0]["available"] == 4
    assert [
        p["name"]
        for p in _ok(client.call("GET", "/stock/search", shop.access_token, query={"q": "CONECTOR"}))["items"]
    ] == ["Conector de carga Moto G84"]
    low = _ok(client.call("GET", "/parts", shop.access_token, query={"low_stock": "true"}))["items"]
    assert [p["sku"] for p in low] == ["BAT-IP11"]
    status, body, _ = client.call(
        "POST", "/parts", shop.access_token, body={"name": "Outra", "sku": "bat-ip11", "price_cents": 1}
    )
    assert (status, body["details"]) == (409, {"field": "sku"})
    status, body, _ = client.call(
        "POST", "/parts", shop.access_token, body={"name": "Peça", "price_cents": -1}
    )
    assert status == 422
    # Attendants look stock up but do not change it
    email = f"balcao-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    _ok(
        client.call(
            "POST",
            "/users",
            shop.access_token,
            body={"email": email, "name": "Balcão", "role": "attendant", "password": "senha-do-time"},
        )
    )
    token = _ok(client.call("POST", "/auth/login", body={"email": email, "password": "senha-do-time"}))[
        "access_token"
    ]
    assert client.call("GET", "/stock/search", token, query={"q": "tela"})[0] == 200
    assert client.call("POST", "/parts", token, body={"name": "Peça", "price_cents": 1})[0] == 403
    # Other shops see none of it
    other = signup(client)
    assert _ok(client.call("GET", "/stock/search", other.access_token, query={"q": "iphone"}))["items"] == []


@pytest.mark.parametrize("path", ["/parts", "/customers", "/stock/search"])
def test_a_nul_character_in_the_query_is_422_not_a_database_error(client: Client, path: str) -> None:
    # schemathesis found GET /parts?q=A\x00 reaching PostgreSQL (500)
    shop = signup(client)
    status, body, _ = client.call("GET", path, shop.access_token, query={"q": "A\x00b"})
    assert (status, body["code"]) == (422, "validation_error")
