"""The shop's web panel in a real browser: headless Chromium (Debian's) drives the built panel
(web/dist) served with the deployed local API same-origin under /api, at a counter PC's and a
phone's width. Screenshots of the main pages go to $ARTIFACTS_DIR/panel/ (default
.local/artifacts/panel/) for a person to look at."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.shops import new_shop, wait_for, whatsapp_texts_to

REPO = Path(__file__).resolve().parents[2]
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture(scope="module")
def artifacts() -> Path:
    out = Path(os.environ.get("ARTIFACTS_DIR", REPO / ".local" / "artifacts")) / "panel"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[[dict[str, Any]], Any]]:
    contexts: list[Any] = []
    refused: list[str] = []

    def make(size: dict[str, Any]) -> Any:
        context = browser.new_context(locale="pt-BR", timezone_id="America/Sao_Paulo", **size)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        # Behind the edge, the Content-Security-Policy refuses what the panel must never need
        # (inline scripts or styles, other origins): any refusal is a bug in the panel.
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not refused, refused


def _log_in(page: Any, panel_url: str, email: str, password: str) -> None:
    page.goto(f"{panel_url}/")
    # Not logged in: the panel sends the visitor to its login page
    page.wait_for_url(re.compile(r"/entrar$"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()


def _png(width: int, height: int) -> bytes:
    """A small solid PNG, made here (no image library needed)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x2a\x6b\xb0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _no_sideways_scroll(page: Any) -> None:
    # The phone's width, not window.innerWidth: a mobile browser widens its layout to what overflows.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def test_staff_log_in_register_customer_device_and_order_and_see_it_on_the_board(
    http: httpx.Client, panel_url: str, open_page: Callable[[dict[str, Any]], Any], artifacts: Path
) -> None:
    shop = new_shop(http, "Loja Painel E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    page = open_page(DESKTOP)

    # Given the owner logged in at the counter PC
    _log_in(page, panel_url, shop["email"], "not-the-password")
    page.get_by_role("alert").filter(has_text="E-mail ou senha incorretos").wait_for()
    page.get_by_label("Senha").fill(shop["password"])
    page.get_by_role("button", name="Entrar").click()
    page.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    page.locator("header").get_by_text("Loja Painel E2E").wait_for()

    # When they register a customer, the customer's phone and an order for it
    page.get_by_role("link", name="Clientes", exact=True).click()
    phone = f"11 9{uuid.uuid4().int % 10**8:08d}"
    page.get_by_label("Nome", exact=True).fill("Marina Painel")
    page.get_by_label("Telefone (WhatsApp)").fill(phone)
    page.get_by_role("button", name="Cadastrar cliente").click()
    page.get_by_role("heading", name="Marina Painel", level=1).wait_for()
    page.get_by_label("Marca").fill("Samsung")
    page.get_by_label("Modelo").fill("Galaxy S21")
    page.get_by_role("button", name="Cadastrar aparelho").click()
    page.get_by_text("Samsung Galaxy S21").wait_for()

    # And a photo of the device goes straight to S3 from the browser and shows
    page.get_by_role("button", name="Fotos").click()
    page.get_by_label("Adicionar foto").set_input_files(
        files=[{"name": "tela.png", "mimeType": "image/png", "buffer": _png(16, 12)}]
    )
    photo = page.get_by_role("img", name="Foto 1 do aparelho")
    photo.wait_for()
    # (polled from here: wait_for_function evaluates a string, which the panel's CSP refuses)
    wait_for(
        "the photo loads",
        lambda: True if photo.evaluate("img => img.naturalWidth") == 16 else None,
        timeout_s=30,
    )

    page.get_by_role("button", name="Abrir OS deste aparelho").click()
    page.get_by_label("Defeito relatado").fill("Tela trincada, touch falhando")
    page.get_by_role("button", name="Abrir OS", exact=True).click()

    # Then the order page shows it received, and moving it is one click on an allowed target
    page.get_by_role("heading", name=re.compile(r"^OS 0001")).wait_for()
    assert "Recebido" in page.get_by_role("heading", level=1).inner_text()
    page.locator("section", has_text="Dados da OS").get_by_role("link", name="Marina Painel").wait_for()
    moves = page.get_by_role("group", name="Mover para")
    moves.get_by_role("button", name="Cancelado").wait_for()
    assert moves.get_by_role("button").all_inner_texts() == ["Em diagnóstico", "Cancelado"]
    moves.get_by_role("button", name="Em diagnóstico").click()
    page.get_by_role("heading", level=1).filter(has_text="Em diagnóstico").wait_for()
    page.locator("#history-title + ol li").nth(1).wait_for()

    # And a quote priced in reais becomes centavos at the API, moves the order, and the customer's
    # decision taken at the counter approves it
    page.get_by_label("Descrição do serviço").fill("Troca de tela com película")
    page.get_by_label("Valor (R$)").fill("389,90")
    page.get_by_role("button", name="Criar orçamento").click()
    quote = page.get_by_role("article", name=re.compile("Versão 1"))
    quote.get_by_text("Aguardando decisão").wait_for()
    assert quote.get_by_test_id("quote-total").inner_text() == "R$ 389,90"
    page.get_by_role("heading", level=1).filter(has_text="Orçamento enviado").wait_for()
    quote.get_by_label("Nome de quem decidiu").fill("Marina Painel")
    quote.get_by_role("button", name="Aprovar").click()
    page.get_by_role("heading", level=1).filter(has_text="Orçamento aprovado").wait_for()
    page.get_by_role("article", name=re.compile("Versão 1")).get_by_text("Aprovado").wait_for()
    page.locator("#history-title + ol li").nth(3).wait_for()
    page.screenshot(path=str(artifacts / "order-desktop.png"), full_page=True)

    # And the board shows it in its column, as the API has it
    page.get_by_role("link", name="Ordens de serviço", exact=True).click()
    column = page.locator('[data-status="approved"]')
    column.get_by_role("link", name=re.compile("OS 0001")).wait_for()
    assert "Tela trincada" in column.inner_text()
    assert page.locator('[data-status="received"]').get_by_role("link").count() == 0
    page.screenshot(path=str(artifacts / "board-desktop.png"), full_page=True)
    [order] = http.get("/orders", headers=headers).json()["items"]
    assert (order["number"], order["status"]) == (1, "approved")
    [api_quote] = http.get(f"/orders/{order['id']}/quotes", headers=headers).json()["items"]
    assert (api_quote["total_cents"], api_quote["decided_via"]) == (38990, "staff")

    # And the owner's reports count it
    page.get_by_role("link", name="Relatórios").click()
    by_status = page.locator("section", has_text="Ordens por situação")
    by_status.get_by_role("row", name="Orçamento aprovado 1").wait_for()
    page.screenshot(path=str(artifacts / "reports-desktop.png"), full_page=True)

    # And a service price typed in reais is kept in centavos
    page.get_by_role("link", name="Preços").click()
    page.get_by_label("Serviço", exact=True).fill("Troca de tela")
    page.get_by_label("Marca (vazio = qualquer)").fill("Samsung")
    page.get_by_label("Valor (R$)").fill("1.350,00")
    page.get_by_role("button", name="Cadastrar preço").click()
    page.get_by_role("row", name=re.compile(r"Troca de tela Celular · Samsung R\$ 1\.350,00")).wait_for()
    [rule] = http.get("/price-rules", headers=headers).json()["items"]
    assert (rule["service"], rule["brand"], rule["model"], rule["price_cents"]) == (
        "Troca de tela",
        "Samsung",
        None,
        135000,
    )

    # And on a phone the same board fits the screen
    mobile = open_page(PHONE)
    _log_in(mobile, panel_url, shop["email"], shop["password"])
    mobile.locator('[data-status="approved"]').get_by_role("link", name=re.compile("OS 0001")).wait_for()
    _no_sideways_scroll(mobile)
    mobile.screenshot(path=str(artifacts / "board-phone.png"), full_page=True)
    mobile.locator('[data-status="approved"]').get_by_role("link", name=re.compile("OS 0001")).click()
    mobile.get_by_role("heading", name=re.compile(r"^OS 0001")).wait_for()
    mobile.locator("#history-title + ol li").nth(3).wait_for()
    mobile.get_by_role("heading", name="Cobranças").wait_for()
    _no_sideways_scroll(mobile)
    mobile.screenshot(path=str(artifacts / "order-phone.png"), full_page=True)


def test_a_technician_does_not_see_money(
    http: httpx.Client, panel_url: str, open_page: Callable[[dict[str, Any]], Any], artifacts: Path
) -> None:
    shop = new_shop(http, "Loja Técnico E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    password = f"senha-{uuid.uuid4().hex[:12]}"
    email = f"tecnico-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    made = http.post(
        "/users",
        headers=headers,
        json={"email": email, "name": "Téo Técnico", "role": "technician", "password": password},
    )
    assert made.status_code == 201, made.text
    customer = http.post(
        "/customers",
        headers=headers,
        json={"name": "Caio Cliente", "phone": f"21 9{uuid.uuid4().int % 10**8:08d}"},
    ).json()
    device = http.post(
        f"/customers/{customer['id']}/devices",
        headers=headers,
        json={"type": "phone", "brand": "Apple", "model": "iPhone 13"},
    ).json()
    order = http.post(
        "/orders",
        headers=headers,
        json={"customer_id": customer["id"], "device_id": device["id"], "reported_problem": "Não carrega"},
    ).json()

    # Given the owner: the order shows its charges, and the subscription is in the menu
    owner = open_page(DESKTOP)
    _log_in(owner, panel_url, shop["email"], shop["password"])
    owner.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    assert owner.get_by_role("navigation").get_by_role("link", name="Assinatura").count() == 1
    assert owner.get_by_role("navigation").get_by_role("link", name="Relatórios").count() == 1
    owner.goto(f"{panel_url}/ordens/{order['id']}")
    owner.get_by_role("heading", name="Cobranças").wait_for()

    # When the technician logs in on a phone
    page = open_page(PHONE)
    _log_in(page, panel_url, email, password)
    page.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()

    # Then there is no subscription in the menu, and the order has no charges or amounts paid
    nav = page.get_by_role("navigation")
    assert nav.get_by_role("link", name="Clientes").count() == 1
    assert nav.get_by_role("link", name="Assinatura").count() == 0
    assert nav.get_by_role("link", name="Relatórios").count() == 0
    page.locator('[data-status="received"]').get_by_role("link", name=re.compile("OS 0001")).click()
    page.get_by_role("heading", name="Histórico").wait_for()
    page.get_by_role("heading", name="Orçamentos").wait_for()
    assert page.get_by_role("heading", name="Cobranças").count() == 0
    assert "Pago" not in page.locator("section", has_text="Dados da OS").inner_text()
    page.screenshot(path=str(artifacts / "order-technician-phone.png"), full_page=True)

    # And the stock shows parts without prices, and the technician takes delivery of two more
    part = http.post(
        "/parts", headers=headers, json={"name": "Tela iPhone 13", "quantity": 3, "price_cents": 45000}
    )
    assert part.status_code == 201, part.text
    nav.get_by_role("link", name="Estoque").click()
    row = page.get_by_role("row", name=re.compile("Tela iPhone 13"))
    row.wait_for()
    assert "R$" not in page.locator("main").inner_text()
    row.get_by_role("button", name="Movimentar").click()
    shelf = page.locator("section[aria-labelledby='parts-title']")
    shelf.get_by_label("Quantidade").fill("2")
    shelf.get_by_role("button", name="Salvar").click()
    page.get_by_role("row", name=re.compile("Tela iPhone 13 5 0")).wait_for()
    assert http.get(f"/parts/{part.json()['id']}", headers=headers).json()["quantity"] == 5
    page.screenshot(path=str(artifacts / "stock-technician-phone.png"), full_page=True)

    # And typing the subscription's address shows no plan or invoices, only whom to ask
    page.goto(f"{panel_url}/assinatura")
    page.get_by_text("Só o dono ou um administrador").wait_for()
    assert page.get_by_role("heading", name="Faturas").count() == 0
    assert "R$" not in page.locator("main").inner_text()


def test_a_suspended_shop_sees_the_billing_page_with_the_way_to_pay(
    http: httpx.Client,
    stack: dict[str, Any],
    panel_url: str,
    open_page: Callable[[dict[str, Any]], Any],
    artifacts: Path,
) -> None:
    # Given a shop whose first invoice is 11 days late (past the grace period): suspended
    shop = new_shop(http, "Loja Suspensa E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}

    def billing() -> dict[str, Any]:
        response = http.get("/billing", headers=headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    provisioned = wait_for(
        "the subscription",
        lambda: b if (b := billing())["provisioned"] and b["invoices"] else None,
        timeout_s=90,
    )
    [invoice] = provisioned["invoices"]
    late = httpx.post(
        f"{stack['asaas_simulator_url']}/_sim/payments/{invoice['id']}/overdue", json={"days": 11}, timeout=60
    )
    assert late.status_code == 200, late.text
    wait_for("the suspension", lambda: True if billing()["status"] == "suspended" else None, timeout_s=90)
    wait_for(
        "402 from the API",
        lambda: True if http.get("/customers", headers=headers).status_code == 402 else None,
        timeout_s=90,
    )

    # When the owner logs in
    page = open_page(DESKTOP)
    _log_in(page, panel_url, shop["email"], shop["password"])

    # Then the panel shows the billing page: why, and the invoice's payment link
    page.wait_for_url(re.compile(r"/assinatura$"))
    alert = page.get_by_test_id("suspended")
    alert.wait_for()
    assert "Acesso suspenso por falta de pagamento" in alert.inner_text()
    pay = page.get_by_role("link", name="Pagar")
    pay.wait_for()
    assert pay.get_attribute("href") == billing()["invoices"][0]["invoice_url"]
    page.screenshot(path=str(artifacts / "billing-suspended-desktop.png"), full_page=True)

    # And going back to the board, the API's 402 brings them back to the billing page
    page.get_by_role("link", name="Ordens de serviço", exact=True).click()
    page.wait_for_url(re.compile(r"/assinatura$"))
    page.get_by_test_id("suspended").wait_for()

    mobile = open_page(PHONE)
    _log_in(mobile, panel_url, shop["email"], shop["password"])
    mobile.get_by_test_id("suspended").wait_for()
    mobile.get_by_role("link", name="Pagar").wait_for()
    _no_sideways_scroll(mobile)
    mobile.screenshot(path=str(artifacts / "billing-suspended-phone.png"), full_page=True)


def test_the_counter_connects_whatsapp_and_answers_a_customer(
    http: httpx.Client,
    stack: dict[str, Any],
    panel_url: str,
    open_page: Callable[[dict[str, Any]], Any],
    artifacts: Path,
) -> None:
    shop = new_shop(http, "Loja Conversa E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    sim = httpx.Client(base_url=stack["evolution_simulator_url"], timeout=30)
    page = open_page(DESKTOP)
    _log_in(page, panel_url, shop["email"], shop["password"])
    page.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()

    # Given the owner connecting the shop's number: the panel shows the QR to scan
    page.get_by_role("navigation").get_by_role("link", name="WhatsApp").click()
    page.get_by_role("button", name="Conectar (gerar QR)").click()
    qr = page.get_by_role("img", name="QR code para conectar o WhatsApp da loja")
    qr.wait_for()
    assert (qr.get_attribute("src") or "").startswith("data:image/png;base64,")
    instance = http.get("/whatsapp/instance", headers=headers).json()["name"]
    scanned = sim.post(f"/_sim/instances/{instance}/open", json={"number": "5511955552222"})
    assert scanned.status_code == 200, scanned.text
    wait_for(
        "the number open",
        lambda: True if http.get("/whatsapp/instance", headers=headers).json()["state"] == "open" else None,
        timeout_s=90,
    )
    page.reload()
    page.get_by_text("Conectado").wait_for()

    # When a customer writes to the shop
    phone = f"55119{uuid.uuid4().int % 10**8:08d}"
    wrote = sim.post(
        f"/_sim/instances/{instance}/messages", json={"phone": phone, "text": "Oi, meu celular molhou"}
    )
    assert wrote.status_code == 200, wrote.text

    def conversation_listed() -> bool | None:
        page.reload()
        page.get_by_role("heading", name="Conversas").wait_for()
        page.locator("#wa-conversations-title").wait_for()
        link = page.locator("section", has_text="Conversas").get_by_role("link").first
        try:
            link.wait_for(timeout=3_000)
        except Exception:
            return None
        return True

    wait_for("the conversation in the panel", conversation_listed, timeout_s=120)

    # Then staff read it and answer from the panel: the bot goes silent, the answer goes out on WhatsApp
    page.locator("section", has_text="Conversas").get_by_role("link").first.click()
    chat = page.get_by_role("list", name="Mensagens")
    chat.get_by_text("Oi, meu celular molhou").wait_for()
    page.get_by_label("Responder").fill("Olá! Pode trazer hoje, fazemos a limpeza.")
    page.get_by_role("button", name="Enviar").click()
    chat.get_by_text("Olá! Pode trazer hoje, fazemos a limpeza.").wait_for()
    conversation = page.locator("section[aria-labelledby='wa-conversation-title']")
    conversation.get_by_text("Com atendente").wait_for()
    page.screenshot(path=str(artifacts / "whatsapp-desktop.png"), full_page=True)

    wait_for(
        "the answer sent through the shop's number",
        lambda: "Olá! Pode trazer hoje, fazemos a limpeza." in whatsapp_texts_to(stack, instance, phone),
        timeout_s=90,
    )

    # And handing back to the bot is one click
    page.get_by_role("button", name="Devolver ao robô").click()
    conversation.get_by_text("Com o robô").wait_for()


def test_the_counter_books_a_drop_off_and_checks_the_device_in(
    http: httpx.Client, panel_url: str, open_page: Callable[[dict[str, Any]], Any], artifacts: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    shop = new_shop(http, "Loja Agenda E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    customer = http.post(
        "/customers",
        headers=headers,
        json={"name": "Rita Agenda", "phone": f"41 9{uuid.uuid4().int % 10**8:08d}"},
    ).json()
    device = http.post(
        f"/customers/{customer['id']}/devices",
        headers=headers,
        json={"type": "phone", "brand": "Motorola", "model": "Edge 40"},
    ).json()
    # The first shop day with a free drop-off slot (the shop's default hours), as the API sees it
    now = datetime.now(UTC)
    slots = http.get(
        "/availability",
        headers=headers,
        params={"from": now.isoformat(), "to": (now + timedelta(days=14)).isoformat(), "type": "drop_off"},
    ).json()["slots"]
    first = next(s for s in slots if s["free"] > 0)
    day = datetime.fromisoformat(first["start"]).astimezone(SAO_PAULO).date().isoformat()

    page = open_page(DESKTOP)
    _log_in(page, panel_url, shop["email"], shop["password"])
    page.get_by_role("navigation").get_by_role("link", name="Agenda").click()
    page.get_by_label("Dia", exact=True).fill(day)
    page.get_by_label("Buscar cliente").fill("Rita")
    page.get_by_role("button", name="Buscar", exact=True).click()
    page.get_by_label("Cliente", exact=True).select_option(value=customer["id"])
    page.get_by_role("group", name="Horário").get_by_role("radio").first.check()
    page.get_by_label("Observações (opcional)").fill("Não liga depois de cair na água")
    page.get_by_role("button", name="Agendar", exact=True).click()

    # The booking shows on the week (from its day), then the device is checked in: an order opens
    page.get_by_label("A partir de").fill(day)
    booked = page.locator("section[aria-labelledby='agenda-week-title'] li", has_text="Rita Agenda")
    booked.get_by_text("Agendado").wait_for()
    [appointment] = http.get(
        "/appointments",
        headers=headers,
        params={"from": now.isoformat(), "to": (now + timedelta(days=15)).isoformat()},
    ).json()["items"]
    # The first free slot of that day, for that customer
    assert datetime.fromisoformat(appointment["starts_at"]) == datetime.fromisoformat(first["start"])
    assert appointment["customer_id"] == customer["id"]
    page.screenshot(path=str(artifacts / "agenda-desktop.png"), full_page=True)
    booked.get_by_role("button", name="Receber aparelho (abrir OS)").click()
    booked.get_by_label("Aparelho").select_option(value=device["id"])
    assert booked.get_by_label("Defeito relatado").input_value() == "Não liga depois de cair na água"
    booked.get_by_role("button", name="Abrir OS", exact=True).click()
    page.get_by_role("heading", name=re.compile(r"^OS 0001")).wait_for()
    page.get_by_text("Não liga depois de cair na água").wait_for()

    # And the owner sets Saturday's hours (with a lunch break) and the warranty
    page.get_by_role("link", name="Configurações").click()
    page.get_by_label("Sábado").fill("09:00-12:00, 13:00 às 15:00")
    page.get_by_label("Garantia dos serviços (dias)").fill("120")
    page.get_by_role("button", name="Salvar").click()
    page.get_by_role("status").filter(has_text="Configurações salvas.").wait_for()
    settings = http.get("/settings", headers=headers).json()
    assert settings["business_hours"]["sat"] == [["09:00", "12:00"], ["13:00", "15:00"]]
    assert http.get("/settings/order-workflow", headers=headers).json()["warranty_days"] == 120


def test_the_board_moves_live_when_the_customer_approves_the_quote_on_the_public_page(
    http: httpx.Client,
    stack: dict[str, Any],
    panel_url: str,
    browser: Any,
    open_page: Callable[[dict[str, Any]], Any],
    artifacts: Path,
) -> None:
    """The issue's flow end to end: staff register the customer, device and order and send a quote in
    the panel; the customer approves it on the public page in another browser; the board, open all the
    while and never reloaded, moves the order (pushed over the WebSocket: with the channel live the
    board does not poll)."""
    shop = new_shop(http, "Loja Painel Ao Vivo")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    page = open_page(DESKTOP)
    # The panel's one socket opens with the shell, at login (the board and the chat share it)
    pushed: list[str] = []
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: pushed.append(str(frame))))
    _log_in(page, panel_url, shop["email"], shop["password"])
    page.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()

    # Given a customer, a device and an order made in the panel, and a quote sent from it
    page.get_by_role("link", name="Clientes", exact=True).click()
    page.get_by_label("Nome", exact=True).fill("Renata Ao Vivo")
    page.get_by_label("Telefone (WhatsApp)").fill(f"11 9{uuid.uuid4().int % 10**8:08d}")
    page.get_by_role("button", name="Cadastrar cliente").click()
    page.get_by_role("heading", name="Renata Ao Vivo", level=1).wait_for()
    page.get_by_label("Marca").fill("Motorola")
    page.get_by_label("Modelo").fill("Edge 40")
    page.get_by_role("button", name="Cadastrar aparelho").click()
    page.get_by_text("Motorola Edge 40").wait_for()
    page.get_by_role("button", name="Abrir OS deste aparelho").click()
    page.get_by_label("Defeito relatado").fill("Não liga depois de molhar")
    page.get_by_role("button", name="Abrir OS", exact=True).click()
    page.get_by_role("heading", name=re.compile(r"^OS 0001")).wait_for()
    page.get_by_role("group", name="Mover para").get_by_role("button", name="Em diagnóstico").click()
    page.get_by_role("heading", level=1).filter(has_text="Em diagnóstico").wait_for()
    page.get_by_label("Descrição do serviço").fill("Limpeza da placa e troca do conector")
    page.get_by_label("Valor (R$)").fill("249,00")
    page.get_by_role("button", name="Criar orçamento").click()
    page.get_by_role("heading", level=1).filter(has_text="Orçamento enviado").wait_for()

    # And the board open, its channel live (so it does not poll), the order waiting for the customer
    page.get_by_role("link", name="Ordens de serviço", exact=True).click()
    page.get_by_text("Atualização automática ligada").wait_for(timeout=60_000)
    page.locator('[data-status="quote_sent"]').get_by_role("link", name=re.compile("OS 0001")).wait_for()
    page.evaluate("window.__sameBoard = true")

    # When the customer approves the quote on the public page, in a browser of their own
    [order] = http.get("/orders", headers=headers).json()["items"]
    [quote] = http.get(f"/orders/{order['id']}/quotes", headers=headers).json()["items"]
    customer = browser.new_context(locale="pt-BR", **PHONE)
    try:
        phone = customer.new_page()
        assert phone.goto(f"{stack['api_url']}/public/quotes/{quote['public_token']}").status == 200
        phone.fill("#name", "Renata Ao Vivo")
        phone.get_by_role("button", name="Aprovar orçamento").click()
        phone.locator("#notice").filter(has_text="Orçamento aprovado").wait_for()
    finally:
        customer.close()

    # Then the board shows the order approved without being reloaded
    page.locator('[data-status="approved"]').get_by_role("link", name=re.compile("OS 0001")).wait_for(
        timeout=60_000
    )
    assert page.locator('[data-status="quote_sent"]').get_by_role("link").count() == 0
    assert page.evaluate("window.__sameBoard === true"), "the board was reloaded"
    # (the browser received the decision over its WebSocket)
    assert any("quote.decided" in frame and order["id"] in frame for frame in pushed), pushed
    # (one socket for the whole visit: customers, the order, the board)
    assert len(sockets) == 1, sockets
    page.get_by_text("Atualização automática ligada").wait_for()
    page.screenshot(path=str(artifacts / "board-live-desktop.png"), full_page=True)


def _customer_device_order(
    http: httpx.Client, headers: dict[str, str], name: str, brand: str, model: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    customer = http.post(
        "/customers", headers=headers, json={"name": name, "phone": f"31 9{uuid.uuid4().int % 10**8:08d}"}
    )
    assert customer.status_code == 201, customer.text
    device = http.post(
        f"/customers/{customer.json()['id']}/devices",
        headers=headers,
        json={"type": "phone", "brand": brand, "model": model},
    )
    assert device.status_code == 201, device.text
    order = http.post(
        "/orders",
        headers=headers,
        json={
            "customer_id": customer.json()["id"],
            "device_id": device.json()["id"],
            "reported_problem": "Bateria estufada",
        },
    )
    assert order.status_code == 201, order.text
    return customer.json(), device.json(), order.json()


def _staff(http: httpx.Client, headers: dict[str, str], name: str, role: str) -> dict[str, str]:
    password = f"senha-{uuid.uuid4().hex[:12]}"
    email = f"{role}-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    made = http.post(
        "/users", headers=headers, json={"email": email, "name": name, "role": role, "password": password}
    )
    assert made.status_code == 201, made.text
    return {"email": email, "password": password, "id": made.json()["id"]}


def _is_focused(locator: Any) -> bool:
    return bool(locator.evaluate("element => element === document.activeElement"))


def test_board_cards_name_the_customer_and_the_device(
    http: httpx.Client, panel_url: str, open_page: Callable[[dict[str, Any]], Any], artifacts: Path
) -> None:
    shop = new_shop(http, "Loja Cartões E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    _customer_device_order(http, headers, "Joana D'Arc Souza", "Xiaomi", "Redmi Note 12")
    _customer_device_order(http, headers, "Pedro Álvares", "Apple", "iPhone 11")

    # Given the owner on the board
    page = open_page(DESKTOP)
    _log_in(page, panel_url, shop["email"], shop["password"])
    column = page.locator('[data-status="received"]')

    # Then each card says whose device it is and which
    first = column.get_by_role("link", name=re.compile("OS 0001"))
    first.wait_for()
    assert "Joana D'Arc Souza" in first.inner_text()
    assert "Xiaomi Redmi Note 12" in first.inner_text()
    assert "Pedro Álvares" in column.get_by_role("link", name=re.compile("OS 0002")).inner_text()

    # And typing part of a name (without its accent) keeps only that customer's card
    page.get_by_label("Cliente ou aparelho").fill("pedro alvares")
    column.get_by_role("link", name=re.compile("OS 0001")).wait_for(state="detached")
    assert column.get_by_role("link").count() == 1
    page.screenshot(path=str(artifacts / "board-cards-desktop.png"), full_page=True)


def test_records_are_edited_and_a_lost_race_is_explained(
    http: httpx.Client, panel_url: str, open_page: Callable[[dict[str, Any]], Any], artifacts: Path
) -> None:
    shop = new_shop(http, "Loja Edição E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    customer, device, _ = _customer_device_order(http, headers, "Otávio Antigo", "Motorola", "G8")
    part = http.post(
        "/parts", headers=headers, json={"name": "Bateria G8", "quantity": 1, "price_cents": 9000}
    ).json()
    tech = _staff(http, headers, "Tina Técnica", "technician")

    # Given the owner on the customer's page
    page = open_page(DESKTOP)
    _log_in(page, panel_url, shop["email"], shop["password"])
    page.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    page.goto(f"{panel_url}/clientes/{customer['id']}")
    page.get_by_role("heading", name="Otávio Antigo", level=1).wait_for()

    # When they open the customer's form from the keyboard, Esc closes it and the focus goes back
    edit = page.get_by_role("button", name="Editar o cliente Otávio Antigo")
    edit.focus()
    page.keyboard.press("Enter")
    form = page.get_by_role("form", name="Editar o cliente Otávio Antigo")
    name = form.get_by_label("Nome", exact=True)
    name.wait_for()
    assert _is_focused(name)
    page.keyboard.press("Escape")
    form.wait_for(state="detached")
    assert _is_focused(edit)
    assert edit.get_attribute("aria-expanded") == "false"

    # And they rename the customer: the page shows the new name, the API has it
    edit.click()
    form.get_by_label("Nome", exact=True).fill("Otávio Novo")
    form.get_by_label("Observações (opcional)").fill("Prefere contato à tarde")
    form.get_by_role("button", name="Salvar alterações").click()
    page.get_by_role("heading", name="Otávio Novo", level=1).wait_for()
    saved = http.get(f"/customers/{customer['id']}", headers=headers).json()
    assert (saved["name"], saved["notes"], saved["version"]) == (
        "Otávio Novo",
        "Prefere contato à tarde",
        customer["version"] + 1,
    )

    # When someone else changes the customer while the form is open
    form = page.get_by_role("form", name="Editar o cliente Otávio Novo")
    form.get_by_label("Nome", exact=True).wait_for()
    other = http.patch(
        f"/customers/{customer['id']}",
        headers=headers,
        json={"version": saved["version"], "email": "otavio@exemplo.com.br"},
    )
    assert other.status_code == 200, other.text
    form.get_by_label("Nome", exact=True).fill("Otávio Perdido")
    form.get_by_role("button", name="Salvar alterações").click()

    # Then the save is refused in pt-BR, nothing is overwritten, and the current data is one click away
    form.get_by_role("alert").filter(has_text="Outra pessoa alterou este cadastro").wait_for()
    assert http.get(f"/customers/{customer['id']}", headers=headers).json()["name"] == "Otávio Novo"
    form.get_by_role("button", name="Carregar os dados atuais").click()
    form.get_by_text("Dados atuais carregados").wait_for()
    assert form.get_by_label("E-mail (opcional)").input_value() == "otavio@exemplo.com.br"
    assert form.get_by_label("Nome", exact=True).input_value() == "Otávio Novo"
    page.screenshot(path=str(artifacts / "customer-edit-desktop.png"), full_page=True)

    # And the device is edited on the same page
    page.get_by_role("button", name="Editar o aparelho Motorola G8").click()
    device_form = page.get_by_role("form", name="Editar o aparelho Motorola G8")
    device_form.get_by_label("Modelo").fill("Moto G8 Power")
    device_form.get_by_role("button", name="Salvar alterações").click()
    page.get_by_text("Motorola Moto G8 Power").wait_for()
    assert http.get(f"/devices/{device['id']}", headers=headers).json()["model"] == "Moto G8 Power"

    # And a part's price typed in reais is kept in centavos
    page.get_by_role("link", name="Estoque").click()
    page.get_by_role("button", name="Editar a peça Bateria G8").click()
    part_form = page.get_by_role("form", name="Editar a peça Bateria G8")
    part_form.get_by_label("Preço de venda (R$)").fill("1.099,90")
    part_form.get_by_label("Estoque mínimo").fill("2")
    part_form.get_by_role("button", name="Salvar alterações").click()
    page.get_by_role("row", name=re.compile(r"Bateria G8 .*R\$ 1\.099,90")).wait_for()
    changed = http.get(f"/parts/{part['id']}", headers=headers).json()
    assert (changed["price_cents"], changed["min_quantity"]) == (109990, 2)

    # And a user's role changes from the users' page
    page.get_by_role("link", name="Usuários").click()
    page.get_by_role("button", name="Editar o usuário Tina Técnica").click()
    user_form = page.get_by_role("form", name="Editar o usuário Tina Técnica")
    user_form.get_by_label("Papel").select_option(value="attendant")
    user_form.get_by_role("button", name="Salvar alterações").click()
    page.get_by_role("row", name=re.compile("Tina Técnica.*Atendente")).wait_for()
    assert http.get(f"/users/{tech['id']}", headers=headers).json()["role"] == "attendant"


def test_staff_chat_is_live_and_its_history_comes_back_on_reconnect(
    http: httpx.Client, panel_url: str, open_page: Callable[[dict[str, Any]], Any], artifacts: Path
) -> None:
    shop = new_shop(http, "Loja Chat E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    tech = _staff(http, headers, "Bruno Bancada", "technician")

    # Given the owner at the counter PC and the technician on a phone, both on the chat
    owner = open_page(DESKTOP)
    _log_in(owner, panel_url, shop["email"], shop["password"])
    owner.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    owner.get_by_role("link", name="Chat da equipe").click()
    owner.get_by_role("status").filter(has_text="Conectado").wait_for()
    bench = open_page(PHONE)
    _log_in(bench, panel_url, tech["email"], tech["password"])
    bench.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    bench.goto(f"{panel_url}/chat")
    bench.get_by_role("status").filter(has_text="Conectado").wait_for()

    # When the owner writes (Enter sends)
    owner.get_by_label("Mensagem", exact=True).fill("A tela do Redmi chegou, pode montar.")
    owner.get_by_label("Mensagem", exact=True).press("Enter")

    # Then it shows as theirs, and reaches the technician without a reload
    owner.get_by_role("log").get_by_text("A tela do Redmi chegou, pode montar.").wait_for()
    assert owner.get_by_label("Mensagem", exact=True).input_value() == ""
    bench_log = bench.get_by_role("log")
    bench_log.get_by_text("A tela do Redmi chegou, pode montar.").wait_for()
    assert "Dono E2E" in bench_log.inner_text()

    # And the technician's answer reaches the owner
    bench.get_by_label("Mensagem", exact=True).fill("Beleza, monto depois do almoço.")
    bench.get_by_role("button", name="Enviar").click()
    owner.get_by_role("log").get_by_text("Beleza, monto depois do almoço.").wait_for()
    _no_sideways_scroll(bench)
    bench.screenshot(path=str(artifacts / "chat-phone.png"), full_page=True)

    # And after a reload (a new socket), the history is there, in order, each message once
    bench.reload()
    bench.get_by_role("status").filter(has_text="Conectado").wait_for()
    log = bench.get_by_role("log")
    log.get_by_text("Beleza, monto depois do almoço.").wait_for()
    text = log.inner_text()
    assert text.index("A tela do Redmi chegou") < text.index("Beleza, monto depois")
    assert text.count("A tela do Redmi chegou") == 1
    owner.screenshot(path=str(artifacts / "chat-desktop.png"), full_page=True)


def test_settings_pages_save_documents_texts_and_the_owner_cancels_the_subscription(
    http: httpx.Client, panel_url: str, open_page: Callable[[dict[str, Any]], Any], artifacts: Path
) -> None:
    shop = new_shop(http, "Loja Ajustes E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    page = open_page(DESKTOP)
    _log_in(page, panel_url, shop["email"], shop["password"])
    page.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    page.get_by_role("link", name="Configurações").click()
    sections = page.get_by_role("navigation", name="Seções das configurações")

    # Documents: the address and terms printed, and the logo straight to S3
    sections.get_by_role("link", name="Documentos e logo").click()
    page.get_by_role("heading", name="Documentos e logo", level=1).wait_for()
    page.get_by_label("Endereço da loja").fill("Rua das Flores, 100 - Centro, Belo Horizonte/MG")
    terms = "Aparelhos não retirados em 90 dias serão descartados."
    page.get_by_label("Termos do comprovante de entrada").fill(terms)
    page.get_by_role("button", name="Salvar", exact=True).click()
    page.get_by_role("status").filter(has_text="Configurações salvas").wait_for()
    docs = http.get("/settings/documents", headers=headers).json()
    assert docs["address"] == "Rua das Flores, 100 - Centro, Belo Horizonte/MG"
    assert docs["intake_terms"] == terms
    page.get_by_label("Enviar logo").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": _png(40, 20)}]
    )
    logo = page.get_by_role("img", name="Logo atual da loja")
    logo.wait_for()
    wait_for(
        "the logo loads",
        lambda: True if logo.evaluate("img => img.naturalWidth") == 40 else None,
        timeout_s=30,
    )
    assert http.get("/settings/documents", headers=headers).json()["has_logo"] is True
    page.screenshot(path=str(artifacts / "settings-documents-desktop.png"), full_page=True)

    # The quote's message and validity
    sections.get_by_role("link", name="Orçamento").click()
    body = page.get_by_label("Texto (WhatsApp ou e-mail)")
    body.wait_for()
    body.fill("Olá {{CLIENTE}}! O orçamento da OS {{OS}} ficou em {{VALOR}}. Aprove em {{LINK}}")
    page.get_by_label("Validade do orçamento (dias)").fill("10")
    page.get_by_role("button", name="Salvar", exact=True).click()
    page.get_by_role("status").filter(has_text="Configurações salvas").wait_for()
    template = http.get("/settings/quote-template", headers=headers).json()
    assert template["validity_days"] == 10
    assert template["body"].startswith("Olá {{CLIENTE}}!")

    # The WhatsApp bot's texts: one changed, switched off; the API keeps the others at the default
    sections.get_by_role("link", name="Robô do WhatsApp").click()
    page.get_by_role("heading", name="Robô do WhatsApp", level=1).wait_for()
    before = http.get("/settings/whatsapp", headers=headers).json()
    assert before["overrides"] == {}
    greeting = "Oi! Aqui é a Loja Ajustes. Em que posso ajudar?"
    page.get_by_label("Menu de boas-vindas", exact=True).fill(greeting)
    status_text = page.get_by_label("Aviso de situação da OS: Pronto para retirada", exact=True)
    assert "{{CLIENTE}}" in status_text.input_value()
    page.get_by_label("O robô responde aos clientes").uncheck()
    page.get_by_role("button", name="Salvar", exact=True).click()
    page.get_by_role("status").filter(has_text="Configurações salvas").wait_for()
    after = http.get("/settings/whatsapp", headers=headers).json()
    assert after["bot_enabled"] is False
    assert after["overrides"] == {"menu": greeting}

    # The e-mail texts: a subject of the shop's own, previewed as the customer reads it
    sections.get_by_role("link", name="E-mails").click()
    page.get_by_role("heading", name="Textos dos e-mails", level=1).wait_for()
    mail = page.locator("section").nth(0)
    mail.get_by_label("Assunto").fill("Novidades da sua OS na Loja Ajustes")
    mail.get_by_role("button", name="Pré-visualizar").click()
    mail.get_by_text("Como o cliente vai ler").wait_for()
    assert "Novidades da sua OS na Loja Ajustes" in mail.inner_text()
    mail.get_by_role("button", name="Salvar", exact=True).click()
    mail.get_by_role("status").filter(has_text="Configurações salvas").wait_for()
    subjects = [t["subject"] for t in http.get("/settings/email/templates", headers=headers).json()["items"]]
    assert "Novidades da sua OS na Loja Ajustes" in subjects

    # The shop's Asaas account: typed once (a password field), then only its state and webhook show
    sections.get_by_role("link", name="Pagamentos (Asaas)").click()
    state = page.get_by_test_id("asaas-state")
    state.filter(has_text="Nenhuma conta Asaas conectada").wait_for()
    key = page.get_by_label("Chave de API do Asaas")
    assert key.get_attribute("type") == "password"
    key.fill(f"$aact_e2e_panel_{uuid.uuid4().hex}")
    page.get_by_label("Ambiente").select_option(value="sandbox")
    page.get_by_role("button", name="Conectar conta Asaas").click()
    state.filter(has_text="Conta Asaas conectada, ambiente de testes (sandbox)").wait_for()
    assert key.input_value() == ""
    assert http.get("/settings/payments", headers=headers).json()["connected"] is True

    # The owner cancels the subscription: asked once more, then the day access ends is shown
    page.get_by_role("link", name="Assinatura").click()
    page.get_by_role("button", name="Cancelar assinatura").click()
    page.get_by_role("group", name="Cancelar a assinatura do assistec?").wait_for()
    page.get_by_role("button", name="Não, manter a assinatura").click()
    assert http.get("/billing", headers=headers).json()["cancel_on"] is None
    page.get_by_role("button", name="Cancelar assinatura").click()
    page.get_by_role("button", name="Sim, cancelar a assinatura").click()
    page.get_by_test_id("cancel-on").wait_for()
    assert "Os dados ficam guardados" in page.get_by_test_id("cancel-on").inner_text()
    assert http.get("/billing", headers=headers).json()["cancel_on"] is not None
    assert page.get_by_role("button", name="Cancelar assinatura").count() == 0
    page.screenshot(path=str(artifacts / "billing-cancelled-desktop.png"), full_page=True)


def _owner_in_settings(
    http: httpx.Client, panel_url: str, open_page: Callable[[dict[str, Any]], Any], shop_name: str
) -> tuple[Any, dict[str, str], dict[str, Any], Any]:
    """A new shop's owner on the settings page at a counter PC's width; confirmations say yes."""
    shop = new_shop(http, shop_name)
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    page = open_page(DESKTOP)
    page.on("dialog", lambda dialog: dialog.accept())
    _log_in(page, panel_url, shop["email"], shop["password"])
    page.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    page.get_by_role("link", name="Configurações").click()
    return page, headers, shop, page.get_by_role("navigation", name="Seções das configurações")


def test_scheduling_rules_are_saved_and_a_lost_race_is_explained(
    http: httpx.Client,
    panel_url: str,
    open_page: Callable[[dict[str, Any]], Any],
    artifacts: Path,
) -> None:
    page, headers, _shop, sections = _owner_in_settings(http, panel_url, open_page, "Loja Regras Agenda E2E")

    # Scheduling rules: a type changed, one no longer offered, a closed day, reminders, own hours
    sections.get_by_role("link", name="Agendamentos").click()
    page.get_by_role("heading", name="Regras dos agendamentos", level=1).wait_for()
    pickup = page.get_by_role("group", name="Retirada")
    pickup.get_by_label("Duração (min)").fill("20")
    page.get_by_role("group", name="Visita técnica").get_by_label("Oferecido").uncheck()
    page.get_by_label("Dias em que a loja não atende").fill("24/12/2026\n31/12/2026")
    page.get_by_label("Lembretes antes do horário").fill("24 h, 1 h")
    page.get_by_label("Usar um horário próprio para agendamentos").check()
    page.get_by_label("Sábado").fill("08:00-12:00")
    page.get_by_label("Domingo").fill("")
    page.get_by_role("button", name="Salvar", exact=True).click()
    page.get_by_role("status").filter(has_text="Configurações salvas").wait_for()
    rules = http.get("/settings/scheduling", headers=headers).json()
    assert rules["types"]["pickup"]["duration_min"] == 20
    assert rules["types"]["visit"]["enabled"] is False
    assert rules["closed_dates"] == ["2026-12-24", "2026-12-31"]
    assert rules["reminder_offsets"] == [1440, 60]
    assert rules["booking_hours"]["sat"] == [["08:00", "12:00"]]
    assert rules["booking_hours"]["sun"] == []
    page.screenshot(path=str(artifacts / "settings-scheduling-desktop.png"), full_page=True)

    # A bad field is explained before anything is sent; a lost race is explained as a 409
    page.get_by_label("Lembretes antes do horário").fill("2 min")
    page.get_by_role("button", name="Salvar", exact=True).click()
    page.get_by_role("alert").filter(has_text="Lembretes inválidos").wait_for()
    page.get_by_label("Lembretes antes do horário").fill("2 h")
    changed = http.put(
        "/settings/scheduling",
        headers=headers,
        json={
            **{k: rules[k] for k in ("step_min", "min_notice_min", "horizon_days", "closed_dates")},
            "version": rules["version"],
            "types": {},
            "observe_optional_holidays": True,
            "reminder_offsets": [1440],
            "booking_hours": rules["booking_hours"],
        },
    )
    assert changed.status_code == 200, changed.text
    page.get_by_role("button", name="Salvar", exact=True).click()
    page.get_by_role("alert").filter(has_text="Outra pessoa alterou").wait_for()
    assert http.get("/settings/scheduling", headers=headers).json()["reminder_offsets"] == [1440]


def test_the_shops_mail_server_is_saved_tested_and_dropped(
    http: httpx.Client,
    panel_url: str,
    open_page: Callable[[dict[str, Any]], Any],
    artifacts: Path,
) -> None:
    page, headers, _shop, sections = _owner_in_settings(
        http, panel_url, open_page, "Loja Servidor E-mail E2E"
    )

    # The shop's SMTP server: saved (the password never shown again), its test's failure explained,
    # then back to the platform's sender
    sections.get_by_role("link", name="Servidor de e-mail").click()
    state = page.get_by_test_id("smtp-state")
    state.filter(has_text="remetente do assistec").wait_for()
    page.get_by_label("Servidor (host)").fill("localhost")
    page.get_by_label("Porta").fill("1")
    page.get_by_label("Segurança").select_option(value="tls")
    page.get_by_label("Usuário").fill("loja@exemplo.com.br")
    password = page.get_by_label("Senha")
    assert password.get_attribute("type") == "password"
    password.fill("senha-do-servidor")
    page.get_by_label("Remetente").fill("loja@exemplo.com.br")
    page.get_by_role("button", name="Salvar", exact=True).click()
    state.filter(has_text="servidor da loja localhost:1").wait_for()
    assert password.input_value() == ""
    smtp = http.get("/settings/email", headers=headers).json()
    assert smtp["transport"] == "smtp"
    assert smtp["smtp"]["has_password"] is True
    page.get_by_role("button", name="Enviar e-mail de teste para mim").click()
    page.get_by_role("alert").filter(has_text="O teste falhou").wait_for()
    page.screenshot(path=str(artifacts / "settings-smtp-desktop.png"), full_page=True)
    page.get_by_role("button", name="Voltar ao remetente do assistec").click()
    state.filter(has_text="remetente do assistec").wait_for()
    assert http.get("/settings/email", headers=headers).json()["transport"] == "ses"


def test_suppressed_addresses_show_their_reason_and_the_owner_lifts_one(
    http: httpx.Client,
    stack: dict[str, Any],
    panel_url: str,
    open_page: Callable[[dict[str, Any]], Any],
    artifacts: Path,
) -> None:
    import psycopg

    page, headers, shop, sections = _owner_in_settings(http, panel_url, open_page, "Loja Bloqueios E2E")

    # Suppressed addresses with the reason; the owner writes to one again
    with psycopg.connect(stack["migrator_database_url"], autocommit=True) as conn:
        conn.execute("select set_config('app.tenant_id', %s, false)", (shop["tenant_id"],))
        conn.execute(
            "insert into email_suppressions (tenant_id, address, reason, detail) "
            "values (%s, 'cliente.sumido@exemplo.com.br', 'bounce', '550 5.1.1 usuário inexistente')",
            (shop["tenant_id"],),
        )
    sections.get_by_role("link", name="Endereços bloqueados").click()
    row = page.get_by_role("row").filter(has_text="cliente.sumido@exemplo.com.br")
    row.wait_for()
    assert "E-mail voltou" in row.inner_text()
    assert "550 5.1.1" in row.inner_text()
    row.get_by_role("button", name="Voltar a escrever para cliente.sumido@exemplo.com.br").click()
    page.get_by_role("status").filter(has_text="desbloqueado").wait_for()
    assert http.get("/email/suppressions", headers=headers).json()["items"] == []


def test_google_calendar_is_connected_in_a_new_tab_and_disconnected(
    http: httpx.Client,
    panel_url: str,
    open_page: Callable[[dict[str, Any]], Any],
    artifacts: Path,
) -> None:
    page, headers, _shop, sections = _owner_in_settings(http, panel_url, open_page, "Loja Google E2E")

    # Google Calendar: the consent in a new tab (the simulator approves), then the calendars
    sections.get_by_role("link", name="Google Agenda").click()
    google = page.get_by_test_id("google-state")
    google.filter(has_text="não está conectada").wait_for()
    page.get_by_label("Conta Google (opcional)").fill(f"dono-{uuid.uuid4().hex[:8]}@agenda.e2e")
    with page.context.expect_page() as consent:
        page.get_by_role("button", name="Conectar ao Google").click()
    consent.value.get_by_text("Google Agenda conectada").first.wait_for()
    consent.value.close()
    page.get_by_role("button", name="Atualizar situação").click()
    google.filter(has_text="Conectada à conta").wait_for()
    target = page.get_by_label("Agenda que recebe os agendamentos")
    target.wait_for()
    connection = http.get("/integrations/google", headers=headers).json()
    assert connection["connected"] is True
    page.get_by_role("button", name="Salvar", exact=True).click()
    page.get_by_role("status").filter(has_text="Agendas salvas").wait_for()
    page.screenshot(path=str(artifacts / "settings-google-desktop.png"), full_page=True)
    page.get_by_role("button", name="Desconectar do Google").click()
    google.filter(has_text="não está conectada").wait_for()
    assert http.get("/integrations/google", headers=headers).json()["connected"] is False


def test_an_attendant_reads_the_suppressions_but_not_the_managers_settings(
    http: httpx.Client, panel_url: str, open_page: Callable[[dict[str, Any]], Any]
) -> None:
    shop = new_shop(http, "Loja Balcão Ajustes E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    counter = _staff(http, headers, "Carla Balcão", "attendant")
    page = open_page(PHONE)
    _log_in(page, panel_url, counter["email"], counter["password"])
    page.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    for path in ("agendamentos", "servidor-email", "google"):
        page.goto(f"{panel_url}/configuracoes/{path}")
        page.get_by_text("Seu papel na loja não permite esta ação.").wait_for()
    page.goto(f"{panel_url}/configuracoes/emails-bloqueados")
    page.get_by_role("heading", name="E-mails bloqueados", level=1).wait_for()
    page.get_by_text("Nenhum endereço bloqueado.").wait_for()
    assert page.get_by_role("button", name="Desbloquear").count() == 0
    _no_sideways_scroll(page)


def test_the_staff_chat_opens_beside_any_page_with_an_unread_badge(
    http: httpx.Client, panel_url: str, open_page: Callable[[dict[str, Any]], Any], artifacts: Path
) -> None:
    shop = new_shop(http, "Loja Chat Gaveta E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    tech = _staff(http, headers, "Tiago Bancada", "technician")

    # Given the owner on the board and the technician on the customers page of a phone
    owner = open_page(DESKTOP)
    _log_in(owner, panel_url, shop["email"], shop["password"])
    owner.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    button = owner.get_by_test_id("chat-button")
    assert button.get_attribute("aria-expanded") == "false"
    bench = open_page(PHONE)
    _log_in(bench, panel_url, tech["email"], tech["password"])
    bench.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    bench.get_by_role("link", name="Clientes").click()

    # When the technician opens the chat from the header, writes, and closes it with Esc
    bench.get_by_test_id("chat-button").click()
    drawer = bench.get_by_role("complementary", name="Chat da equipe")
    drawer.get_by_role("status").filter(has_text="Conectado").wait_for()
    message = drawer.get_by_label("Mensagem", exact=True)
    assert _is_focused(message)
    message.fill("O iPhone da OS 12 já está pronto.")
    message.press("Enter")
    # (sent: no longer the pending entry)
    drawer.get_by_role("log").locator("li:not(.pending)").filter(has_text="O iPhone da OS 12").wait_for()
    _no_sideways_scroll(bench)
    bench.screenshot(path=str(artifacts / "chat-drawer-phone.png"), full_page=True)
    message.press("Escape")
    assert drawer.count() == 0
    assert _is_focused(bench.get_by_test_id("chat-button"))

    # Then the owner's header counts it, without leaving the board
    owner.get_by_test_id("chat-unread").filter(has_text="1").wait_for()
    assert button.get_attribute("aria-label") == "Chat da equipe, 1 mensagem não lida"

    # And opening the drawer shows it and clears the badge, which stays clear after a reload
    button.click()
    owner.get_by_role("complementary", name="Chat da equipe").get_by_text(
        "O iPhone da OS 12 já está pronto."
    ).wait_for()
    owner.get_by_test_id("chat-unread").wait_for(state="detached")
    owner.screenshot(path=str(artifacts / "chat-drawer-desktop.png"), full_page=True)
    owner.reload()
    owner.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    owner.locator("[data-testid=chat-button][data-history=loaded]").wait_for()
    assert owner.get_by_test_id("chat-unread").count() == 0


def test_the_owner_runs_the_shops_bank_from_the_panel(
    http: httpx.Client, panel_url: str, open_page: Callable[[dict[str, Any]], Any], artifacts: Path
) -> None:
    from datetime import datetime, timedelta

    from assistec.domain.banking.cnab import read_remessa
    from tests.banking_retornos import Line, retorno400
    from tests.e2e.test_banking import ITAU400, _order

    shop = new_shop(http, "Loja Banco Painel")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    order = _order(http, headers, "Cliente Boleto Painel", 31990)
    page = open_page(DESKTOP)
    _log_in(page, panel_url, shop["email"], shop["password"])
    page.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()

    # Given the owner registers the shop's agreement with Itaú on the Banco page
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Banco").click()
    page.get_by_role("heading", name="Banco", level=1).wait_for()
    new = page.get_by_role("region", name="Novo convênio")
    new.get_by_label("Nome do convênio").fill(ITAU400["name"])
    new.get_by_label("Banco", exact=True).select_option(ITAU400["bank_code"])
    new.get_by_label("Agência", exact=True).fill(ITAU400["branch"])
    new.get_by_label("Conta", exact=True).fill(ITAU400["account"])
    new.get_by_label("Dígito da conta (opcional)").fill(ITAU400["account_digit"])
    new.get_by_label("Carteira").fill(ITAU400["wallet"])
    new.get_by_label("Código do convênio / beneficiário").fill(ITAU400["agreement_code"])
    new.get_by_label("Leiaute do arquivo").select_option(ITAU400["layout"])
    new.get_by_label("Juros ao mês (%)").fill("1")
    new.get_by_role("button", name="Cadastrar convênio").click()
    listed = page.get_by_role("region", name="Convênios").get_by_role("listitem")
    listed.filter(has_text="Itaú da loja").filter(has_text="Juros 1% a.m.").wait_for()

    # And edits its fine with the version read (the percentage as typed, basis points to the API)
    page.get_by_role("button", name="Editar o convênio Itaú da loja").click()
    editing = page.get_by_role("form", name="Editar o convênio Itaú da loja")
    editing.get_by_label("Multa (%)").fill("2")
    editing.get_by_role("button", name="Salvar alterações").click()
    listed.filter(has_text="multa 2%").wait_for()
    [agreement] = http.get("/banking/agreements", headers=headers).json()["items"]
    assert (agreement["fine_bp"], agreement["interest_monthly_bp"], agreement["version"]) == (200, 100, 2)
    page.screenshot(path=str(artifacts / "bank-agreements-desktop.png"), full_page=True)

    # When the counter issues a boleto on the order's page for its open balance, due in a week
    due = datetime.now(SAO_PAULO).date() + timedelta(days=7)
    page.goto(f"{panel_url}/ordens/{order['id']}")
    boletos = page.get_by_role("region", name="Boletos do banco")
    boletos.get_by_label("Vencimento").fill(due.isoformat())
    boletos.get_by_role("button", name="Emitir boleto").click()
    boletos.get_by_role("status").filter(has_text="Boleto emitido.").wait_for()
    row = boletos.get_by_test_id("boleto")
    row.filter(has_text="R$ 319,90").filter(has_text="Emitido (aguardando remessa)").wait_for()
    assert len(row.get_by_label("Linha digitável").input_value().replace(".", "").replace(" ", "")) == 47
    page.screenshot(path=str(artifacts / "bank-order-boleto-desktop.png"), full_page=True)

    # And the owner generates the agreement's remessa: its download link is the bank's file
    page.goto(f"{panel_url}/banco")
    page.get_by_role("navigation", name="Seções do banco").get_by_role("link", name="Remessas").click()
    remessas = page.get_by_role("region", name="Remessas: Itaú da loja")
    remessas.get_by_text("1 boleto aguardando remessa.").wait_for()
    remessas.get_by_role("button", name="Gerar remessa").click()
    link = remessas.get_by_role("link", name=re.compile(r"^Baixar .+\.REM$", re.IGNORECASE))
    link.wait_for()
    downloaded = httpx.get(str(link.get_attribute("href")), timeout=30)
    assert downloaded.status_code == 200
    written = read_remessa(downloaded.content)
    assert [(i.amount_cents, i.due_date) for i in written.items] == [(31990, due)]
    # (listed too: a fresh link on demand)
    remessas.get_by_role("button", name=link.inner_text()).wait_for()
    remessas.get_by_text("Nenhum boleto aguardando remessa.").wait_for()
    # Nothing new to send: the API's pt-BR refusal is shown as is
    remessas.get_by_role("button", name="Gerar remessa").click()
    remessas.get_by_role("alert").filter(
        has_text="Não há boletos nem instruções esperando remessa"
    ).wait_for()
    page.screenshot(path=str(artifacts / "bank-remessas-desktop.png"), full_page=True)

    # And uploads the bank's retorno (entry confirmed, then settled) through the presigned form
    today = datetime.now(SAO_PAULO).date()
    [item] = written.items
    retorno = retorno400(
        "brcobranca/CNAB400ITAU.RET",
        "341",
        ITAU400,
        [
            Line(item.nosso_numero, "02", item.amount_cents, on=today, due=due),
            Line(item.nosso_numero, "06", item.amount_cents, paid_cents=item.amount_cents, on=today, due=due),
        ],
    )
    page.get_by_role("navigation", name="Seções do banco").get_by_role(
        "link", name="Arquivos do banco"
    ).click()
    upload = page.get_by_role("region", name="Enviar arquivo do banco")
    upload.get_by_label("Tipo de arquivo").select_option("retorno")
    upload.get_by_label("Arquivo", exact=True).set_input_files(
        files=[{"name": "CN301100.RET", "mimeType": "application/octet-stream", "buffer": retorno}]
    )
    upload.get_by_role("button", name="Enviar arquivo do banco").click()
    upload.get_by_role("status").filter(has_text="Arquivo enviado").wait_for()

    # Then the file is read by the worker: listed as read, its occurrences applied
    files = page.get_by_role("region", name="Arquivos do banco")

    def read() -> bool | None:
        files.get_by_role("button", name="Atualizar").click()
        page.wait_for_timeout(1000)
        done = files.get_by_test_id("bank-file").filter(has_text="CN301100.RET").filter(has_text="Lido")
        return True if done.count() == 1 else None

    wait_for("the retorno read and listed", read, timeout_s=180)
    entry = files.get_by_test_id("bank-file").filter(has_text="CN301100.RET")
    entry.filter(has_text="2 ocorrência(s)").filter(has_text="Pago R$ 319,90").wait_for()
    entry.get_by_role("button", name="Ocorrências de CN301100.RET").click()
    entry.get_by_role("cell", name="Aplicada").first.wait_for()
    assert entry.get_by_role("cell", name="Aplicada").count() == 2
    page.get_by_role("region", name="Ocorrências sem boleto").get_by_text(
        "Nenhuma ocorrência sem boleto."
    ).wait_for()
    page.screenshot(path=str(artifacts / "bank-files-desktop.png"), full_page=True)

    # And the boleto is settled, on the Banco page's list and on the order's page
    page.get_by_role("navigation", name="Seções do banco").get_by_role("link", name="Boletos").click()
    page.get_by_label("Situação").select_option("settled")
    page.get_by_test_id("boleto").filter(has_text="R$ 319,90").filter(has_text="Pago").wait_for()
    page.goto(f"{panel_url}/ordens/{order['id']}")
    settled = page.get_by_role("region", name="Boletos do banco").get_by_test_id("boleto")
    settled.filter(has_text="Pago").filter(has_text="pago R$ 319,90").wait_for()
    # (a paid boleto is not sent nor instructed any more)
    assert settled.get_by_role("button", name="Enviar ao cliente").count() == 0

    # And the account's statement credits the payment: uploaded as a statement, read, the matcher's
    # suggestion confirmed on the Conciliação page; the period's report counts it matched automatically
    statement = (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nENCODING:USASCII\nCHARSET:1252\n\n<OFX>\n<BANKMSGSRSV1>\n"
        "<STMTTRNRS>\n<STMTRS>\n<CURDEF>BRL\n<BANKACCTFROM>\n<BANKID>341\n<BRANCHID>0057\n<ACCTID>12345\n"
        f"</BANKACCTFROM>\n<BANKTRANLIST>\n<STMTTRN>\n<TRNTYPE>CREDIT\n<DTPOSTED>{today:%Y%m%d}\n"
        "<TRNAMT>319.90\n<FITID>PAINEL1\n<MEMO>COBRANCA CRED LIQUIDACAO\n</STMTTRN>\n</BANKTRANLIST>\n"
        "</STMTRS>\n</STMTTRNRS>\n</BANKMSGSRSV1>\n</OFX>\n"
    ).encode()
    page.goto(f"{panel_url}/banco/arquivos")
    upload.get_by_label("Tipo de arquivo").select_option("statement")
    upload.get_by_label("Arquivo", exact=True).set_input_files(
        files=[{"name": "extrato.ofx", "mimeType": "application/x-ofx", "buffer": statement}]
    )
    upload.get_by_role("button", name="Enviar arquivo do banco").click()
    upload.get_by_role("status").filter(has_text="Arquivo enviado").wait_for()

    def statement_read() -> bool | None:
        files.get_by_role("button", name="Atualizar").click()
        page.wait_for_timeout(1000)
        done = files.get_by_test_id("bank-file").filter(has_text="extrato.ofx").filter(has_text="Lido")
        return True if done.count() == 1 else None

    wait_for("the statement read and listed", statement_read, timeout_s=180)
    page.get_by_role("navigation", name="Seções do banco").get_by_role("link", name="Conciliação").click()
    suggestions = page.get_by_role("region", name="Sugestões de conciliação")

    def suggested() -> bool | None:
        page.get_by_role("button", name="Ver", exact=True).click()
        page.wait_for_timeout(1000)
        return True if suggestions.get_by_role("listitem").filter(has_text="R$ 319,90").count() == 1 else None

    wait_for("the matcher's suggestion", suggested, timeout_s=120)
    page.screenshot(path=str(artifacts / "bank-reconciliation-suggestion-desktop.png"), full_page=True)
    suggestions.get_by_role("button", name="Confirmar").click()
    suggestions.get_by_text("Nenhuma sugestão no período.").wait_for()
    report = page.get_by_role("region", name="Relatório do período")
    facts = report.locator("dl")
    facts.filter(has_text="Conciliados1 · R$ 319,90").wait_for()
    assert "Conciliação automática100%" in facts.inner_text().replace("\n", "")
    [match] = http.get(
        "/banking/reconciliation/matches", headers=headers, params={"status": "confirmed"}
    ).json()["items"]
    assert (match["method"], match["difference_cents"]) == ("automatic", 0)
    report.get_by_role("button", name="Baixar CSV").wait_for()
    page.screenshot(path=str(artifacts / "bank-reconciliation-desktop.png"), full_page=True)

    # And the owner issues a free boleto (no order) on the Boletos page: the customer found by name,
    # the shop's only active agreement already chosen, the amount typed in reais
    def free_boletos() -> list[dict[str, Any]]:
        items = http.get("/banking/boletos", headers=headers, params={"limit": 100}).json()["items"]
        return [b for b in items if b["order_id"] is None]

    page.get_by_role("navigation", name="Seções do banco").get_by_role("link", name="Boletos").click()
    free = page.get_by_role("region", name="Emitir boleto avulso")
    assert free.get_by_label("Convênio").input_value() == agreement["id"]
    free.get_by_label("Buscar cliente").fill("Boleto Painel")
    free.get_by_role("button", name="Buscar", exact=True).click()
    free.get_by_label("Cliente", exact=True).select_option(order["customer_id"])
    free_due = datetime.now(SAO_PAULO).date() + timedelta(days=10)
    free.get_by_label("Vencimento").fill(free_due.isoformat())
    free.get_by_label("Descrição").fill("Manutenção preventiva do notebook")
    # A zero amount is refused before anything is sent
    free.get_by_label("Valor (R$)").fill("0")
    free.get_by_role("button", name="Emitir boleto").click()
    free.get_by_role("alert").filter(has_text="Valor inválido: use por exemplo 389,90.").wait_for()
    # And so is a description of blanks only, saying what is missing
    free.get_by_label("Valor (R$)").fill("1.234,56")
    free.get_by_label("Descrição").fill("   ")
    free.get_by_role("button", name="Emitir boleto").click()
    free.get_by_role("alert").filter(has_text="Informe o que está sendo cobrado.").wait_for()
    assert free_boletos() == []
    page.screenshot(path=str(artifacts / "bank-free-boleto-refused-desktop.png"), full_page=True)
    free.get_by_label("Descrição").fill("Manutenção preventiva do notebook")
    free.get_by_role("button", name="Emitir boleto").click()
    free.get_by_role("status").filter(has_text="Boleto emitido.").wait_for()
    # Then it is listed (formatted in reais) and the API holds it with the exact centavos
    page.get_by_role("region", name="Boletos", exact=True).get_by_test_id("boleto").filter(
        has_text="R$ 1.234,56"
    ).filter(has_text="Manutenção preventiva do notebook").filter(has_text="Emitido").wait_for()
    [issued] = free_boletos()
    assert (
        issued["amount_cents"],
        issued["customer_id"],
        issued["agreement_id"],
        issued["due_date"],
        issued["description"],
        issued["status"],
    ) == (
        123456,
        order["customer_id"],
        agreement["id"],
        free_due.isoformat(),
        "Manutenção preventiva do notebook",
        "issued",
    )
    page.screenshot(path=str(artifacts / "bank-free-boleto-desktop.png"), full_page=True)

    # At a phone's width the Banco pages and the order's boletos fit without sideways scrolling
    phone = open_page(PHONE)
    _log_in(phone, panel_url, shop["email"], shop["password"])
    phone.get_by_role("heading", name="Ordens de serviço", level=1).wait_for()
    for path, name, shot in (
        ("/banco", "Convênios", "bank-agreements-phone.png"),
        ("/banco/boletos", "Boletos", "bank-boletos-phone.png"),
        ("/banco/remessas", "Remessas: Itaú da loja", "bank-remessas-phone.png"),
        ("/banco/arquivos", "Arquivos do banco", "bank-files-phone.png"),
        ("/banco/conciliacao", "Relatório do período", "bank-reconciliation-phone.png"),
    ):
        phone.goto(f"{panel_url}{path}")
        phone.get_by_role("heading", name=name, level=2).wait_for()
        phone.get_by_role("status").filter(has_text="Carregando").first.wait_for(state="detached")
        _no_sideways_scroll(phone)
        phone.screenshot(path=str(artifacts / shot), full_page=True)
    phone.goto(f"{panel_url}/ordens/{order['id']}")
    phone.get_by_role("region", name="Boletos do banco").get_by_test_id("boleto").filter(
        has_text="Pago"
    ).wait_for()
    _no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "bank-order-phone.png"), full_page=True)

    # And the counter (an attendant) has no Banco page, but reads and issues the order's boletos
    attendant = _staff(http, headers, "Atendente Banco", "attendant")
    counter = open_page(DESKTOP)
    _log_in(counter, panel_url, attendant["email"], attendant["password"])
    menu = counter.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("link", name="Clientes").wait_for()
    assert menu.get_by_role("link", name="Banco").count() == 0
    counter.goto(f"{panel_url}/ordens/{order['id']}")
    at_counter = counter.get_by_role("region", name="Boletos do banco")
    at_counter.get_by_test_id("boleto").filter(has_text="Pago").wait_for()
    at_counter.get_by_role("button", name="Emitir boleto").wait_for()
    counter.goto(f"{panel_url}/banco")
    counter.get_by_text("Seu papel na loja não permite esta ação.").wait_for()
