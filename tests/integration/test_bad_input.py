"""Bad input on every write route of orders, quotes, stock, rules, payments, the shop's subscription
and the public decision:
malformed JSON, oversized bodies, wrong types and other shops' ids each get their error, and the
shop's data is byte-for-byte what it was before."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, Shop, signup
from tests.integration.shop_helpers import _ok, part, quoted_order

TABLES = (
    "customers",
    "devices",
    "tenant_settings",
    "service_orders",
    "order_transitions",
    "order_workflows",
    "quotes",
    "reservations",
    "parts",
    "stock_movements",
    "price_rules",
    "discount_rules",
    "quote_templates",
    "outbox",
    "audit_log",
    "payment_accounts",
    "charges",
    "webhook_inbox",
    "tenant_subscriptions",
    "subscription_invoices",
    "billing_notices",
)


@dataclass
class World:
    shop: Shop
    other: Shop
    ids: dict[str, str]


def _world(client: Client) -> World:
    shop, other = signup(client), signup(client)
    screen = part(client, shop)
    order, quote = quoted_order(client, shop, [{"kind": "part", "part_id": screen["id"]}])
    rule = _ok(
        client.call(
            "POST",
            "/price-rules",
            shop.access_token,
            body={"service": "Troca", "device_type": "phone", "price_cents": 1},
        )
    )
    discount = _ok(
        client.call(
            "POST", "/discount-rules", shop.access_token, body={"name": "Fiel", "min_days": 30, "percent": 5}
        )
    )
    return World(
        shop=shop,
        other=other,
        ids={
            "order": order["id"],
            "customer": order["customer_id"],
            "device": order["device_id"],
            "quote": quote["id"],
            "token": quote["public_token"],
            "part": screen["id"],
            "rule": rule["id"],
            "discount": discount["id"],
        },
    )


def _snapshot(database: PgDatabase, tenant_id: str) -> dict[str, str]:
    digest = {}
    with psycopg.connect(database.superuser_url) as conn:
        for table in TABLES:
            rows = conn.execute(
                f"select coalesce(string_agg(t::text, '|' order by t::text), '') from {table} t "
                "where tenant_id = %s",
                (tenant_id,),
            ).fetchone()
            assert rows is not None
            digest[table] = hashlib.sha256(rows[0].encode()).hexdigest()
    return digest


# (method, path, a valid body) — the body shows the shape that the "wrong types" case breaks.
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "POST",
        "/orders",
        {"customer_id": "{customer}", "device_id": "{device}", "reported_problem": "Não liga"},
    ),
    ("PATCH", "/orders/{order}", {"version": 3, "diagnosis": "Placa"}),
    ("POST", "/orders/{order}/transitions", {"to": "cancelled", "version": 3}),
    ("POST", "/orders/{order}/warranty-return", {"reported_problem": "Voltou"}),
    (
        "POST",
        "/orders/{order}/quotes",
        {"lines": [{"kind": "labour", "description": "Mão", "price_cents": 1}], "deadline_days": 1},
    ),
    ("POST", "/quotes/{quote}/decision", {"decision": "approve", "name": "Ana"}),
    ("PUT", "/settings/order-workflow", {"version": 0, "disabled_transitions": [], "warranty_days": 30}),
    ("POST", "/price-rules", {"service": "Outra", "device_type": "tablet", "price_cents": 1}),
    ("PATCH", "/price-rules/{rule}", {"version": 1, "price_cents": 2}),
    ("POST", "/discount-rules", {"name": "Outro", "min_days": 10, "percent": 1}),
    ("PATCH", "/discount-rules/{discount}", {"version": 1, "percent": 2}),
    (
        "PUT",
        "/settings/quote-template",
        {"version": 0, "body": "Oi {{CLIENTE}} {{VALOR}}", "validity_days": 3},
    ),
    ("POST", "/parts", {"name": "Peça nova", "price_cents": 1}),
    ("PATCH", "/parts/{part}", {"version": 1, "price_cents": 2}),
    ("POST", "/parts/{part}/movements", {"kind": "receive", "quantity": 1}),
    ("POST", "/public/quotes/{token}/decision", {"decision": "approve", "name": "Ana"}),
    ("POST", "/orders/{order}/charges", {"billing_type": "PIX", "value_cents": 1000}),
    ("PUT", "/settings/payments", {"api_key": "$aact_" + "a" * 30, "environment": "sandbox"}),
    ("PUT", "/billing/plan", {"plan": "profissional", "version": 1}),
    ("POST", "/billing/cancel", {"version": 1}),
]
WITH_IDS = [r for r in ROUTES if "{" in r[1] and "{token}" not in r[1]]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value and "}" in value and "{{" not in value else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _wrong_types(body: dict[str, Any]) -> dict[str, Any]:
    """Every field the wrong JSON type: numbers become lists, everything else an object."""
    return {
        k: ([v] if isinstance(v, (int, float)) and not isinstance(v, bool) else {"x": v})
        for k, v in body.items()
    }


def _call(
    client: Client, world: World, method: str, path: str, token: str | None, **kwargs: Any
) -> tuple[int, Any]:
    path = path.format(**world.ids)
    if path.startswith("/public/"):
        token = None
    status, body, _ = client.call(method, path, token, **kwargs)
    return status, body


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
@pytest.mark.parametrize("case", ["malformed", "oversized", "wrong_types"])
def test_bad_bodies_are_refused_and_change_nothing(
    client: Client, database: PgDatabase, method: str, path: str, body: dict[str, Any], case: str
) -> None:
    world = _world(client)
    before = _snapshot(database, world.shop.tenant_id)
    if case == "malformed":
        status, answer = _call(
            client, world, method, path, world.shop.access_token, raw_body='{"version": 1,'
        )
        assert (status, answer["code"]) in ((422, "invalid_json"), (422, "validation_error")), answer
    elif case == "oversized":
        huge = {**_fill(body, world.ids), "padding": "x" * 70_000}
        status, answer = _call(client, world, method, path, world.shop.access_token, body=huge)
        assert (status, answer["code"]) == (413, "payload_too_large"), answer
    else:
        status, answer = _call(client, world, method, path, world.shop.access_token, body=_wrong_types(body))
        assert (status, answer["code"]) == (422, "validation_error"), answer
        assert answer["message"]
    assert _snapshot(database, world.shop.tenant_id) == before


@pytest.mark.parametrize(("method", "path", "body"), WITH_IDS, ids=[f"{m} {p}" for m, p, _ in WITH_IDS])
def test_another_shops_ids_are_not_found_and_change_nothing(
    client: Client, database: PgDatabase, method: str, path: str, body: dict[str, Any]
) -> None:
    world = _world(client)
    before = _snapshot(database, world.shop.tenant_id)
    status, answer = _call(client, world, method, path, world.other.access_token, body=_fill(body, world.ids))
    assert (status, answer["code"]) == (404, "not_found"), answer
    assert _snapshot(database, world.shop.tenant_id) == before
    # and reads of those ids find nothing either
    for read in (
        "/orders/{order}",
        "/orders/{order}/history",
        "/orders/{order}/quotes",
        "/quotes/{quote}",
        "/parts/{part}",
    ):
        assert client.call("GET", read.format(**world.ids), world.other.access_token)[0] == 404


def test_a_valid_call_does_change_the_snapshot(client: Client, database: PgDatabase) -> None:
    # The snapshot sees changes (else the tests above could not fail)
    world = _world(client)
    before = _snapshot(database, world.shop.tenant_id)
    _ok(client.call("POST", "/parts", world.shop.access_token, body={"name": "Peça nova", "price_cents": 1}))
    after = _snapshot(database, world.shop.tenant_id)
    assert {t for t in TABLES if before[t] != after[t]} == {"parts", "audit_log"}
