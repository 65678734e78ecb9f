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
