"""The shop's documents through the API (issue 13 §1): an order's intake receipt, quote and delivery
receipt rendered to PDF, stored (an in-memory S3 keeping its contract) and handed out as short-lived
links, to staff and on the customer's public links; the shop's address, terms and logo printed on them.

Each PDF is read back with pypdf from what was stored: what the customer would download."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from PIL import Image
from pypdf import PdfReader

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeDocumentStore, Shop, StoredObject, rest_event, signup
from tests.integration.shop_helpers import _ok, move, open_order, page, quoted_order, shop_date

MM = 72 / 25.4
ADDRESS = "Rua das Flores, 123 — Centro, Belo Horizonte/MG"
INTAKE_TERMS = "Aparelhos não retirados em 90 dias serão considerados abandonados."
WARRANTY_TERMS = "A garantia não cobre oxidação posterior à entrega."
LABOUR = [{"kind": "labour", "description": "Troca de tela", "price_cents": 123_456}]


@pytest.fixture
def store(api_root: Any) -> FakeDocumentStore:
    document_store: FakeDocumentStore = api_root.document_store
    return document_store


def _text(pdf: bytes) -> str:
    """All pages' text, whitespace collapsed (wrapping moves line breaks, not words)."""
    return " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())


def _links(pdf: bytes) -> list[str]:
    """The addresses the first page links to (a long one wraps in the text, not in its link: one
    annotation per line it takes)."""
    annotations = PdfReader(io.BytesIO(pdf)).pages[0].get("/Annots") or []
    return list(dict.fromkeys(a.get_object()["/A"]["/URI"] for a in annotations if "/A" in a.get_object()))


def _pdf(store: FakeDocumentStore, answer: dict[str, Any]) -> StoredObject:
    stored = store.at(answer["url"])
    assert stored.data.startswith(b"%PDF-")
    return stored


def _document(client: Client, shop: Shop, order_id: str, kind: str, **query: str) -> tuple[int, Any]:
    status, body, _ = client.call(
        "GET", f"/orders/{order_id}/documents/{kind}", shop.access_token, query=query or None
    )
    return status, body


def _shop_with_terms(client: Client) -> Shop:
    shop = signup(client, name="Conserta Já Assistência")
    current = _ok(client.call("GET", "/settings/documents", shop.access_token))
    _ok(
        client.call(
            "PUT",
            "/settings/documents",
            shop.access_token,
            body={
                "version": current["version"],
                "address": ADDRESS,
                "intake_terms": INTAKE_TERMS,
                "warranty_terms": WARRANTY_TERMS,
            },
        )
    )
    return shop


def _approved_and_delivered(client: Client, shop: Shop) -> dict:
    order, quote = quoted_order(client, shop, LABOUR)
    _ok(
        client.call(
            "POST",
            f"/quotes/{quote['id']}/decision",
            shop.access_token,
            body={"decision": "approve", "name": "Ana Souza"},
        )
    )
    order = _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))
    for to in ("repairing", "ready", "delivered"):
        status, body = move(client, shop, order, to)
        assert status == 200, body
        order = body["order"]
    return order


