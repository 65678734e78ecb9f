"""The customer's side, in a real browser: headless Chromium (Debian's) on a phone-sized screen
opens the quote link served by the deployed local API, reads it, types the name, approves and
sees the confirmation; an expired link shows a clear page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.shops import new_shop


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="pt-BR",
        user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/156.0 Mobile Safari/537.36",
    )
    page = context.new_page()
    yield page
    context.close()


def _quote(http: httpx.Client, stack: dict[str, Any], price_cents: int) -> tuple[dict, dict[str, str]]:
    headers = {"Authorization": f"Bearer {new_shop(http, 'Conserta Fácil Navegador')['access_token']}"}
    phone = f"41 9{uuid.uuid4().int % 10**8:08d}"
    customer = http.post(
        "/customers", headers=headers, json={"name": "Joana Navegador", "phone": phone}
    ).json()
    device = http.post(
        f"/customers/{customer['id']}/devices",
        headers=headers,
        json={"type": "phone", "brand": "Xiaomi", "model": "Redmi Note 13"},
    ).json()
    order = http.post(
        "/orders",
        headers=headers,
        json={"customer_id": customer["id"], "device_id": device["id"], "reported_problem": "Tela trincada"},
    ).json()
    moved = http.post(
        f"/orders/{order['id']}/transitions", headers=headers, json={"to": "diagnosing", "version": 1}
    )
    assert moved.status_code == 200, moved.text
    quote = http.post(
        f"/orders/{order['id']}/quotes",
        headers=headers,
        json={
            "lines": [
                {"kind": "labour", "description": "Troca de tela com película", "price_cents": price_cents}
            ],
            "deadline_days": 2,
        },
    )
    assert quote.status_code == 201, quote.text
    return quote.json(), headers


def test_customer_reads_and_approves_the_quote_on_a_phone(
    http: httpx.Client, stack: dict[str, Any], phone: Any, tmp_path: Any
) -> None:
    quote, headers = _quote(http, stack, 38990)
    # The link in the shop's message is absolute and points at this API
    link = f"{stack['api_url']}/public/quotes/{quote['public_token']}"
    assert link in quote["rendered_text"]

    response = phone.goto(link)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    assert phone.locator("h1").inner_text() == "Conserta Fácil Navegador"
    assert phone.locator("#total").inner_text() == "R$ 389,90"
    assert "Troca de tela com película" in phone.content()
    # Phone-sized: no horizontal scrolling
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.fill("#name", "Joana Navegador")
    phone.get_by_role("button", name="Aprovar orçamento").click()
    notice = phone.locator("#notice")
    notice.wait_for()
    assert "Orçamento aprovado" in notice.inner_text()
    phone.screenshot(path=str(tmp_path / "quote-approved.png"), full_page=True)

    decided = http.get(f"/quotes/{quote['id']}", headers=headers).json()
    assert (decided["status"], decided["decided_name"], decided["decided_via"]) == (
        "approved",
        "Joana Navegador",
        "link",
    )
    assert "Pixel 8" in decided["decided_user_agent"]
    order = http.get(f"/orders/{quote['order_id']}", headers=headers).json()
    assert order["status"] == "approved"

    # Opening the link again shows the decision, not the form
    phone.goto(link)
    assert phone.locator("form").count() == 0
    assert "aprovado por Joana Navegador" in phone.locator("#notice").inner_text()


def test_an_expired_link_shows_a_clear_page(http: httpx.Client, stack: dict[str, Any], phone: Any) -> None:
    quote, headers = _quote(http, stack, 10000)
    with psycopg.connect(stack["migrator_database_url"]) as conn:
        # Row-level security binds every role to a shop: act in the quote's own.
        conn.execute("select set_config('app.tenant_id', %s, false)", (quote["public_token"].split(".")[0],))
        expired = conn.execute(
            "update quotes set public_expires_at = now() - interval '1 second', "
            "valid_until = current_date - 1 where id = %s",
            (quote["id"],),
        )
        assert expired.rowcount == 1
    response = phone.goto(f"{stack['api_url']}/public/quotes/{quote['public_token']}")
    assert response.status == 200
    assert phone.locator("form").count() == 0
    assert "venceu em" in phone.locator("#notice").inner_text()
    assert http.get(f"/quotes/{quote['id']}", headers=headers).json()["status"] == "pending"


def test_a_mistyped_link_shows_a_clear_page(http: httpx.Client, stack: dict[str, Any], phone: Any) -> None:
    quote, _ = _quote(http, stack, 10000)
    response = phone.goto(f"{stack['api_url']}/public/quotes/{quote['public_token'][:-3]}xyz")
    assert response.status == 404
    assert "Link não encontrado" in phone.content()
