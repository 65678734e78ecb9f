"""The shop's own boletos (issue 15 §2) through the API against the real PostgreSQL: issued for an
order (its open balance) or as a free charge under the shop's agreement, with the agreement's terms or
the request's; bad input refused with nothing written (not even a nosso número); truly parallel issues
never sharing a number; another shop's ids not found; the PDF (linha digitável, shop, logo); sending on
WhatsApp or by e-mail; and the customer told once when a retorno settles the boleto."""

from __future__ import annotations

import io
import threading
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import pytest
from pypdf import PdfReader

from assistec.domain.banking.boleto import format_linha, linha_to_barcode, parse_barcode
from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, FakeDocumentStore, Shop, signup
from tests.integration.payment_helpers import approved_order
from tests.integration.shop_helpers import _ok, move, open_order
from tests.integration.test_banking import ITAU, TextParser
from tests.integration.test_email import staff


def _today() -> date:
    return datetime.now(ZoneInfo("America/Sao_Paulo")).date()


def _due(days: int = 10) -> str:
    return (_today() + timedelta(days=days)).isoformat()


def _sql(database: PgDatabase, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(query, params).fetchall()


def _boleto_count(database: PgDatabase, tenant_id: str) -> int:
    return int(_sql(database, "select count(*) from boletos where tenant_id = %s", tenant_id)[0][0])


def _agreement(client: Client, shop: Shop, **fields: Any) -> dict[str, Any]:
    return dict(_ok(client.call("POST", "/banking/agreements", shop.access_token, body={**ITAU, **fields})))


def _counter(client: Client, shop: Shop, agreement_id: str) -> int:
    return int(
        _ok(client.call("GET", f"/banking/agreements/{agreement_id}", shop.access_token))["next_nosso_numero"]
    )


def _customer(client: Client, shop: Shop, email: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Ana Souza", "phone": f"(11) 9{uuid.uuid4().int % 10**8:08d}"}
    if email:
        body["email"] = email
    return dict(_ok(client.call("POST", "/customers", shop.access_token, body=body)))


def _free(
    client: Client, shop: Shop, customer: str, token: str | None = None, **fields: Any
) -> tuple[int, Any]:
    body = {
        "customer_id": customer,
        "amount_cents": 15000,
        "due_date": _due(),
        "description": "Peça",
        **fields,
    }
    status, answer, _ = client.call("POST", "/banking/boletos", token or shop.access_token, body=body)
    return status, answer


# --- issuing ----------------------------------------------------------------------------------------------


def test_an_orders_boleto_asks_for_its_open_balance_with_the_agreements_terms(
    client: Client, database: PgDatabase, bus: FakeBus
) -> None:
    shop = signup(client)
    agreement = _agreement(client, shop)  # Itaú 109, 1%/month interest, 2% fine
    order = approved_order(client, shop, 25000)
    due = _due(12)
    # When the counter issues a boleto for the order, naming only the due date
    status, boleto, _ = client.call(
        "POST", f"/orders/{order['id']}/boletos", shop.access_token, body={"due_date": due}
    )
    # Then it asks for the whole approved quote, under the shop's only agreement and its defaults
    assert status == 201, boleto
    assert (boleto["amount_cents"], boleto["order_id"], boleto["customer_id"]) == (
        25000,
        order["id"],
        order["customer_id"],
    )
    assert (boleto["agreement_id"], boleto["nosso_numero"], boleto["status"]) == (
        agreement["id"],
        1,
        "issued",
    )
    assert (boleto["interest_monthly_bp"], boleto["fine_bp"], boleto["discount_cents"]) == (100, 200, 0)
    assert (boleto["issued_on"], boleto["due_date"]) == (_today().isoformat(), due)
    # And its numbers are a valid Itaú boleto: the linha digitável is the barcode's, its factor the due date
    assert boleto["barcode"].startswith("3419")
    assert len(boleto["barcode"]) == 44
    assert linha_to_barcode(boleto["digitable_line"]) == boleto["barcode"]
    assert boleto["digitable_line_formatted"] == format_linha(boleto["digitable_line"])
    fields = parse_barcode(boleto["barcode"], reference=_today())
    assert (fields.due_date, fields.amount_cents) == (date.fromisoformat(due), 25000)
    assert boleto["nosso_numero_printed"].startswith("109/00000001-")
    # And the number was taken from the agreement, the issue audited and published
    assert _counter(client, shop, agreement["id"]) == 2
    log = _ok(client.call("GET", "/audit", shop.access_token, query={"entity": "boleto"}))["items"]
    assert [(e["action"], e["changes"]["amount_cents"]) for e in log] == [("issue", 25000)]
    assert [d["boleto_id"] for d in bus.details("BoletoIssued")] == [boleto["id"]]
    # And the order lists it, and it reads back the same
    assert _ok(client.call("GET", f"/orders/{order['id']}/boletos", shop.access_token))["items"] == [boleto]
    assert _ok(client.call("GET", f"/banking/boletos/{boleto['id']}", shop.access_token)) == boleto
    # When a second boleto is asked for: the open boleto covers the balance, 409, nothing written
    status, answer, _ = client.call(
        "POST", f"/orders/{order['id']}/boletos", shop.access_token, body={"due_date": due}
    )
    assert (status, answer["code"]) == (409, "nothing_open"), answer
    assert _boleto_count(database, shop.tenant_id) == 1
    assert _counter(client, shop, agreement["id"]) == 2


def test_a_partial_boleto_leaves_the_rest_for_the_next(client: Client) -> None:
    shop = signup(client)
    _agreement(client, shop)
    order = approved_order(client, shop, 25000)
    path = f"/orders/{order['id']}/boletos"
    first = _ok(
        client.call("POST", path, shop.access_token, body={"due_date": _due(), "amount_cents": 10000})
    )
    # More than what is still open is refused
    status, answer, _ = client.call(
        "POST", path, shop.access_token, body={"due_date": _due(), "amount_cents": 15001}
    )
    assert (status, answer["code"]) == (422, "amount_over_balance"), answer
    assert "R$ 150,00" in answer["message"]
    # The default is what is still open
    second = _ok(client.call("POST", path, shop.access_token, body={"due_date": _due(40)}))
    assert (first["amount_cents"], second["amount_cents"]) == (10000, 15000)
    assert (first["nosso_numero"], second["nosso_numero"]) == (1, 2)


def test_a_free_charge_with_its_own_terms(client: Client) -> None:
    shop = signup(client)
    _agreement(client, shop, discount_cents=300, discount_days=5)
    customer = _customer(client, shop)
    until = (_today() + timedelta(days=3)).isoformat()
    # With the agreement's discount (5 days before the due date)
    status, plain = _free(client, shop, customer["id"], due_date=_due(10))
    assert status == 201, plain
    assert (plain["order_id"], plain["discount_cents"], plain["discount_until"]) == (None, 300, _due(5))
    # With the request's fine, interest and discount instead
    status, own = _free(
        client, shop, customer["id"], amount_cents=9990, fine_bp=0, interest_monthly_bp=50,
        discount_cents=990, discount_until=until,
    )  # fmt: skip
    assert status == 201, own
    assert (own["amount_cents"], own["fine_bp"], own["interest_monthly_bp"]) == (9990, 0, 50)
    assert (own["discount_cents"], own["discount_until"], own["nosso_numero"]) == (990, until, 2)
    # A zero discount removes the agreement's
    status, none = _free(client, shop, customer["id"], discount_cents=0)
    assert (status, none["discount_cents"], none["discount_until"]) == (201, 0, None)
    log = _ok(client.call("GET", "/audit", shop.access_token, query={"entity": "boleto"}))["items"]
    assert {e["changes"].get("description") for e in log} == {"Peça"}
    # The description is the boleto's: returned on issue, on read and in the list
    assert plain["description"] == "Peça"
    read = _ok(client.call("GET", f"/banking/boletos/{own['id']}", shop.access_token))
    assert read["description"] == "Peça"
    listed = _ok(client.call("GET", "/banking/boletos", shop.access_token))["items"]
    assert {b["description"] for b in listed} == {"Peça"}


def test_a_free_boletos_description_is_trimmed_and_bounded(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    _agreement(client, shop)
    customer = _customer(client, shop)["id"]
    status, kept = _free(client, shop, customer, description="  Película de vidro  ")
    assert (status, kept["description"]) == (201, "Película de vidro"), kept
    longest = "x" * 200
    assert _free(client, shop, customer, description=longest)[1]["description"] == longest
    for bad in ("", "   ", "x" * 201):
        status, answer = _free(client, shop, customer, description=bad)
        assert (status, answer["code"]) == (422, "validation_error"), answer
    assert _boleto_count(database, shop.tenant_id) == 2


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("due_yesterday", (422, "boleto_due_date_past")),
        ("due_in_eleven_years", (422, "boleto_due_date_too_far")),
        ("discount_without_date", (422, "boleto_discount_date_missing")),
        ("discount_after_due", (422, "boleto_invalid_discount_date")),
        ("discount_not_below_amount", (422, "boleto_invalid_discount")),
        ("fine_over_20_percent", (422, "validation_error")),
        ("amount_zero", (422, "validation_error")),
        ("amount_past_the_barcode", (422, "validation_error")),
        ("unknown_customer", (404, "not_found")),
        ("unknown_agreement", (404, "not_found")),
        ("inactive_agreement", (409, "conflict")),
        ("two_agreements_none_named", (422, "agreement_required")),
        ("no_agreement", (409, "no_active_agreement")),
        ("nosso_numero_past_the_layout", (422, "boleto_sequence_out_of_range")),
        ("order_cancelled", (409, "order_cancelled")),
        ("order_without_quote_nor_amount", (422, "amount_required")),
    ],
)
def test_bad_issues_are_refused_in_pt_br_and_write_nothing(
    client: Client, database: PgDatabase, case: str, expected: tuple[int, str]
) -> None:
    shop = signup(client)
    customer = _customer(client, shop)
    agreement = _agreement(client, shop) if case != "no_agreement" else None
    if case == "two_agreements_none_named":
        _agreement(client, shop, wallet="112")
    if case == "nosso_numero_past_the_layout":  # Itaú's nosso número has 8 digits
        assert agreement is not None
        body = {"version": 1, "next_nosso_numero": 10**8}
        _ok(client.call("PATCH", f"/banking/agreements/{agreement['id']}", shop.access_token, body=body))
    if case == "inactive_agreement":
        assert agreement is not None
        body = {"version": 1, "active": False}
        _ok(client.call("PATCH", f"/banking/agreements/{agreement['id']}", shop.access_token, body=body))
    counters = _sql(
        database,
        "select id, next_nosso_numero from bank_agreements where tenant_id = %s order by id",
        shop.tenant_id,
    )
    audit_before = _sql(database, "select count(*) from audit_log where tenant_id = %s", shop.tenant_id)
    today = _today()
    changes: dict[str, Any] = {
        "due_yesterday": {"due_date": (today - timedelta(days=1)).isoformat()},
        "due_in_eleven_years": {"due_date": (today + timedelta(days=11 * 366)).isoformat()},
        "discount_without_date": {"discount_cents": 100},
        "discount_after_due": {"discount_cents": 100, "discount_until": _due(11)},
        "discount_not_below_amount": {"discount_cents": 15000, "discount_until": _due(1)},
        "fine_over_20_percent": {"fine_bp": 2001},
        "amount_zero": {"amount_cents": 0},
        "amount_past_the_barcode": {"amount_cents": 10**10},
        "unknown_customer": {"customer_id": str(uuid.uuid4())},
        "unknown_agreement": {"agreement_id": str(uuid.uuid4())},
        "inactive_agreement": {"agreement_id": agreement["id"] if agreement else None},
    }.get(case, {})
    # When the boleto is asked for
    if case == "order_cancelled":
        order = open_order(client, shop)
        assert move(client, shop, order, "cancelled")[0] == 200
        status, answer, _ = client.call(
            "POST",
            f"/orders/{order['id']}/boletos",
            shop.access_token,
            body={"due_date": _due(), "amount_cents": 100},
        )
    elif case == "order_without_quote_nor_amount":
        order = open_order(client, shop)
        status, answer, _ = client.call(
            "POST", f"/orders/{order['id']}/boletos", shop.access_token, body={"due_date": _due()}
        )
    else:
        status, answer = _free(client, shop, customer["id"], **changes)
    # Then the refusal is clear, in pt-BR, and nothing was written: no boleto, no number taken, no audit
    assert (status, answer["code"]) == expected, answer
    assert answer["message"]
    assert _boleto_count(database, shop.tenant_id) == 0
    assert (
        _sql(
            database,
            "select id, next_nosso_numero from bank_agreements where tenant_id = %s order by id",
            shop.tenant_id,
        )
        == counters
    )
    if case not in ("order_cancelled", "order_without_quote_nor_amount"):
        assert (
            _sql(database, "select count(*) from audit_log where tenant_id = %s", shop.tenant_id)
            == audit_before
        )


def test_truly_parallel_issues_get_distinct_numbers_without_gaps(
    client: Client, database: PgDatabase
) -> None:
    from assistec.db.connection import Database
    from assistec.domain.permissions import Role
    from assistec.domain.tokens import Identity
    from assistec.services.banking.boletos import Boletos, IssueRequest
    from assistec.services.outbox import OutboxRelay
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings

    shop = signup(client)
    agreement = _agreement(client, shop, next_nosso_numero=500)
    customer = _customer(client, shop)
    identity = Identity(tenant_id=UUID(shop.tenant_id), user_id=UUID(shop.owner_id), role=Role.OWNER)
    workers = 8
    barrier = threading.Barrier(workers)
    numbers: list[int] = []
    errors: list[BaseException] = []

    def issue() -> None:
        db = Database(DatabaseSettings(database_url=database.app_url, db_sslmode="disable"))  # type: ignore[call-arg]
        try:
            service = Boletos(UnitsOfWork(db, OutboxRelay(db, FakeBus())), FakeDocumentStore)
            barrier.wait()
            view = service.issue_free(
                identity,
                UUID(customer["id"]),
                IssueRequest(due_date=_today() + timedelta(days=5), amount_cents=1000),
            )
            numbers.append(view.row.nosso_numero)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            db.close()

    # When eight requests issue boletos under one agreement at the same moment
    threads = [threading.Thread(target=issue) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then each got its own number, the eight consecutive from the counter, and the counter moved eight
    assert errors == []
    assert sorted(numbers) == list(range(500, 508))
    assert _counter(client, shop, agreement["id"]) == 508
    barcodes = _sql(
        database, "select count(distinct barcode) from boletos where tenant_id = %s", shop.tenant_id
    )
    assert barcodes == [(8,)]


def test_a_double_click_on_an_orders_boleto_issues_one(client: Client, database: PgDatabase) -> None:
    from assistec.db.connection import Database
    from assistec.domain.permissions import Role
    from assistec.domain.tokens import Identity
    from assistec.errors import AppError
    from assistec.services.banking.boletos import Boletos, IssueRequest
    from assistec.services.outbox import OutboxRelay
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings

    shop = signup(client)
    _agreement(client, shop)
    order = approved_order(client, shop, 25000)
    identity = Identity(tenant_id=UUID(shop.tenant_id), user_id=UUID(shop.owner_id), role=Role.OWNER)
    barrier = threading.Barrier(2)
    answers: list[str] = []

    def click() -> None:
        db = Database(DatabaseSettings(database_url=database.app_url, db_sslmode="disable"))  # type: ignore[call-arg]
        try:
            service = Boletos(UnitsOfWork(db, OutboxRelay(db, FakeBus())), FakeDocumentStore)
            barrier.wait()
            view = service.issue_for_order(
                identity, UUID(order["id"]), IssueRequest(due_date=_today() + timedelta(days=5))
            )
            answers.append(f"issued {view.row.amount_cents}")
        except AppError as error:
            answers.append(error.code)
        finally:
            db.close()

    # When two requests for the order's balance arrive at the same moment (a double click)
    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then one boleto asks for the balance; the other request finds it open
    assert sorted(answers) == ["issued 25000", "nothing_open"]
    assert _boleto_count(database, shop.tenant_id) == 1


# --- reading, roles, other shops ---------------------------------------------------------------------------


def test_the_list_filters_and_pages(client: Client) -> None:
    shop = signup(client)
    _agreement(client, shop)
    ana, bia = _customer(client, shop), _customer(client, shop)
    order = approved_order(client, shop, 5000)
    made = [
        _free(client, shop, ana["id"])[1],
        _free(client, shop, bia["id"])[1],
        _free(client, shop, ana["id"])[1],
    ]
    for_order = _ok(
        client.call("POST", f"/orders/{order['id']}/boletos", shop.access_token, body={"due_date": _due()})
    )
    first = _ok(client.call("GET", "/banking/boletos", shop.access_token, query={"limit": "2"}))
    assert [b["id"] for b in first["items"]] == [for_order["id"], made[2]["id"]]  # newest first
    second = _ok(
        client.call(
            "GET", "/banking/boletos", shop.access_token, query={"limit": "2", "cursor": first["next_cursor"]}
        )
    )
    assert [b["id"] for b in second["items"]] == [made[1]["id"], made[0]["id"]]
    assert second["next_cursor"] is None
    by_customer = _ok(
        client.call("GET", "/banking/boletos", shop.access_token, query={"customer_id": ana["id"]})
    )
    assert [b["id"] for b in by_customer["items"]] == [made[2]["id"], made[0]["id"]]
    by_order = _ok(client.call("GET", "/banking/boletos", shop.access_token, query={"order_id": order["id"]}))
    assert [b["id"] for b in by_order["items"]] == [for_order["id"]]
    settled = _ok(client.call("GET", "/banking/boletos", shop.access_token, query={"status": "settled"}))
    assert settled["items"] == []
    status, answer, _ = client.call("GET", "/banking/boletos", shop.access_token, query={"status": "paid"})
    assert (status, answer["code"]) == (422, "validation_error")


@pytest.mark.parametrize(("role", "allowed"), [("attendant", True), ("admin", True), ("technician", False)])
def test_the_counter_issues_and_reads_the_bench_does_not(client: Client, role: str, allowed: bool) -> None:
    shop = signup(client)
    _agreement(client, shop)
    customer = _customer(client, shop)
    token = staff(client, shop, role)
    status, answer = _free(client, shop, customer["id"], token=token)
    assert status == (201 if allowed else 403), answer
    assert client.call("GET", "/banking/boletos", token)[0] == (200 if allowed else 403)


def test_another_shops_boletos_orders_customers_and_agreements_are_not_found(
    client: Client, database: PgDatabase
) -> None:
    shop, other = signup(client), signup(client)
    agreement = _agreement(client, shop)
    _agreement(client, other)
    customer = _customer(client, shop)
    order = approved_order(client, shop, 5000)
    status, boleto = _free(client, shop, customer["id"])
    assert status == 201, boleto
    for method, path in (
        ("GET", f"/banking/boletos/{boleto['id']}"),
        ("GET", f"/banking/boletos/{boleto['id']}/pdf"),
        ("POST", f"/banking/boletos/{boleto['id']}/send"),
        ("GET", f"/orders/{order['id']}/boletos"),
        ("POST", f"/orders/{order['id']}/boletos"),
    ):
        body = {"due_date": _due()} if path.endswith("/boletos") and method == "POST" else None
        status, answer, _ = client.call(method, path, other.access_token, body=body)
        assert (status, answer["code"]) == (404, "not_found"), (path, answer)
    # Nor may it issue to the shop's customer or under the shop's agreement
    assert _free(client, other, customer["id"])[0] == 404
    other_customer = _customer(client, other)
    assert _free(client, other, other_customer["id"], agreement_id=agreement["id"])[0] == 404
    assert _ok(client.call("GET", "/banking/boletos", other.access_token))["items"] == []
    assert _boleto_count(database, other.tenant_id) == 0


# --- the PDF ------------------------------------------------------------------------------------------------


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (60, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_the_pdf_prints_the_linha_digitavel_the_shop_its_logo_and_the_payer(
    client: Client, database: PgDatabase, api_root: Any
) -> None:
    shop = signup(client, name="Conserta Já Assistência")
    _agreement(client, shop)
    customer = _customer(client, shop)
    store: FakeDocumentStore = api_root.document_store
    logo_key = f"logos/{shop.tenant_id}/{uuid.uuid4()}.png"
    store.put(logo_key, _png(), content_type="image/png")
    _sql(
        database,
        "update tenant_settings set logo_key = %s where tenant_id = %s returning 1",
        logo_key,
        shop.tenant_id,
    )
    boleto = _free(client, shop, customer["id"], description="Troca de tela do tablet")[1]
    # When the PDF is asked for
    status, link, _ = client.call("GET", f"/banking/boletos/{boleto['id']}/pdf", shop.access_token)
    # Then a short-lived link to a PDF stored under the shop's documents
    assert status == 200, link
    assert (link["content_type"], link["filename"]) == (
        "application/pdf",
        f"boleto-{boleto['nosso_numero']}.pdf",
    )
    stored = store.at(link["url"])
    assert stored.data.startswith(b"%PDF")
    assert [k for k in store.objects if k.startswith(f"documents/{shop.tenant_id}/boletos/{boleto['id']}-")]
    # And the page reads the linha digitável, the shop, the payer and the amount, with the shop's logo drawn
    page = PdfReader(io.BytesIO(stored.data)).pages[0]
    text = page.extract_text()
    assert boleto["digitable_line_formatted"] in text
    for printed in ("Conserta Já Assistência", "Ana Souza", "R$ 150,00"):
        assert printed in text
    assert "Após o vencimento, multa de 2% e juros de 1% ao mês." in text
    assert "Descrição: Troca de tela do tablet" in text  # the free boleto's, in the instructions
    assert len(page.images) == 1


# --- sending ------------------------------------------------------------------------------------------------


def test_sending_goes_on_whatsapp_when_the_shop_and_the_customer_can(
    client: Client, api_root: Any, api: Any
) -> None:
    from tests.integration.whatsapp_helpers import build_world, connect_number

    world = build_world(api_root, api)
    shop = signup(client, name="Loja do Zap")
    connect_number(client, shop, world)
    _agreement(client, shop)
    order = approved_order(client, shop, 18990)
    boleto = _ok(
        client.call("POST", f"/orders/{order['id']}/boletos", shop.access_token, body={"due_date": _due()})
    )
    # When the boleto is sent
    status, answer, _ = client.call("POST", f"/banking/boletos/{boleto['id']}/send", shop.access_token)
    # Then it goes on WhatsApp, with the linha digitável to copy, and no e-mail
    assert status == 200, answer
    assert (answer["channel"], answer["status"], answer["to"]) == ("whatsapp", "queued", None)
    world.drain()
    customer = _ok(client.call("GET", f"/customers/{order['customer_id']}", shop.access_token))
    [text] = world.texts_to(str(customer["phone"]).removeprefix("+"))
    assert f"boleto da OS {order['number']} na Loja do Zap" in text
    assert "Valor: R$ 189,90" in text
    assert boleto["digitable_line_formatted"] in text
    assert world.mailer.shop_sent == []


def test_sending_goes_by_email_with_the_pdf_when_there_is_no_whatsapp(client: Client, api_root: Any) -> None:
    shop = signup(client, name="Loja Sem Zap")
    _agreement(client, shop)
    customer = _customer(client, shop, email="ana@exemplo.com.br")
    boleto = _free(client, shop, customer["id"], description="Conserto do notebook")[1]
    status, answer, _ = client.call("POST", f"/banking/boletos/{boleto['id']}/send", shop.access_token)
    assert status == 200, answer
    assert (answer["channel"], answer["status"], answer["to"]) == ("email", "sent", "ana@exemplo.com.br")
    [mail] = [m for m in api_root.mailer.mails if m.to == "ana@exemplo.com.br"]
    assert boleto["digitable_line_formatted"] in mail.text
    assert "Referente a: Conserto do notebook" in mail.text
    assert "Conserto do notebook" in mail.html
    assert f"nº {boleto['nosso_numero_printed']}" in mail.subject
    [attachment] = mail.attachments
    assert attachment.filename == f"boleto-{boleto['nosso_numero']}.pdf"
    assert attachment.data.startswith(b"%PDF")
    # The message is recorded in the shop's e-mail log
    [record] = _ok(client.call("GET", "/email/messages", shop.access_token, query={"template": "boleto"}))[
        "items"
    ]
    assert record["status"] == "sent"


def test_only_an_open_boleto_is_sent_and_only_to_a_reachable_customer(
    client: Client, database: PgDatabase, api_root: Any
) -> None:
    shop = signup(client)
    _agreement(client, shop)
    unreachable = _customer(client, shop)  # no WhatsApp number in the shop, no e-mail
    boleto = _free(client, shop, unreachable["id"])[1]
    status, answer, _ = client.call("POST", f"/banking/boletos/{boleto['id']}/send", shop.access_token)
    assert (status, answer["code"]) == (422, "customer_unreachable"), answer
    _sql(
        database,
        "update boletos set status = 'settled', paid_cents = amount_cents, paid_on = issued_on "
        "where id = %s returning 1",
        boleto["id"],
    )
    status, answer, _ = client.call("POST", f"/banking/boletos/{boleto['id']}/send", shop.access_token)
    assert (status, answer["code"], answer["details"]) == (409, "boleto_not_open", {"status": "settled"}), (
        answer
    )
    assert api_root.mailer.shop_sent == []


# --- settled by a retorno: the customer told once --------------------------------------------------------


def test_a_settlement_tells_the_customer_once_however_often_the_retorno_comes(
    client: Client, api_root: Any, api: Any, bus: FakeBus
) -> None:
    import base64

    from assistec.services.banking.intake import BankFileIntake
    from tests.integration.whatsapp_helpers import build_world, connect_number

    world = build_world(api_root, api)
    api_root.bank_files = BankFileIntake(
        api_root.work, lambda: api_root.document_store, TextParser(), whatsapp=lambda: world.queue
    )
    shop = signup(client, name="Loja Paga")
    connect_number(client, shop, world)
    _agreement(client, shop)
    order = approved_order(client, shop, 25000)
    boleto = _ok(
        client.call("POST", f"/orders/{order['id']}/boletos", shop.access_token, body={"due_date": _due()})
    )
    paid_on = _today().isoformat()
    retorno = f"RET\n341;12345\n{boleto['nosso_numero']};settled;25000;{paid_on}\n".encode()
    # When the retorno settling it comes in, then again, then inside another file of the bank
    for data in (retorno, retorno, retorno + f"{boleto['nosso_numero']};written_off;0;{paid_on}\n".encode()):
        body = {"kind": "retorno", "content_base64": base64.b64encode(data).decode()}
        _ok(client.call("POST", "/banking/files/inline", shop.access_token, body=body))
    world.drain()
    # Then the boleto and the order are paid, and the customer heard it once, on WhatsApp
    settled = _ok(client.call("GET", f"/banking/boletos/{boleto['id']}", shop.access_token))
    assert (settled["status"], settled["paid_cents"], settled["paid_on"]) == ("settled", 25000, paid_on)
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["paid_cents"] == 25000
    customer = _ok(client.call("GET", f"/customers/{order['customer_id']}", shop.access_token))
    told = [t for t in world.texts_to(str(customer["phone"]).removeprefix("+")) if t.startswith("Pagamento")]
    assert told == [f"Pagamento recebido: R$ 250,00 do boleto da OS {order['number']}. Obrigado!"]
    assert len(bus.details("BoletoSettled")) == 1


def test_a_settlement_without_a_send_queue_leaves_the_message_queued_for_the_sweep(
    client: Client, api_root: Any, api: Any, database: PgDatabase
) -> None:
    import base64

    from assistec.services.banking.intake import BankFileIntake
    from tests.integration.whatsapp_helpers import build_world, connect_number

    world = build_world(api_root, api)
    # The bank files worker has no send queue wired: the message waits, queued, for the relay's sweep
    api_root.bank_files = BankFileIntake(api_root.work, lambda: api_root.document_store, TextParser())
    shop = signup(client)
    connect_number(client, shop, world)
    _agreement(client, shop)
    customer = _customer(client, shop)
    boleto = _free(client, shop, customer["id"], amount_cents=4200)[1]
    data = f"RET\n341;12345\n{boleto['nosso_numero']};settled;4200;{_today().isoformat()}\n".encode()
    body = {"kind": "retorno", "content_base64": base64.b64encode(data).decode()}
    _ok(client.call("POST", "/banking/files/inline", shop.access_token, body=body))
    rows = _sql(
        database,
        "select body, status from wa_messages "
        "where tenant_id = %s and direction = 'out' and body like 'Pagamento%%'",
        shop.tenant_id,
    )
    assert rows == [
        (f"Pagamento recebido: R$ 42,00 do boleto nº {boleto['nosso_numero_printed']}. Obrigado!", "queued")
    ]
    assert world.queue.outbound_messages == []


# --- every bank the shop may have an agreement with --------------------------------------------------------

BANK_AGREEMENTS = {
    "001": {
        "branch": "4042",
        "account": "61900",
        "account_digit": "1",
        "wallet": "18",
        "wallet_variation": "19",
        "agreement_code": "1234567",
        "layout": "cnab240",
    },
    "748": {
        "branch": "0165",
        "account": "6238",
        "wallet": "1",
        "agreement_code": "12345",
        "posto": "18",
        "layout": "cnab240",
    },
    "033": {
        "branch": "3857",
        "account": "13000012",
        "wallet": "101",
        "agreement_code": "1234567",
        "layout": "cnab240",
    },
    "104": {
        "branch": "1234",
        "account": "123456",
        "wallet": "RG",
        "agreement_code": "123456",
        "layout": "cnab240",
    },
    "237": {
        "branch": "1234",
        "account": "1234567",
        "account_digit": "0",
        "wallet": "09",
        "agreement_code": "1234567",
        "layout": "cnab400",
    },
    "756": {
        "branch": "3069",
        "account": "1234567",
        "wallet": "1",
        "agreement_code": "1234567",
        "layout": "cnab240",
    },
    "085": {
        "branch": "0101",
        "account": "1234567",
        "wallet": "1",
        "agreement_code": "123456",
        "layout": "cnab240",
    },
    "208": {
        "branch": "0001",
        "account": "1234567",
        "wallet": "9",
        "agreement_code": "1234567",
        "layout": "cnab240",
    },
    "077": {
        "branch": "0001",
        "account": "1234567890",
        "wallet": "12",
        "agreement_code": "1234567",
        "layout": "cnab240",
    },
}


@pytest.mark.parametrize("bank", sorted(BANK_AGREEMENTS))
def test_each_banks_agreement_issues_a_valid_boleto_and_its_pdf(
    client: Client, api_root: Any, bank: str
) -> None:
    shop = signup(client)
    body = {"name": f"Banco {bank}", "bank_code": bank, **BANK_AGREEMENTS[bank]}
    _ok(client.call("POST", "/banking/agreements", shop.access_token, body=body))
    customer = _customer(client, shop)
    status, boleto = _free(client, shop, customer["id"], amount_cents=12345)
    assert status == 201, boleto
    # The bank's code leads the barcode, the linha digitável's check digits hold, the amount is in it
    assert boleto["barcode"].startswith(bank + "9")
    assert linha_to_barcode(boleto["digitable_line"]) == boleto["barcode"]
    assert parse_barcode(boleto["barcode"], reference=_today()).amount_cents == 12345
    link = _ok(client.call("GET", f"/banking/boletos/{boleto['id']}/pdf", shop.access_token))
    text = PdfReader(io.BytesIO(api_root.document_store.at(link["url"]).data)).pages[0].extract_text()
    assert boleto["digitable_line_formatted"] in text
    assert boleto["nosso_numero_printed"] in text


def test_a_sicredi_agreement_needs_its_posto_and_its_boletos_carry_it(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    body = {
        "name": "Sicredi", "bank_code": "748", "branch": "0710", "account": "12345", "wallet": "1",
        "agreement_code": "12345", "layout": "cnab240",
    }  # fmt: skip
    # Without its posto, the agreement is refused (nothing written), saying what is missing
    status, answer, _ = client.call("POST", "/banking/agreements", shop.access_token, body=body)
    assert (status, answer["code"]) == (422, "validation_error"), answer
    assert "posto: obrigatório no Sicredi" in str(answer["details"])
    assert _ok(client.call("GET", "/banking/agreements", shop.access_token))["items"] == []
    # With it, the agreement is kept and its boleto's nosso número and barcode carry it
    agreement = _ok(
        client.call("POST", "/banking/agreements", shop.access_token, body={**body, "posto": "18"})
    )
    assert agreement["posto"] == "18"
    status, boleto = _free(client, shop, _customer(client, shop)["id"])
    assert status == 201, boleto
    assert boleto["barcode"][19:44].startswith("11")  # com registro, carteira 1
    assert boleto["barcode"][30:36] == "071018"  # cooperativa 0710, posto 18
    assert _counter(client, shop, agreement["id"]) == 2
    # The posto cannot be cleared while the agreement is Sicredi's
    status, answer, _ = client.call(
        "PATCH",
        f"/banking/agreements/{agreement['id']}",
        shop.access_token,
        body={"version": 1, "posto": None},
    )
    assert (status, answer["code"]) == (422, "validation_error"), answer
    # Changing it is an edit as any other: at the agreement's version, which it bumps, audited
    path = f"/banking/agreements/{agreement['id']}"
    moved = _ok(client.call("PATCH", path, shop.access_token, body={"version": 1, "posto": "04"}))
    assert (moved["posto"], moved["version"]) == ("04", 2)
    status, stale, _ = client.call("PATCH", path, shop.access_token, body={"version": 1, "posto": "05"})
    assert (status, stale["code"]) == (409, "conflict"), stale
    log = _ok(client.call("GET", "/audit", shop.access_token, query={"entity": "bank_agreement"}))["items"]
    assert {"posto": {"from": "18", "to": "04"}} in [e["changes"] for e in log]
    # An agreement made before the posto existed (null in the database) refuses to issue, naming it
    _sql(database, "update bank_agreements set posto = null where id = %s returning id", agreement["id"])
    status, answer = _free(client, shop, _customer(client, shop)["id"])
    assert (status, answer["code"]) == (422, "boleto_invalid_agreement"), answer
    assert "Posto" in answer["message"]
    assert _boleto_count(database, shop.tenant_id) == 1


# --- with the remessa -------------------------------------------------------------------------------------


def test_an_issued_boleto_goes_into_the_agreements_remessa_with_its_numbers(
    client: Client, api_root: Any
) -> None:
    from assistec.domain.banking.cnab import Instruction, read_remessa
    from tests.integration.test_banking_remessas import BB240
    from tests.integration.test_banking_remessas import _customer as complete_customer

    shop = signup(client)
    agreement = _agreement(client, shop, **BB240)
    status, boleto = _free(client, shop, complete_customer(client, shop), amount_cents=15000)
    assert status == 201, boleto
    # When the owner generates the agreement's remessa
    made = _ok(client.call("POST", f"/banking/agreements/{agreement['id']}/remessas", shop.access_token))
    # Then it registers the issued boleto with its nosso número (BB: convênio + sequence), amount, due
    # date and the issue's terms
    [item] = read_remessa(api_root.document_store.at(made["download_url"]).data).items
    assert item.instruction == Instruction.REGISTER
    assert item.nosso_numero == f"{BB240['agreement_code']}{boleto['nosso_numero']:010d}"
    assert boleto["nosso_numero_printed"] == item.nosso_numero
    assert (item.amount_cents, item.due_date) == (15000, date.fromisoformat(boleto["due_date"]))
    assert item.document_number == str(boleto["nosso_numero"])
    assert item.fine_cents == 300  # 2% of R$ 150,00
    assert (
        _ok(client.call("GET", f"/banking/boletos/{boleto['id']}", shop.access_token))["remessa_id"]
        == made["id"]
    )
