"""What several API test modules do to get a shop's world in place: a customer with a device, an
order moved along, a part on the shelf, a quote sent; and the public pages as a phone gets them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import psycopg

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, Shop, rest_event


def _ok(result: tuple[int, Any, dict]) -> Any:
    status, body, _ = result
    assert status in (200, 201), body
    return body


def customer_and_device(client: Client, shop: Shop) -> tuple[str, str]:
    phone = f"11 9{uuid.uuid4().int % 10**8:08d}"
    status, customer, _ = client.call(
        "POST", "/customers", shop.access_token, body={"name": "Ana Souza", "phone": phone}
    )
    assert status == 201, customer
    status, device, _ = client.call(
        "POST",
        f"/customers/{customer['id']}/devices",
        shop.access_token,
        body={"type": "phone", "brand": "Samsung", "model": "Galaxy A54"},
    )
    assert status == 201, device
    return customer["id"], device["id"]


def open_order(client: Client, shop: Shop, **extra: Any) -> dict:
    customer_id, device_id = customer_and_device(client, shop)
    status, order, _ = client.call(
        "POST",
        "/orders",
        shop.access_token,
        body={
            "customer_id": customer_id,
            "device_id": device_id,
            "reported_problem": "Tela quebrada após queda",
            **extra,
        },
    )
    assert status == 201, order
    return order


def move(client: Client, shop: Shop, order: dict, to: str, reason: str | None = None) -> tuple[int, dict]:
    status, body, _ = client.call(
        "POST",
        f"/orders/{order['id']}/transitions",
        shop.access_token,
        body={"to": to, "version": order["version"], **({"reason": reason} if reason else {})},
    )
    return status, body


def part(client: Client, shop: Shop, **fields: Any) -> dict:
    body = {"name": "Tela Galaxy A54 original", "model": "A54", "quantity": 2, "price_cents": 15000, **fields}
    return _ok(client.call("POST", "/parts", shop.access_token, body=body))


def quoted_order(
    client: Client, shop: Shop, lines: list[dict], *, deadline_days: int = 3
) -> tuple[dict, dict]:
    order = open_order(client, shop)
    status, body = move(client, shop, order, "diagnosing")
    assert status == 200, body
    quote = _ok(
        client.call(
            "POST",
            f"/orders/{order['id']}/quotes",
            shop.access_token,
            body={"lines": lines, "deadline_days": deadline_days},
        )
    )
    return _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token)), quote


def page(
    client: Client, method: str, path: str, *, form: dict | None = None, **headers: str
) -> tuple[int, str, dict]:
    """A public page as a phone's browser gets it: HTML, maybe after posting a form."""
    event = rest_event(
        method,
        path,
        raw_body=urlencode(form) if form is not None else None,
        headers={
            "Accept": "text/html,application/xhtml+xml",
            "User-Agent": "Mozilla/5.0 (Linux; Android 14) Mobile",
            **({"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}),
            **headers,
        },
    )
    response = client.invoke(event)
    return (
        response["statusCode"],
        response["body"],
        {k.lower(): v[0] for k, v in response["multiValueHeaders"].items()},
    )


def _part_counts(database: PgDatabase, part_id: str) -> tuple[int, int]:
    """A part's (quantity on the shelf, reserved by orders)."""
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute("select quantity, reserved from parts where id = %s", (part_id,)).fetchone()
    assert row is not None
    return row[0], row[1]


def shop_date(timestamp: str) -> date:
    """The calendar day of an API timestamp where the shop is (a new shop is in São Paulo).

    Dates the shop sees (warranty end, quote validity) are its local days: at 22:00 in São Paulo
    it is already tomorrow in UTC, so the UTC date of a timestamp is the wrong day then."""
    return datetime.fromisoformat(timestamp).astimezone(ZoneInfo("America/Sao_Paulo")).date()