def _staff_token(client: Client, shop: Shop, role: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    body = {"email": email, "name": "Pessoa da Loja", "role": role, "password": "senha-do-time"}
    assert client.call("POST", "/users", shop.access_token, body=body)[0] == 201
    answer = client.call("POST", "/auth/login", body={"email": email, "password": "senha-do-time"})[1]
    return str(answer["access_token"])


def _browser(client: Client, path: str, **query: str) -> tuple[int, str, dict[str, str]]:
    """A link followed by a phone's browser (HTML preferred), with a query string."""
    response = client.invoke(
        rest_event("GET", path, query=query or None, headers={"Accept": "text/html,application/xhtml+xml"})
    )
    headers = {k.lower(): v[0] for k, v in response["multiValueHeaders"].items()}
    return response["statusCode"], response["body"], headers


def _png(width: int = 120, height: int = 60) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (27, 110, 243)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_each_document_prints_the_order_the_customer_the_device_and_the_shops_texts(
    client: Client, store: FakeDocumentStore
) -> None:
    # Given a shop with its address and terms, and an order quoted R$ 1.234,56, approved and delivered
    shop = _shop_with_terms(client)
    order = _approved_and_delivered(client, shop)
    number = f"{order['number']:04d}"

    # When staff ask for each of its documents
    texts, links = {}, {}
    for kind, word in (("intake", "entrada"), ("quote", "orcamento"), ("delivery", "entrega")):
        status, answer = _document(client, shop, order["id"], kind)
        assert status == 200, answer
        # Then each is a PDF stored under the shop and the order, an attachment with a pt-BR name,
        # behind a link that lives 5 minutes
        assert answer["filename"] == f"OS-{number}-{word}.pdf"
        assert answer["content_type"] == "application/pdf"
        expires_in = datetime.fromisoformat(answer["expires_at"]) - datetime.now(UTC)
        assert timedelta(minutes=4) < expires_in <= timedelta(minutes=5)
        assert "expires=300" in answer["url"]
        stored = _pdf(store, answer)
        assert (stored.content_type, stored.filename) == ("application/pdf", answer["filename"])
        key = answer["url"].removeprefix(store.URL).split("?")[0]
        assert key.startswith(f"documents/{shop.tenant_id}/{order['id']}/{kind}-a4-")
        texts[kind] = _text(stored.data)
        links[kind] = _links(stored.data)

    # And what they print is the order's: number, customer, device, the shop's address and texts
    for kind, text in texts.items():
        for expected in (
            f"OS {number}",
            "Ana Souza",
            "Samsung Galaxy A54",
            "Conserta Já Assistência",
            ADDRESS,
        ):
            assert expected in text, (kind, expected)
    assert "Tela quebrada após queda" in texts["intake"]
    assert INTAKE_TERMS in texts["intake"]
    base = "https://abcdef1234.execute-api.sa-east-1.amazonaws.com/v1"  # where the caller reached the API
    assert links["intake"] == [f"{base}/public/orders/{order['tracking_token']}"]
    assert links["quote"] == []  # decided: nothing left to approve
    assert "Troca de tela" in texts["quote"]
    assert "Total R$ 1.234,56" in texts["quote"]
    assert "Aprovado por Ana Souza" in texts["quote"]
    assert "Total R$ 1.234,56" in texts["delivery"]
    assert "Saldo a pagar R$ 1.234,56" in texts["delivery"]
    warranty_end = shop_date(order["delivered_at"]) + timedelta(days=90)
    assert f"Garantia de 90 dias, válida até {warranty_end:%d/%m/%Y}" in texts["delivery"]
    assert WARRANTY_TERMS in texts["delivery"]
    assert INTAKE_TERMS not in texts["delivery"]

    # And each download is in the order's audit trail
    trail = _ok(
        client.call("GET", "/audit", shop.access_token, query={"entity": "order", "entity_id": order["id"]})
    )["items"]
    printed = [e["changes"]["kind"] for e in trail if e["action"] == "document"]
    assert sorted(printed) == ["delivery", "intake", "quote"]


def test_the_same_document_asked_twice_is_one_object(client: Client, store: FakeDocumentStore) -> None:
    # Given an open order
    shop = signup(client)
    order = open_order(client, shop)
    # When its intake receipt is asked for twice
    first = _document(client, shop, order["id"], "intake")[1]
    second = _document(client, shop, order["id"], "intake")[1]
    # Then both links lead to the same stored file (named by its content)
    assert first["url"] == second["url"]
    assert len([k for k in store.objects if k.startswith("documents/")]) == 1


def test_thermal_paper_gives_an_80mm_page(client: Client, store: FakeDocumentStore) -> None:
    # Given an open order; When its intake receipt is asked on 80 mm thermal paper
    shop = signup(client)
    order = open_order(client, shop)
    status, answer = _document(client, shop, order["id"], "intake", paper="thermal80")
    assert status == 200, answer
    # Then the page is 80 mm wide, and the file says so
    assert answer["filename"].endswith("-entrada-80mm.pdf")
    reader = PdfReader(io.BytesIO(_pdf(store, answer).data))
    assert float(reader.pages[0].mediabox.width) == pytest.approx(80 * MM, abs=0.1)
    # And on A4 it is A4
    a4 = PdfReader(io.BytesIO(_pdf(store, _document(client, shop, order["id"], "intake")[1]).data))
    assert float(a4.pages[0].mediabox.width) == pytest.approx(210 * MM, abs=0.1)


def test_an_unknown_paper_or_kind_is_422(client: Client, store: FakeDocumentStore) -> None:
    shop = signup(client)
    order = open_order(client, shop)
    for kind, query in (("intake", {"paper": "a3"}), ("receipt", {})):
        status, answer = _document(client, shop, order["id"], kind, **query)
        assert (status, answer["code"]) == (422, "validation_error"), answer
        assert answer["message"]
    assert store.objects == {}


def test_a_delivery_receipt_before_delivery_is_409_and_nothing_is_stored(
    client: Client, store: FakeDocumentStore
) -> None:
    # Given an order still being repaired (quoted and approved)
    shop = signup(client)
    order, _ = quoted_order(client, shop, LABOUR)
    # When its delivery receipt is asked for
    status, answer = _document(client, shop, order["id"], "delivery")
    # Then 409 order_not_delivered in pt-BR, and nothing was rendered into S3
    assert (status, answer["code"]) == (409, "order_not_delivered"), answer
    assert "entregue" in answer["message"]
    assert store.objects == {}


def test_a_quote_of_an_order_never_quoted_is_404(client: Client, store: FakeDocumentStore) -> None:
    shop = signup(client)
    order = open_order(client, shop)
    status, answer = _document(client, shop, order["id"], "quote")
    assert (status, answer["code"]) == (404, "quote_not_found"), answer
    assert answer["message"]
    assert store.objects == {}


def test_the_quote_printed_is_the_newest_version(client: Client, store: FakeDocumentStore) -> None:
    # Given an order quoted, rejected and quoted again for another amount
    shop = signup(client)
    order, first = quoted_order(client, shop, LABOUR)
    _ok(
        client.call(
            "POST",
            f"/quotes/{first['id']}/decision",
            shop.access_token,
            body={"decision": "reject", "name": "Ana Souza"},
        )
    )
    _ok(
        client.call(
            "POST",
            f"/orders/{order['id']}/quotes",
            shop.access_token,
            body={
                "lines": [{"kind": "labour", "description": "Troca de conector", "price_cents": 9_990}],
                "deadline_days": 2,
            },
        )
    )
    # When the order's quote is printed; Then it is version 2, with its own total
    text = _text(_pdf(store, _document(client, shop, order["id"], "quote")[1]).data)
    assert "Orçamento nº 2" in text
    assert "Total R$ 99,90" in text
    assert "Troca de tela" not in text


def test_money_received_beyond_the_quote_is_printed_as_such(
    client: Client, store: FakeDocumentStore, database: PgDatabase
) -> None:
    # Given a delivered order whose charges took R$ 50,00 more than its approved quote
    shop = signup(client)
    order = _approved_and_delivered(client, shop)
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute("update service_orders set paid_cents = 128_456 where id = %s", (order["id"],))
    # When the delivery receipt is printed
    text = _text(_pdf(store, _document(client, shop, order["id"], "delivery")[1]).data)
    # Then the extra is a line of its own, and the totals add up: nothing left to pay
    assert "Outros valores recebidos 1 R$ 50,00" in text
    assert "Total R$ 1.284,56" in text
    assert "Pago R$ 1.284,56" in text
    assert "Saldo a pagar" not in text


def test_another_shops_order_is_not_found_and_nothing_is_stored(
    client: Client, store: FakeDocumentStore
) -> None:
    # Given an order of one shop, and another shop's owner
    shop, other = signup(client), signup(client)
    order = _approved_and_delivered(client, shop)
    # When the other shop asks for any of its documents
    for kind in ("intake", "quote", "delivery"):
        status, answer = _document(client, other, order["id"], kind)
        # Then it does not exist for them, and nothing was rendered
        assert (status, answer["code"]) == (404, "not_found"), answer
    assert store.objects == {}


def test_every_role_at_the_counter_may_print_and_nobody_without_a_token(
    client: Client, store: FakeDocumentStore
) -> None:
    # Given an order, a technician and an attendant of the shop
    shop = signup(client)
    order = open_order(client, shop)
    for role in ("technician", "attendant"):
        token = _staff_token(client, shop, role)
        # When they print its intake receipt; Then they get it (ORDERS_READ)
        status, body, _ = client.call("GET", f"/orders/{order['id']}/documents/intake", token)
        assert status == 200, (role, body)
    # And without a token: 401, nothing stored by that call
    stored = len(store.objects)
    status, body, _ = client.call("GET", f"/orders/{order['id']}/documents/intake")
    assert (status, body["code"]) == (401, "unauthorized"), body
    assert len(store.objects) == stored


def test_s3_down_is_a_503_in_our_shape(client: Client, store: FakeDocumentStore) -> None:
    shop = signup(client)
    order = open_order(client, shop)
    store.down = True
    status, answer = _document(client, shop, order["id"], "intake")
    assert (status, answer["code"]) == (503, "storage_unavailable"), answer
    assert answer["message"]


# --- the customer's public links -----------------------------------------------------------------
def test_the_quote_link_offers_its_pdf(client: Client, store: FakeDocumentStore) -> None:
    # Given a quote sent to the customer, whose page links to its PDF
    shop = signup(client)
    order, quote = quoted_order(client, shop, LABOUR)
    link = f"/public/quotes/{quote['public_token']}"
    status, html, _ = page(client, "GET", link)
    assert status == 200
    assert f'href="{quote["public_token"]}/pdf"' in html
    # When the customer follows it
    status, html, headers = page(client, "GET", f"{link}/pdf")
    # Then a redirect to a 5-minute download of that quote, with the link to approve it printed
    assert status == 302, html
    assert headers["cache-control"] == "no-store"
    stored = store.at(headers["location"])
    assert stored.filename == f"OS-{order['number']:04d}-orcamento.pdf"
    text = _text(stored.data)
    assert "Total R$ 1.234,56" in text
    assert [link.rsplit("/public/", 1)[1] for link in _links(stored.data)] == [
        f"quotes/{quote['public_token']}"
    ]


def test_the_tracking_link_offers_the_intake_and_after_delivery_the_delivery_receipt(
    client: Client, store: FakeDocumentStore
) -> None:
    # Given an order being repaired
    shop = signup(client)
    order, _ = quoted_order(client, shop, LABOUR)
    link = f"/public/orders/{order['tracking_token']}"
    status, html, _ = page(client, "GET", link)
    assert status == 200
    assert "pdf?kind=intake" in html
    assert "pdf?kind=delivery" not in html
    # When the customer downloads the intake receipt; Then it is the order's
    status, _, headers = _browser(client, f"{link}/pdf", kind="intake")
    assert status == 302
    assert f"OS {order['number']:04d}" in _text(store.at(headers["location"]).data)
    # And the delivery receipt before delivery is refused as the page would (409), nothing stored
    stored = len(store.objects)
    status, body, _ = client.call("GET", f"{link}/pdf", query={"kind": "delivery"})
    assert (status, body["code"]) == (409, "order_not_delivered"), body
    status, html, _ = _browser(client, f"{link}/pdf", kind="delivery")
    assert status == 409
    assert "Comprovante ainda não disponível" in html
    assert len(store.objects) == stored


def test_a_delivered_orders_tracking_link_gives_its_delivery_receipt(
    client: Client, store: FakeDocumentStore
) -> None:
    shop = signup(client)
    order = _approved_and_delivered(client, shop)
    link = f"/public/orders/{order['tracking_token']}"
    assert "pdf?kind=delivery" in page(client, "GET", link)[1]
    status, _, headers = client.call("GET", f"{link}/pdf", query={"kind": "delivery", "paper": "thermal80"})
    assert status == 302
    stored = store.at(headers["location"])
    assert stored.filename == f"OS-{order['number']:04d}-entrega-80mm.pdf"
    assert "Comprovante de entrega" in _text(stored.data)


def test_unknown_and_expired_links_give_no_pdf(
    client: Client, store: FakeDocumentStore, database: PgDatabase
) -> None:
    # Given a shop's links, one of them known
    shop = signup(client)
    order = _approved_and_delivered(client, shop)
    unknown = f"{shop.tenant_id}.{'x' * 43}"
    # When a link that does not exist asks for a PDF: 404, as its page
    for path, query in (
        (f"/public/quotes/{unknown}/pdf", None),
        (f"/public/orders/{unknown}/pdf", {"kind": "intake"}),
    ):
        status, body, _ = client.call("GET", path, query=query)
        assert (status, body["code"]) == (404, "not_found"), body
    # And a tracking link past its warranty: 410, as its page
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "update service_orders set warranty_until = (now() at time zone 'America/Sao_Paulo')::date - 1 "
            "where id = %s",
            (order["id"],),
        )
    status, body, _ = client.call(
        "GET", f"/public/orders/{order['tracking_token']}/pdf", query={"kind": "intake"}
    )
    assert (status, body["code"]) == (410, "link_expired"), body
    # And a tracking PDF needs to say which receipt
    status, body, _ = client.call("GET", f"/public/orders/{order['tracking_token']}/pdf")
    assert (status, body["code"]) == (422, "validation_error"), body
    assert not [k for k in store.objects if k.startswith("documents/")]


