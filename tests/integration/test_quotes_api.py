"""Quotes end to end through the API handler against the real database: from the quote to the
repair and its warranty, the lines a quote may have, and the audit trail it leaves."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, signup
from tests.integration.shop_helpers import (
    _ok,
    _part_counts,
    move,
    open_order,
    page,
    part,
    quoted_order,
    shop_date,
)


def test_the_whole_repair_from_quote_to_warranty(client: Client, database: PgDatabase, bus: FakeBus) -> None:
    shop = signup(client, name="Conserta Já")
    screen = part(client, shop)
    _ok(
        client.call(
            "POST",
            "/price-rules",
            shop.access_token,
            body={"service": "Troca de tela", "device_type": "phone", "price_cents": 20000},
        )
    )
    _ok(
        client.call(
            "POST",
            "/price-rules",
            shop.access_token,
            body={
                "service": "Troca de tela",
                "device_type": "phone",
                "brand": "Samsung",
                "price_cents": 25000,
            },
        )
    )
    order, quote = quoted_order(
        client,
        shop,
        [
            {"kind": "service", "service": "troca de tela"},
            {"kind": "part", "part_id": screen["id"]},
            {"kind": "labour", "description": "Limpeza interna", "price_cents": 5000},
        ],
    )
    # Priced by the most specific rule (brand beats the type's fallback), the part at its price
    assert [(ln["kind"], ln["unit_price_cents"]) for ln in quote["lines"]] == [
        ("service", 25000),
        ("part", 15000),
        ("labour", 5000),
    ]
    assert (quote["subtotal_cents"], quote["discount_cents"], quote["total_cents"]) == (45000, 0, 45000)
    assert order["status"] == "quote_sent"
    text = quote["rendered_text"]
    assert "R$ 450,00" in text
    assert "Ana Souza" in text
    assert "Samsung Galaxy A54" in text
    assert "Prazo: 3 dias úteis" in text
    assert f"Válido até {quote['valid_until'][8:10]}/" in text
    # The link is absolute, on the API's own host and stage, as the customer's phone needs it
    assert (
        f"https://abcdef1234.execute-api.sa-east-1.amazonaws.com/v1/public/quotes/{quote['public_token']}"
        in text
    )
    # No work before approval
    status, body = move(client, shop, order, "repairing")
    assert status == 409

    # The customer opens the link on the phone, reads, types the name and approves
    link = f"/public/quotes/{quote['public_token']}"
    status, html, headers = page(client, "GET", link)
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert "Conserta Já" in html
    assert "R$ 450,00" in html
    assert 'name="decision" value="approve"' in html
    assert "default-src 'none'" in headers["content-security-policy"]
    status, html, _ = page(
        client,
        "POST",
        f"{link}/decision",
        form={"name": "Ana Souza", "decision": "approve"},
        **{"X-Forwarded-For": "x"},
    )
    assert status == 200, html
    assert "Orçamento aprovado" in html
    decided = _ok(client.call("GET", f"/quotes/{quote['id']}", shop.access_token))
    assert decided["status"] == "approved"
    assert decided["decided_name"] == "Ana Souza"
    assert decided["decided_via"] == "link"
    assert decided["decided_ip"]
    assert decided["decided_user_agent"].startswith("Mozilla/5.0")
    order = _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))
    assert order["status"] == "approved"
    assert _part_counts(database, screen["id"]) == (2, 1)
    history = _ok(client.call("GET", f"/orders/{order['id']}/history", shop.access_token))["items"]
    assert history[-1]["actor_label"] == "Cliente: Ana Souza (link)"
    assert history[-1]["actor_user_id"] is None
    approved_event = bus.details("OrderStatusChanged")[-1]
    assert approved_event["status"] == "approved"
    assert approved_event["missing_parts"] == {}
    # The link used again: a clear answer, nothing changes
    status, html, _ = page(
        client, "POST", f"{link}/decision", form={"name": "Outra Pessoa", "decision": "reject"}
    )
    assert status == 409
    assert "já foi aprovado por Ana Souza" in html
    assert _ok(client.call("GET", f"/quotes/{quote['id']}", shop.access_token))["decided_name"] == "Ana Souza"

    # The repair takes the part off the shelf; delivery starts the warranty
    for to in ("repairing", "quality_check", "ready", "delivered"):
        status, body = move(client, shop, order, to)
        assert status == 200, body
        order = body["order"]
    assert _part_counts(database, screen["id"]) == (1, 0)
    assert order["warranty_until"] == (shop_date(order["delivered_at"]) + timedelta(days=90)).isoformat()

    # The tracking link shows status and dates only
    status, tracking, _ = client.call(
        "GET", f"/public/orders/{order['tracking_token']}", query={"format": "json"}
    )
    assert status == 200
    assert (tracking["status"], tracking["status_label"], tracking["order_number"]) == (
        "delivered",
        "Entregue",
        order["number"],
    )
    assert set(tracking) == {
        "shop_name",
        "logo_url",
        "order_number",
        "status",
        "status_label",
        "promised_at",
        "delivered_at",
        "warranty_until",
        "steps",
    }
    status, html, _ = page(client, "GET", f"/public/orders/{order['tracking_token']}")
    assert status == 200
    assert "Entregue" in html
    assert "Garantia até" in html

    # A warranty return opens a linked order
    status, again, _ = client.call(
        "POST",
        f"/orders/{order['id']}/warranty-return",
        shop.access_token,
        body={"reported_problem": "Tela piscando"},
    )
    assert status == 201, again
    assert (again["warranty_of"], again["customer_id"], again["status"]) == (
        order["id"],
        order["customer_id"],
        "received",
    )


def test_an_expired_warranty_refuses_the_return(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    order, quote = quoted_order(
        client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 100}]
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
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "update service_orders set warranty_until = (now() at time zone 'America/Sao_Paulo')::date - 1 "
            "where id = %s",
            (order["id"],),
        )
    status, body, _ = client.call(
        "POST",
        f"/orders/{order['id']}/warranty-return",
        shop.access_token,
        body={"reported_problem": "Voltou"},
    )
    assert (status, body["code"]) == (409, "conflict")
    assert "garantia desta OS terminou" in body["message"]


def test_quote_lines_are_checked(client: Client, database: PgDatabase) -> None:
    shop, other = signup(client), signup(client)
    foreign_part = part(client, other)
    order = open_order(client, shop)
    move(client, shop, order, "diagnosing")
    for lines, field in [
        ([{"kind": "service", "service": "Troca de conector"}], "lines.service"),
        ([{"kind": "part", "part_id": foreign_part["id"]}], "lines.part_id"),
        ([{"kind": "labour", "description": "x", "price_cents": 10}], "lines.0.labour.description"),
        ([{"kind": "brinde"}], "lines.0"),
        ([], "lines"),
    ]:
        status, body, _ = client.call(
            "POST",
            f"/orders/{order['id']}/quotes",
            shop.access_token,
            body={"lines": lines, "deadline_days": 1},
        )
        assert (status, body["code"]) == (422, "validation_error"), body
        assert any(d["field"].startswith(field) for d in body["details"]), (field, body)
    with psycopg.connect(database.superuser_url) as conn:
        assert conn.execute("select count(*) from quotes where order_id = %s", (order["id"],)).fetchone() == (
            0,
        )
    # An order that is not being diagnosed cannot be quoted
    fresh = open_order(client, shop)
    status, body, _ = client.call(
        "POST",
        f"/orders/{fresh['id']}/quotes",
        shop.access_token,
        body={"lines": [{"kind": "labour", "description": "Reparo", "price_cents": 1}], "deadline_days": 1},
    )
    assert status == 409
    assert body["details"]["status"] == "received"


def test_audit_log_tells_who_changed_orders_quotes_and_stock(client: Client) -> None:
    shop = signup(client)
    screen = part(client, shop)
    _, quote = quoted_order(client, shop, [{"kind": "part", "part_id": screen["id"]}])
    page(
        client,
        "POST",
        f"/public/quotes/{quote['public_token']}/decision",
        form={"name": "Ana", "decision": "approve"},
    )
    entries = _ok(client.call("GET", "/audit", shop.access_token, query={"limit": "100"}))["items"]
    seen = {(e["entity"], e["action"]) for e in entries}
    assert {
        ("part", "create"),
        ("order", "create"),
        ("order", "transition"),
        ("quote", "create"),
        ("quote", "approve"),
    } <= seen
    approval = next(e for e in entries if (e["entity"], e["action"]) == ("quote", "approve"))
    assert approval["actor_user_id"] is None
    assert approval["changes"]["name"] == "Ana"
    # One order's trail, newest first
    trail = _ok(
        client.call(
            "GET", "/audit", shop.access_token, query={"entity": "order", "entity_id": quote["order_id"]}
        )
    )["items"]
    assert [e["action"] for e in trail] == ["transition", "transition", "transition", "create"]
    assert [e["changes"]["status"]["to"] for e in trail if e["action"] == "transition"] == [
        "approved",
        "quote_sent",
        "diagnosing",
    ]
