"""The public approval link and the customer's pages (as a phone's browser gets them), through the
API handler against the real database: superseded, expired, mangled links and bad forms."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, signup
from tests.integration.shop_helpers import (
    _ok,
    move,
    open_order,
    page,
    quoted_order,
)


def test_a_new_version_supersedes_and_the_old_link_is_gone(client: Client) -> None:
    shop = signup(client)
    order, first = quoted_order(
        client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 10000}]
    )
    second = _ok(
        client.call(
            "POST",
            f"/orders/{order['id']}/quotes",
            shop.access_token,
            body={
                "lines": [{"kind": "labour", "description": "Reparo", "price_cents": 8000}],
                "deadline_days": 2,
            },
        )
    )
    assert (first["version"], second["version"]) == (1, 2)
    versions = _ok(client.call("GET", f"/orders/{order['id']}/quotes", shop.access_token))["items"]
    assert [(q["version"], q["status"]) for q in versions] == [(2, "pending"), (1, "superseded")]
    status, html, _ = page(client, "GET", f"/public/quotes/{first['public_token']}")
    assert status == 200
    assert "substituído por uma versão mais nova" in html
    assert "<form" not in html
    status, body, _ = client.call(
        "POST",
        f"/public/quotes/{first['public_token']}/decision",
        body={"decision": "approve", "name": "Ana Souza"},
    )
    assert (status, body["code"], body["details"]["reason"]) == (410, "quote_link_gone", "superseded")
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["status"] == "quote_sent"


def test_an_expired_link_shows_a_clear_page_and_changes_nothing(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    order, quote = quoted_order(
        client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 10000}]
    )
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "update quotes set public_expires_at = now() - interval '1 minute', "
            "valid_until = current_date - 1 "
            "where id = %s",
            (quote["id"],),
        )
    link = f"/public/quotes/{quote['public_token']}"
    status, html, _ = page(client, "GET", link)
    assert status == 200
    assert "venceu em" in html
    assert "<form" not in html
    status, html, _ = page(
        client, "POST", f"{link}/decision", form={"name": "Ana Souza", "decision": "approve"}
    )
    assert status == 410
    assert "venceu em" in html
    assert _ok(client.call("GET", f"/quotes/{quote['id']}", shop.access_token))["status"] == "pending"
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["status"] == "quote_sent"


@pytest.mark.parametrize(
    ("form", "fragment"),
    [
        ({"name": "A", "decision": "approve"}, "Digite seu nome"),
        ({"name": "Ana Souza", "decision": "talvez"}, "Digite"),
    ],
)
def test_a_bad_decision_form_shows_the_quote_again(client: Client, form: dict, fragment: str) -> None:
    shop = signup(client)
    _, quote = quoted_order(client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 10000}])
    status, html, _ = page(client, "POST", f"/public/quotes/{quote['public_token']}/decision", form=form)
    assert status == 422
    assert fragment in html
    assert 'action="decision"' in html
    assert _ok(client.call("GET", f"/quotes/{quote['id']}", shop.access_token))["status"] == "pending"


def test_unknown_or_mangled_links(client: Client) -> None:
    shop = signup(client)
    _, quote = quoted_order(client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 10000}])
    forged = quote["public_token"][:-4] + "AAAA"
    status, html, _ = page(client, "GET", f"/public/quotes/{forged}")
    assert status == 404
    assert "Link não encontrado" in html
    other_tenant = str(uuid.uuid4()) + quote["public_token"][36:]
    assert page(client, "GET", f"/public/quotes/{other_tenant}")[0] == 404
    status, body, _ = client.call("GET", "/public/quotes/nada")
    assert (status, body["code"]) == (422, "validation_error")
    # A tracking token is not a quote token
    order = _ok(client.call("GET", f"/orders/{quote['order_id']}", shop.access_token))
    assert page(client, "GET", f"/public/quotes/{order['tracking_token']}")[0] == 404


def test_a_configured_public_base_url_wins(client: Client, api_root: Any) -> None:
    # Given a deployment configured with PUBLIC_BASE_URL
    api_root.settings = api_root.settings.model_copy(
        update={"public_base_url": "https://loja.assistec.com.br"}
    )
    shop = signup(client)
    _, quote = quoted_order(client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 100}])
    assert f"https://loja.assistec.com.br/public/quotes/{quote['public_token']}" in quote["rendered_text"]


def test_the_shops_logo_appears_on_the_customers_pages(client: Client) -> None:
    shop = signup(client, name="Logo Assistência")
    settings = _ok(client.call("GET", "/settings", shop.access_token))
    body = {
        k: settings[k]
        for k in ("version", "timezone", "business_hours", "welcome_message", "out_of_hours_message")
    }
    saved = _ok(
        client.call(
            "PUT",
            "/settings",
            shop.access_token,
            body={**body, "logo_url": "https://cdn.exemplo.com/logo.png"},
        )
    )
    assert saved["logo_url"] == "https://cdn.exemplo.com/logo.png"
    _, quote = quoted_order(client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 100}])
    status, html, _ = page(client, "GET", f"/public/quotes/{quote['public_token']}")
    assert status == 200
    assert '<img src="https://cdn.exemplo.com/logo.png" alt="Logo Logo Assistência">' in html
    assert (
        _ok(client.call("GET", f"/public/quotes/{quote['public_token']}", query={"format": "json"}))[
            "logo_url"
        ]
        == "https://cdn.exemplo.com/logo.png"
    )


def _backdate(database: PgDatabase, query: str, *params: Any) -> None:
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(query, params)


def test_a_decided_quote_is_readable_for_the_configured_days_then_gone(
    client: Client, database: PgDatabase, api_root: Any
) -> None:
    # Given a shop whose links stay readable 30 days after the decision (the default), and a
    # quote the customer approved on the link
    assert api_root.settings.public_link_read_days == 30
    shop = signup(client)
    _, quote = quoted_order(client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 100}])
    link = f"/public/quotes/{quote['public_token']}"
    assert (
        page(client, "POST", f"{link}/decision", form={"name": "Ana Souza", "decision": "approve"})[0] == 200
    )

    # When the decision was 29 days ago, the page still shows it
    _backdate(
        database, "update quotes set decided_at = now() - interval '29 days' where id = %s", quote["id"]
    )
    status, html, _ = page(client, "GET", link)
    assert status == 200
    assert "aprovado por Ana Souza" in html

    # When it was 31 days ago: the expired link's page and JSON (410), for reading and deciding
    _backdate(
        database, "update quotes set decided_at = now() - interval '31 days' where id = %s", quote["id"]
    )
    status, html, _ = page(client, "GET", link)
    assert status == 410
    assert "Link indisponível" in html
    assert "expirou" in html
    assert "Ana Souza" not in html
    assert "Reparo" not in html
    status, body, _ = client.call("GET", link, query={"format": "json"})
    assert (status, body["code"], body["details"]["reason"]) == (410, "link_expired", "read_expired")
    status, body, _ = client.call(
        "POST", f"{link}/decision", body={"decision": "reject", "name": "Ana Souza"}
    )
    assert (status, body["code"]) == (410, "link_expired")
    # Staff still see it
    assert _ok(client.call("GET", f"/quotes/{quote['id']}", shop.access_token))["status"] == "approved"


def test_an_expired_quote_is_readable_for_the_configured_days_after_expiry(
    client: Client, database: PgDatabase, api_root: Any
) -> None:
    # Given a deployment keeping links readable 10 days, and a quote nobody decided
    api_root.settings = api_root.settings.model_copy(update={"public_link_read_days": 10})
    api_root.__dict__.pop("quotes", None)  # the service is built with the setting
    shop = signup(client)
    _, quote = quoted_order(client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 100}])
    link = f"/public/quotes/{quote['public_token']}"

    # When its link expired 9 days ago: the "venceu" page
    _backdate(
        database,
        "update quotes set public_expires_at = now() - interval '9 days' where id = %s",
        quote["id"],
    )
    status, html, _ = page(client, "GET", link)
    assert (status, "venceu em" in html) == (200, True)

    # When it expired 11 days ago: gone
    _backdate(
        database,
        "update quotes set public_expires_at = now() - interval '11 days' where id = %s",
        quote["id"],
    )
    status, body, _ = client.call("GET", link, query={"format": "json"})
    assert (status, body["code"]) == (410, "link_expired")


def test_a_pending_quote_link_never_expires_for_reading_before_its_validity(client: Client) -> None:
    # Given a quote just sent: readable
    shop = signup(client)
    _, quote = quoted_order(client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 100}])
    status, body, _ = client.call("GET", f"/public/quotes/{quote['public_token']}", query={"format": "json"})
    assert (status, body["status"]) == (200, "pending")


def test_the_tracking_link_stops_after_delivery_plus_the_warranty(
    client: Client, database: PgDatabase
) -> None:
    # Given a delivered order (its warranty runs 90 days from delivery)
    shop = signup(client)
    order, _ = quoted_order(client, shop, [{"kind": "labour", "description": "Reparo", "price_cents": 100}])
    link = f"/public/orders/{order['tracking_token']}"
    _ok(
        client.call(
            "POST",
            f"/public/quotes/{_quote_token(client, shop, order)}/decision",
            body={"decision": "approve", "name": "Ana Souza"},
        )
    )
    order = _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))
    for to in ("repairing", "quality_check", "ready", "delivered"):
        status, body = move(client, shop, order, to)
        assert status == 200, body
        order = body["order"]
    assert order["warranty_until"] is not None
    assert page(client, "GET", link)[0] == 200

    # When the warranty's last day was yesterday (in the shop's calendar, whatever the hour)
    _backdate(
        database,
        "update service_orders set warranty_until = (now() at time zone 'America/Sao_Paulo')::date - 1 "
        "where id = %s",
        order["id"],
    )

    # Then the tracking link is gone, in HTML and JSON
    status, html, _ = page(client, "GET", link)
    assert status == 410
    assert "expirou" in html
    status, body, _ = client.call("GET", link, query={"format": "json"})
    assert (status, body["code"], body["details"]["reason"]) == (410, "link_expired", "read_expired")

    # And on the warranty's last day it is still readable
    _backdate(
        database,
        "update service_orders set warranty_until = (now() at time zone 'America/Sao_Paulo')::date "
        "where id = %s",
        order["id"],
    )
    assert page(client, "GET", link)[0] == 200


def test_a_cancelled_orders_tracking_link_stops_after_the_configured_days(
    client: Client, database: PgDatabase
) -> None:
    # Given an order cancelled 31 days ago (links readable 30 days by default)
    shop = signup(client)
    order = open_order(client, shop)
    status, body = move(client, shop, order, "cancelled", reason="Cliente desistiu")
    assert status == 200, body
    link = f"/public/orders/{order['tracking_token']}"
    assert page(client, "GET", link)[0] == 200
    _backdate(
        database,
        "update order_transitions set at = at - interval '31 days' where order_id = %s",
        order["id"],
    )

    # When the customer opens its tracking link: gone
    status, body, _ = client.call("GET", link, query={"format": "json"})
    assert (status, body["code"]) == (410, "link_expired")


def _quote_token(client: Client, shop: Any, order: dict) -> str:
    quotes = _ok(client.call("GET", f"/orders/{order['id']}/quotes", shop.access_token))["items"]
    return str(quotes[0]["public_token"])