# --- the shop's logo -----------------------------------------------------------------------------
def _upload(
    client: Client, shop: Shop, store: FakeDocumentStore, data: bytes, content_type: str = "image/png"
) -> str:
    """What the panel does: ask for the form, post the file to S3 (here: straight into the store)."""
    status, form, _ = client.call(
        "POST", "/settings/logo", shop.access_token, body={"content_type": content_type}
    )
    assert status == 201, form
    store.put(form["key"], data, content_type=content_type)
    return str(form["key"])


def test_the_logo_upload_form_pins_the_shops_key_the_type_and_the_size(
    client: Client, store: FakeDocumentStore
) -> None:
    # Given a shop's owner
    shop = signup(client)
    # When they start a JPEG logo upload
    status, form, _ = client.call(
        "POST", "/settings/logo", shop.access_token, body={"content_type": "image/jpeg"}
    )
    # Then the form is for a new key under the shop's logo prefix, that type, at most 512 KB
    assert status == 201, form
    assert form["key"].startswith(f"logos/{shop.tenant_id}/")
    assert form["key"].endswith(".jpg")
    assert form["upload_fields"] == {"key": form["key"], "Content-Type": "image/jpeg"}
    assert (form["max_bytes"], form["expires_in"]) == (512 * 1024, 600)
    assert store.forms[-1]["max_bytes"] == 512 * 1024
    # And another type, or a technician, is refused
    status, body, _ = client.call(
        "POST", "/settings/logo", shop.access_token, body={"content_type": "image/gif"}
    )
    assert (status, body["code"]) == (422, "validation_error"), body
    technician = _staff_token(client, shop, "technician")
    status, body, _ = client.call("POST", "/settings/logo", technician, body={"content_type": "image/png"})
    assert (status, body["code"]) == (403, "forbidden"), body


