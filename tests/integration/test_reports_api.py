"""/reports: orders by status and technician, revenue of delivered orders, turnaround."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, Shop, signup
from tests.integration.shop_helpers import _ok, move, quoted_order


def _technician(client: Client, shop: Shop, name: str) -> tuple[str, str]:
    email = f"tec-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    user = _ok(
        client.call(
            "POST",
            "/users",
            shop.access_token,
            body={"email": email, "name": name, "role": "technician", "password": "senha-do-time"},
        )
    )
    token = _ok(client.call("POST", "/auth/login", body={"email": email, "password": "senha-do-time"}))
    return user["id"], token["access_token"]


def _deliver(client: Client, shop: Shop, price_cents: int, technician_id: str | None) -> dict:
    order, quote = quoted_order(
        client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": price_cents}]
    )
    if technician_id:
        order = _ok(
            client.call(
                "PATCH",
                f"/orders/{order['id']}",
                shop.access_token,
                body={"version": order["version"], "technician_id": technician_id},
            )
        )
    _ok(
        client.call(
            "POST",
            f"/quotes/{quote['id']}/decision",
            shop.access_token,
            body={"decision": "approve", "name": "Ana"},
        )
    )
    order = _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))
    for to in ("repairing", "ready", "delivered"):
        status, body = move(client, shop, order, to)
        assert status == 200, body
        order = body["order"]
    return order


def test_reports_count_sum_and_time_the_shops_work(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    joao, joao_token = _technician(client, shop, "João Técnico")
    first = _deliver(client, shop, 10000, joao)
    second = _deliver(client, shop, 25050, None)
    quoted_order(client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 999}])
    # Intake 48 h and 24 h before delivery
    with psycopg.connect(database.superuser_url) as conn:
        for order, hours in ((first, 48), (second, 24)):
            conn.execute(
                "update service_orders set created_at = delivered_at - make_interval(hours => %s) "
                "where id = %s",
                (hours, order["id"]),
            )

    by_status = _ok(client.call("GET", "/reports/orders", shop.access_token))
    assert {r["key"]: r["orders"] for r in by_status["rows"]} == {"delivered": 2, "quote_sent": 1}
    by_tech = _ok(client.call("GET", "/reports/orders", shop.access_token, query={"group_by": "technician"}))
    assert {r["key"]: r["orders"] for r in by_tech["rows"]} == {"João Técnico": 1, "Sem técnico": 2}

    revenue = _ok(client.call("GET", "/reports/revenue", shop.access_token, query={"period": "day"}))
    assert revenue["total_cents"] == 35050
    assert sum(r["orders"] for r in revenue["rows"]) == 2

    turnaround = _ok(client.call("GET", "/reports/turnaround", shop.access_token))
    rows = {r["key"]: (r["orders"], r["average_hours"]) for r in turnaround["rows"]}
    assert rows == {None: (2, 36.0), "João Técnico": (1, 48.0), "Sem técnico": (1, 24.0)}

    # A period without deliveries
    past = "2020-01-01"
    empty = _ok(client.call("GET", "/reports/revenue", shop.access_token, query={"from": past, "to": past}))
    assert (empty["total_cents"], empty["rows"]) == (0, [])
    # schemathesis found that an empty period made turnaround a 500 (rollup's grand-total row)
    for path in ("/reports/turnaround", "/reports/orders"):
        assert _ok(client.call("GET", path, shop.access_token, query={"to": "2000-01-01"}))["rows"] == []
    # Bad periods and roles
    status, body, _ = client.call(
        "GET", "/reports/orders", shop.access_token, query={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert (status, body["code"]) == (422, "validation_error")
    status, body, _ = client.call(
        "GET", "/reports/orders", shop.access_token, query={"from": "2024-01-01", "to": "2026-01-01"}
    )
    assert status == 422
    assert client.call("GET", "/reports/revenue", joao_token)[0] == 403
    # Another shop's numbers stay apart
    other = signup(client)
    assert _ok(client.call("GET", "/reports/orders", other.access_token))["rows"] == []


@pytest.mark.parametrize("report", ["/reports/orders", "/reports/revenue", "/reports/turnaround"])
@pytest.mark.parametrize("param", ["from", "to"])
@pytest.mark.parametrize(
    "wrong",
    ["0", "1700000000", "-1", "2026-13-01", "2026-02-30", "2026-01-01T00:00:00", "01/02/2026", "ontem"],
)
def test_a_period_bound_that_is_not_an_iso_date_is_422(
    client: Client, report: str, param: str, wrong: str
) -> None:
    # Given a shop
    shop = signup(client)
    # When a report is asked for a period bound that is not a date (0 would be read as 1970-01-01)
    status, body, _ = client.call("GET", report, shop.access_token, query={param: wrong})
    # Then 422 in our shape, naming the parameter, in pt-BR
    assert (status, body["code"]) == (422, "validation_error"), body
    assert [d["field"] for d in body["details"]] == [f"query.{param}"], body
    assert [d["message"] for d in body["details"]] in (
        ["deve ser uma data AAAA-MM-DD"],  # not shaped like a date
        ["data inválida (AAAA-MM-DD)"],  # shaped like one, but no such day
    ), body


def test_a_period_of_iso_dates_is_read(client: Client) -> None:
    shop = signup(client)
    status, body, _ = client.call(
        "GET", "/reports/orders", shop.access_token, query={"from": "2026-01-01", "to": "2026-01-31"}
    )
    assert status == 200, body
    assert (body["start"], body["end"]) == ("2026-01-01", "2026-01-31")
