"""A shop's Asaas account in the payment tests: connecting it (the simulator's test key), an approved
order to charge, a charge, and rows read straight from the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, Shop
from tests.integration.shop_helpers import _ok, quoted_order

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