def test_a_confirmed_logo_is_printed_and_can_be_removed(client: Client, store: FakeDocumentStore) -> None:
    # Given a shop that uploaded a PNG logo, and an order
    shop = signup(client)
    order = open_order(client, shop)
    without = PdfReader(io.BytesIO(_pdf(store, _document(client, shop, order["id"], "intake")[1]).data))
    assert len(without.pages[0].images) == 0
    key = _upload(client, shop, store, _png())
    # When the owner confirms it
    status, settings, _ = client.call("PUT", "/settings/logo", shop.access_token, body={"key": key})
    # Then the shop has a logo (a short link to it), and the next document draws it
    assert status == 200, settings
    assert settings["has_logo"] is True
    assert settings["logo_url"].startswith(f"{store.URL}{key}?expires=300")
    pdf = PdfReader(io.BytesIO(_pdf(store, _document(client, shop, order["id"], "intake")[1]).data))
    assert len(pdf.pages[0].images) == 1
    # And the change is audited on the shop's settings
    trail = _ok(client.call("GET", "/audit", shop.access_token, query={"entity": "settings"}))["items"]
    assert any(e["changes"].get("logo_key", {}).get("to") == key for e in trail)
    # When the logo is removed, the documents print none again
    status, settings, _ = client.call("DELETE", "/settings/logo", shop.access_token)
    assert (status, settings["has_logo"], settings["logo_url"]) == (200, False, None)
    pdf = PdfReader(io.BytesIO(_pdf(store, _document(client, shop, order["id"], "intake")[1]).data))
    assert len(pdf.pages[0].images) == 0


def test_a_logo_gone_from_s3_prints_no_logo_rather_than_no_document(
    client: Client, store: FakeDocumentStore
) -> None:
    shop = signup(client)
    order = open_order(client, shop)
    key = _upload(client, shop, store, _png())
    _ok(client.call("PUT", "/settings/logo", shop.access_token, body={"key": key}))
    del store.objects[key]
    status, answer = _document(client, shop, order["id"], "intake")
    assert status == 200, answer
    assert len(PdfReader(io.BytesIO(_pdf(store, answer).data)).pages[0].images) == 0


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("other_shop", "logo_key_invalid"),
        ("outside_prefix", "logo_key_invalid"),
        ("missing", "logo_missing"),
        ("corrupt", "logo_invalid"),
        ("too_wide", "logo_invalid"),
    ],
)
def test_a_logo_that_is_not_the_shops_or_not_an_image_is_refused(
    client: Client, store: FakeDocumentStore, database: PgDatabase, case: str, code: str
) -> None:
    # Given a shop, another shop, and what the owner tries to confirm as the logo
    shop, other = signup(client), signup(client)
    if case == "other_shop":
        key = _upload(client, other, store, _png())  # a real logo, of the other shop
    elif case == "outside_prefix":
        key = f"documents/{shop.tenant_id}/{uuid.uuid4()}.png"
        store.put(key, _png(), content_type="image/png")
    elif case == "missing":
        status, form, _ = client.call(
            "POST", "/settings/logo", shop.access_token, body={"content_type": "image/png"}
        )
        key = form["key"]  # the form was never posted
    elif case == "corrupt":
        key = _upload(client, shop, store, b"\x89PNG\r\n\x1a\n" + b"\x00broken" * 50)
    else:
        key = _upload(client, shop, store, _png(width=4100, height=1))
    with psycopg.connect(database.superuser_url) as conn:
        before = conn.execute(
            "select logo_key, version from tenant_settings where tenant_id = %s", (shop.tenant_id,)
        ).fetchone()
    # When the owner confirms it
    status, body, _ = client.call("PUT", "/settings/logo", shop.access_token, body={"key": key})
    # Then 422 with its own code and a pt-BR message, and the shop's logo did not change
    assert (status, body["code"]) == (422, code), body
    assert body["message"]
    with psycopg.connect(database.superuser_url) as conn:
        after = conn.execute(
            "select logo_key, version from tenant_settings where tenant_id = %s", (shop.tenant_id,)
        ).fetchone()
    assert after == before


def test_the_database_refuses_a_logo_key_outside_the_shops_prefix(
    client: Client, database: PgDatabase
) -> None:
    # Given two shops; When one's settings row is pointed at the other's logo prefix behind the API
    shop, other = signup(client), signup(client)
    with psycopg.connect(database.superuser_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "update tenant_settings set logo_key = %s where tenant_id = %s",
            (f"logos/{other.tenant_id}/{uuid.uuid4()}.png", shop.tenant_id),
        )


# --- what the shop prints ------------------------------------------------------------------------
def test_the_document_settings_round_trip_with_optimistic_locking(client: Client) -> None:
    # Given a new shop: no address, no terms, no logo
    shop = signup(client)
    current = _ok(client.call("GET", "/settings/documents", shop.access_token))
    assert (current["address"], current["intake_terms"], current["warranty_terms"]) == (None, None, None)
    assert (current["has_logo"], current["logo_url"]) == (False, None)
    # When the owner saves the texts at the current version
    body = {
        "version": current["version"],
        "address": ADDRESS,
        "intake_terms": INTAKE_TERMS,
        "warranty_terms": "",
    }
    saved = _ok(client.call("PUT", "/settings/documents", shop.access_token, body=body))
    # Then they are read back (a blank text is no text), at the next version
    assert (saved["address"], saved["intake_terms"], saved["warranty_terms"]) == (ADDRESS, INTAKE_TERMS, None)
    assert saved["version"] == current["version"] + 1
    assert _ok(client.call("GET", "/settings/documents", shop.access_token)) == saved
    # And the same version again is stale: 409 with the current one, nothing changed
    status, answer, _ = client.call(
        "PUT", "/settings/documents", shop.access_token, body={**body, "address": "Outra rua"}
    )
    assert (status, answer["code"], answer["details"]["current_version"]) == (
        409,
        "conflict",
        saved["version"],
    )
    assert _ok(client.call("GET", "/settings/documents", shop.access_token))["address"] == ADDRESS
    # And the general settings share that version (one row)
    assert _ok(client.call("GET", "/settings", shop.access_token))["version"] == saved["version"]
    # And the change is audited, with only what changed
    trail = _ok(client.call("GET", "/audit", shop.access_token, query={"entity": "settings"}))["items"]
    assert set(trail[0]["changes"]) == {"address", "intake_terms"}


def test_the_document_settings_refuse_long_texts_and_other_roles(client: Client) -> None:
    shop = signup(client)
    version = _ok(client.call("GET", "/settings/documents", shop.access_token))["version"]
    for field, size in (("address", 301), ("intake_terms", 4001), ("warranty_terms", 4001)):
        status, answer, _ = client.call(
            "PUT", "/settings/documents", shop.access_token, body={"version": version, field: "x" * size}
        )
        assert (status, answer["code"]) == (422, "validation_error"), answer
        assert answer["details"][0]["field"] == field
    attendant = _staff_token(client, shop, "attendant")
    assert client.call("GET", "/settings/documents", attendant)[0] == 200
    status, answer, _ = client.call("PUT", "/settings/documents", attendant, body={"version": version})
    assert (status, answer["code"]) == (403, "forbidden"), answer
    assert _ok(client.call("GET", "/settings/documents", shop.access_token))["version"] == version
