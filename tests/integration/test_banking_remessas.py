"""Remessas (issue 15 §3) against the real database: an agreement's waiting boletos and pending
instructions written into its bank's layout (CNAB 240 and 400), stored, recorded and linked; the
file read back gives the same boletos; the sequence per agreement under truly parallel generations;
instructions; a failed S3 write records nothing; other shops see nothing; and the download link of a
real S3 (LocalStack) gives the same bytes."""

from __future__ import annotations

import threading
import urllib.request
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import pytest

from assistec.db.connection import Database
from assistec.domain.banking import boleto_banks
from assistec.domain.banking.boleto import barcode_to_linha, build_barcode
from assistec.domain.banking.cnab import Instruction, read_remessa
from assistec.settings import DatabaseSettings
from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeDocumentStore, Shop, signup
from tests.integration.shop_helpers import _ok
from tests.integration.test_email import staff

BB240 = {
    "name": "BB cobrança",
    "bank_code": "001",
    "branch": "1234",
    "branch_digit": "3",
    "account": "56789",
    "account_digit": "X",
    "wallet": "17",
    "wallet_variation": "19",
    "agreement_code": "1234567",
    "layout": "cnab240",
    "interest_monthly_bp": 100,
    "fine_bp": 200,
}
ITAU400 = {
    "name": "Itaú da loja",
    "bank_code": "341",
    "branch": "57",
    "account": "12345",
    "account_digit": "7",
    "wallet": "109",
    "agreement_code": "12345",
    "layout": "cnab400",
    "interest_monthly_bp": 100,
}
ISSUED = date(2030, 1, 2)
DUE = date(2030, 1, 10)


def _sql(database: PgDatabase, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(query, params).fetchall()


def _agreement(client: Client, shop: Shop, fields: dict[str, Any]) -> dict[str, Any]:
    return dict(_ok(client.call("POST", "/banking/agreements", shop.access_token, body=fields)))


def _customer(client: Client, shop: Shop, *, complete: bool = True) -> str:
    from validate_docbr import CPF

    body: dict[str, Any] = {"name": "José da Conceição", "phone": f"(11) 9{uuid.uuid4().int % 10**8:08d}"}
    if complete:
        body["document"] = CPF().generate()
        body["address"] = {
            "street": "Rua das Flores",
            "number": "10",
            "district": "Centro",
            "city": "São Paulo",
            "state": "SP",
            "zip_code": "01001-000",
        }
    return str(_ok(client.call("POST", "/customers", shop.access_token, body=body))["id"])


def _boleto(
    database: PgDatabase,
    shop: Shop,
    agreement: dict[str, Any],
    customer_id: str,
    *,
    amount_cents: int = 15_000,
    due: date = DUE,
) -> dict[str, Any]:
    """A boleto as the issuing use case leaves it (status issued, in no remessa): the agreement's next
    nosso número, its barcode and linha digitável from the domain's functions."""
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute(
            "update bank_agreements set next_nosso_numero = next_nosso_numero + 1 where id = %s "
            "returning next_nosso_numero - 1",
            (agreement["id"],),
        ).fetchone()
        assert row is not None
        nosso = int(row[0])
        _, campo_livre = boleto_banks.nosso_numero_and_campo_livre(
            boleto_banks.Agreement(
                bank_code=agreement["bank_code"],
                agency=agreement["branch"],
                account=agreement["account"],
                wallet=agreement["wallet"],
                agreement_code=agreement["agreement_code"],
                options={"post": agreement["posto"]} if agreement.get("posto") else {},
            ),
            boleto_banks.BoletoRequest(
                sequence=nosso, due_date=due, amount_cents=amount_cents, issue_date=ISSUED
            ),
        )
        barcode = build_barcode(agreement["bank_code"], due, amount_cents, campo_livre)
        inserted = conn.execute(
            "insert into boletos (tenant_id, agreement_id, customer_id, nosso_numero, amount_cents, "
            "issued_on, due_date, interest_monthly_bp, fine_bp, barcode, digitable_line) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
            (
                shop.tenant_id, agreement["id"], customer_id, nosso, amount_cents, ISSUED, due,
                agreement["interest_monthly_bp"], agreement["fine_bp"], barcode, barcode_to_linha(barcode),
            ),
        ).fetchone()  # fmt: skip
        assert inserted is not None
    return {"id": str(inserted[0]), "nosso_numero": nosso, "amount_cents": amount_cents, "due_date": due}


def _generate(client: Client, shop: Shop, agreement_id: str) -> tuple[int, Any, Any]:
    return client.call("POST", f"/banking/agreements/{agreement_id}/remessas", shop.access_token)


def _expected_nosso(agreement: dict[str, Any], nosso: int) -> str:
    """The nosso número as the bank's remessa column carries it: BB's 17 digits (7-digit convênio then
    the 10-digit sequence, no check digit); Itaú CNAB 400's 8 digits (its DAC goes elsewhere)."""
    if agreement["bank_code"] == "001":
        return f"{agreement['agreement_code']}{nosso:010d}"
    assert (agreement["bank_code"], agreement["layout"]) == ("341", "cnab400")
    return f"{nosso:08d}"


def _state(database: PgDatabase, boleto_id: str) -> tuple[str, str | None]:
    status, remessa = _sql(database, "select status, remessa_id from boletos where id = %s", boleto_id)[0]
    return status, None if remessa is None else str(remessa)


def _counter(database: PgDatabase, agreement_id: str) -> int:
    return int(
        _sql(database, "select next_remessa_sequence from bank_agreements where id = %s", agreement_id)[0][0]
    )


# --- generation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fields", [BB240, ITAU400], ids=["bb-cnab240", "itau-cnab400"])
def test_a_remessa_holds_the_waiting_boletos_once_and_reads_back_to_them(
    api_root: Any, client: Client, database: PgDatabase, fields: dict[str, Any]
) -> None:
    store: FakeDocumentStore = api_root.document_store
    shop = signup(client)
    agreement = _agreement(client, shop, fields)
    other = _agreement(client, shop, {**fields, "agreement_code": "7654321", "name": "Outro"})
    customer = _customer(client, shop)
    boletos = [_boleto(database, shop, agreement, customer, amount_cents=c) for c in (15_000, 9_990)]
    elsewhere = _boleto(database, shop, other, customer)
    # When the owner generates the agreement's remessa
    status, made, _ = _generate(client, shop, agreement["id"])
    # Then it is the agreement's file 1, with both boletos and their sum
    assert status == 201, made
    assert (made["sequence"], made["item_count"], made["total_cents"]) == (1, 2, 24_990)
    # (CBddmmNN.REM: the day of generation in the shop's time, the sequence's last two digits)
    at = datetime.fromisoformat(made["created_at"]).astimezone(ZoneInfo("America/Sao_Paulo"))
    assert made["filename"] == f"CB{at:%d%m}01.REM"
    assert made["expires_in"] == 300
    # And the link gives the stored file, which reads back to the same boletos, as registrations
    stored = store.at(made["download_url"])
    assert stored.filename == made["filename"]
    remessa = read_remessa(stored.data)
    assert (remessa.bank_code, remessa.layout) == (fields["bank_code"], fields["layout"])
    if fields["bank_code"] != "341":  # Itaú's CNAB 400 header has no file sequence
        assert remessa.sequence == 1
    assert [(i.nosso_numero, i.amount_cents, i.due_date, i.instruction) for i in remessa.items] == [
        (_expected_nosso(agreement, b["nosso_numero"]), b["amount_cents"], DUE, Instruction.REGISTER)
        for b in boletos
    ]
    assert [i.document_number for i in remessa.items] == [str(b["nosso_numero"]) for b in boletos]
    assert all(i.payer_zip == "01001000" and i.payer_state == "SP" for i in remessa.items)
    if fields["bank_code"] == "001":  # 1% a month of R$ 150,00 is R$ 0,05 a day; a 2% fine is R$ 3,00
        assert (remessa.items[0].interest_per_day_cents, remessa.items[0].fine_cents) == (5, 300)
        assert remessa.items[0].interest_from == DUE + timedelta(days=1)
    # And the boletos are marked with their remessa, still issued (the retorno confirms the entry)
    assert [_state(database, b["id"]) for b in boletos] == [("issued", made["id"])] * 2
    assert _state(database, elsewhere["id"]) == ("issued", None)
    # And the detail lists the items with their lines (CNAB 240: P/Q/R from line 3; CNAB 400: from 2)
    detail = _ok(client.call("GET", f"/banking/remessas/{made['id']}", shop.access_token))
    first, step = (3, 3) if fields["layout"] == "cnab240" else (2, 1)
    assert [
        (i["boleto_id"], i["nosso_numero"], i["instruction"], i["line_number"]) for i in detail["items"]
    ] == [(b["id"], b["nosso_numero"], "register", first + n * step) for n, b in enumerate(boletos)]
    assert store.at(detail["download_url"]).data == stored.data
    assert detail["sha256"] == made["sha256"]
    lines = stored.data.decode("latin-1").split("\r\n")
    for item in detail["items"]:
        assert lines[item["line_number"] - 1][7 if fields["layout"] == "cnab240" else 0] in "31"
    # When the owner generates again with nothing new
    status, again, _ = _generate(client, shop, agreement["id"])
    # Then 409 with a stable code, and the sequence is not taken
    assert (status, again["code"]) == (409, "remessa_nothing_to_send"), again
    assert _counter(database, agreement["id"]) == 2
    # When a new boleto is issued, the next file is 2 and holds only it
    third = _boleto(database, shop, agreement, customer)
    status, second, _ = _generate(client, shop, agreement["id"])
    assert (status, second["sequence"], second["item_count"]) == (201, 2, 1), second
    assert [i.nosso_numero for i in read_remessa(store.at(second["download_url"]).data).items] == [
        _expected_nosso(agreement, third["nosso_numero"])
    ]
    # And the other agreement's sequence is its own
    status, theirs, _ = _generate(client, shop, other["id"])
    assert (status, theirs["sequence"], theirs["item_count"]) == (201, 1, 1)
    # And the list pages newest first
    path = f"/banking/agreements/{agreement['id']}/remessas"
    page = _ok(client.call("GET", path, shop.access_token, query={"limit": "1"}))
    assert [r["sequence"] for r in page["items"]] == [2]
    assert page["next_cursor"]
    rest = _ok(
        client.call("GET", path, shop.access_token, query={"limit": "1", "cursor": page["next_cursor"]})
    )
    assert ([r["sequence"] for r in rest["items"]], rest["next_cursor"]) == ([1], None)
    # And the generation is audited
    log = _ok(client.call("GET", "/audit", shop.access_token, query={"entity": "remessa"}))["items"]
    assert {e["action"] for e in log} == {"generate", "download"}


def test_parallel_generations_put_each_boleto_in_one_file_and_take_each_sequence_once(
    api_root: Any, client: Client, database: PgDatabase
) -> None:
    from assistec.domain.permissions import Role
    from assistec.domain.tokens import Identity
    from assistec.services.banking.remessas import NothingToSendError, Remessas
    from assistec.services.unit_of_work import UnitsOfWork

    shop = signup(client)
    agreement = _agreement(client, shop, BB240)
    customer = _customer(client, shop)
    owner = Identity(tenant_id=UUID(shop.tenant_id), user_id=UUID(shop.owner_id), role=Role.OWNER)
    store = api_root.document_store
    threads, rounds = 6, 3
    made: list[tuple[int, str]] = []
    empty: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    for _ in range(rounds):
        for _ in range(4):
            _boleto(database, shop, agreement, customer)
        start = threading.Barrier(threads)

        def work(start: threading.Barrier = start) -> None:
            db = Database(
                DatabaseSettings(database_url=database.app_url, db_secret_id=None, db_sslmode="disable")
            )
            try:
                service = Remessas(UnitsOfWork(db), lambda: store)
                start.wait()
                try:
                    link = service.generate(owner, UUID(agreement["id"]))
                except NothingToSendError:
                    with lock:
                        empty.append(1)
                    return
                with lock:
                    made.append((link.remessa.sequence, str(link.remessa.id)))
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                db.close()

        # When 6 threads, each on its own connection, generate the agreement's remessa at once
        runners = [threading.Thread(target=work) for _ in range(threads)]
        for runner in runners:
            runner.start()
        for runner in runners:
            runner.join()
    assert not errors, errors
    # Then each round's 4 boletos went into one file: the others found nothing left
    assert len(made) == rounds
    assert len(empty) == rounds * (threads - 1)
    assert sorted(s for s, _ in made) == [1, 2, 3]
    assert _counter(database, agreement["id"]) == 4
    rows = _sql(
        database,
        "select boleto_id, count(*) from remessa_items where tenant_id = %s group by boleto_id",
        shop.tenant_id,
    )
    assert len(rows) == rounds * 4
    assert {n for _, n in rows} == {1}
    # And every boleto is marked with the file that holds it
    assert _sql(
        database,
        "select count(*) from boletos b join remessa_items i on i.boleto_id = b.id "
        "where b.tenant_id = %s and b.remessa_id = i.remessa_id",
        shop.tenant_id,
    ) == [(rounds * 4,)]


def test_an_s3_failure_records_nothing_and_takes_no_sequence(
    api_root: Any, client: Client, database: PgDatabase
) -> None:
    store: FakeDocumentStore = api_root.document_store
    shop = signup(client)
    agreement = _agreement(client, shop, ITAU400)
    boleto = _boleto(database, shop, agreement, _customer(client, shop))
    # When S3 is down while the remessa is generated
    store.down = True
    status, answer, _ = _generate(client, shop, agreement["id"])
    # Then 503, and nothing was recorded: no file, the boleto still waiting, the counter unmoved
    assert (status, answer["code"]) == (503, "storage_unavailable"), answer
    assert _sql(database, "select count(*) from remessa_files where tenant_id = %s", shop.tenant_id) == [(0,)]
    assert _state(database, boleto["id"]) == ("issued", None)
    assert _counter(database, agreement["id"]) == 1
    # And once S3 is back, the file is number 1
    store.down = False
    status, made, _ = _generate(client, shop, agreement["id"])
    assert (status, made["sequence"], made["item_count"]) == (201, 1, 1), made


def test_a_boleto_registered_twice_is_refused_by_the_database_and_nothing_is_recorded(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    agreement = _agreement(client, shop, ITAU400)
    boleto = _boleto(database, shop, agreement, _customer(client, shop))
    assert _generate(client, shop, agreement["id"])[0] == 201
    # Given a defect that puts the registered boleto back among the waiting ones
    _sql(database, "update boletos set remessa_id = null where id = %s returning id", boleto["id"])
    # When the remessa is generated again
    status, answer, _ = _generate(client, shop, agreement["id"])
    # Then the unique index "registered once" refuses it: no second file, no sequence taken
    assert status == 500, answer
    assert _sql(database, "select count(*) from remessa_files where tenant_id = %s", shop.tenant_id) == [(1,)]
    assert _counter(database, agreement["id"]) == 2


@pytest.mark.parametrize("layout", ["cnab240", "cnab400"])
def test_banco_do_brasils_remessa_carries_the_agreements_carteira_variation(
    api_root: Any, client: Client, database: PgDatabase, layout: str
) -> None:
    store: FakeDocumentStore = api_root.document_store
    shop = signup(client)
    fields = {**BB240, "layout": layout}
    # A BB agreement without its variation is refused, saying so
    status, answer, _ = client.call(
        "POST", "/banking/agreements", shop.access_token, body={**fields, "wallet_variation": None}
    )
    assert (status, answer["code"]) == (422, "validation_error"), answer
    assert "variação da carteira: obrigatória no Banco do Brasil" in str(answer["details"])
    agreement = _agreement(client, shop, fields)
    assert agreement["wallet_variation"] == "19"
    _boleto(database, shop, agreement, _customer(client, shop))
    status, made, _ = _generate(client, shop, agreement["id"])
    assert status == 201, made
    data = store.at(made["download_url"]).data
    lines = data.split(b"\r\n")
    if layout == "cnab240":
        # BB's header convênio: convênio (9) + 0014 + carteira 17 + variação 019 + 2 blanks
        assert lines[0][32:52] == b"001234567001417019  "
        assert lines[1][33:53] == b"001234567001417019  "
    else:  # CBR641: the variação in 92-94, the carteira in 107-108
        assert (lines[1][91:94], lines[1][106:108]) == (b"019", b"17")
    assert read_remessa(data).agreement.wallet == "17"
    # An agreement made before the field (null in the database) has its remessa refused, nothing taken
    _sql(
        database,
        "update bank_agreements set wallet_variation = null where id = %s returning id",
        agreement["id"],
    )
    waiting = _boleto(database, shop, agreement, _customer(client, shop))
    status, answer, _ = _generate(client, shop, agreement["id"])
    assert (status, answer["code"]) == (422, "remessa_invalid"), answer
    assert "variação da carteira" in answer["message"]
    assert _counter(database, agreement["id"]) == 2
    assert _state(database, waiting["id"]) == ("issued", None)


def test_a_bank_without_remessa_and_an_incomplete_payer_are_refused_with_their_reason(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    ailos = _agreement(
        client,
        shop,
        {
            "name": "Ailos", "bank_code": "085", "branch": "101", "account": "1234567", "wallet": "1",
            "agreement_code": "123456", "layout": "cnab240", "interest_monthly_bp": 0, "fine_bp": 0,
        },
    )  # fmt: skip
    _boleto(database, shop, ailos, _customer(client, shop))
    status, answer, _ = _generate(client, shop, ailos["id"])
    assert (status, answer["code"]) == (422, "remessa_unsupported"), answer
    assert "085" in answer["message"]
    itau = _agreement(client, shop, ITAU400)
    incomplete = _boleto(database, shop, itau, _customer(client, shop, complete=False))
    status, answer, _ = _generate(client, shop, itau["id"])
    assert (status, answer["code"]) == (422, "remessa_payer_incomplete"), answer
    assert answer["details"] == {"boleto_ids": [incomplete["id"]]}
    # And nothing changed
    assert _counter(database, ailos["id"]) == 1
    assert _counter(database, itau["id"]) == 1
    assert _state(database, incomplete["id"]) == ("issued", None)


# --- instructions ----------------------------------------------------------------------------------------


def _instruct(client: Client, shop: Shop, boleto_id: str, **body: Any) -> tuple[int, Any, Any]:
    return client.call("POST", f"/banking/boletos/{boleto_id}/instructions", shop.access_token, body=body)


def test_a_boleto_never_sent_is_cancelled_not_instructed(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    agreement = _agreement(client, shop, ITAU400)
    boleto = _boleto(database, shop, agreement, _customer(client, shop))
    # A due-date change of a boleto the bank never saw is refused (cancel it and issue another)
    status, answer, _ = _instruct(
        client, shop, boleto["id"], instruction="change_due_date", due_date="2031-01-10"
    )
    assert (status, answer["code"]) == (409, "boleto_not_sent"), answer
    # A write-off cancels it here: nothing goes to the bank
    status, answer, _ = _instruct(client, shop, boleto["id"], instruction="write_off")
    assert (status, answer["outcome"], answer["status"], answer["instruction_id"]) == (
        200,
        "cancelled",
        "cancelled",
        None,
    )
    assert _state(database, boleto["id"]) == ("cancelled", None)
    assert _sql(
        database, "select count(*) from boleto_instructions where tenant_id = %s", shop.tenant_id
    ) == [(0,)]
    status, answer, _ = _generate(client, shop, agreement["id"])
    assert (status, answer["code"]) == (409, "remessa_nothing_to_send")
    # And a cancelled boleto takes no instruction
    status, answer, _ = _instruct(client, shop, boleto["id"], instruction="write_off")
    assert (status, answer["code"]) == (409, "boleto_closed"), answer


@pytest.mark.parametrize("fields", [BB240, ITAU400], ids=["bb-cnab240", "itau-cnab400"])
def test_instructions_wait_for_the_next_remessa_and_go_in_it_once(
    api_root: Any, client: Client, database: PgDatabase, fields: dict[str, Any]
) -> None:
    store: FakeDocumentStore = api_root.document_store
    shop = signup(client)
    agreement = _agreement(client, shop, fields)
    customer = _customer(client, shop)
    written_off, moved, settled = (_boleto(database, shop, agreement, customer) for _ in range(3))
    first = _ok(_generate(client, shop, agreement["id"]))
    _sql(
        database,
        "update boletos set status = 'settled', paid_cents = amount_cents, paid_on = '2030-01-09' "
        "where id = %s returning id",
        settled["id"],
    )
    # When the owner asks for a write-off, and twice for a due-date change (the second replaces it)
    status, off, _ = _instruct(client, shop, written_off["id"], instruction="write_off")
    assert (status, off["outcome"], off["status"]) == (200, "pending", "pending"), off
    _ok(_instruct(client, shop, moved["id"], instruction="change_due_date", due_date="2031-02-10"))
    again = _ok(_instruct(client, shop, moved["id"], instruction="change_due_date", due_date="2031-03-10"))
    assert again["due_date"] == "2031-03-10"
    # Then the refusals: a second write-off, a due-date change after a write-off, a closed boleto,
    # a date in the past
    for boleto, body, code in (
        (written_off, {"instruction": "write_off"}, "boleto_write_off_requested"),
        (
            written_off,
            {"instruction": "change_due_date", "due_date": "2031-01-10"},
            "boleto_write_off_requested",
        ),
        (settled, {"instruction": "write_off"}, "boleto_closed"),
    ):
        status, answer, _ = _instruct(client, shop, boleto["id"], **body)
        assert (status, answer["code"]) == (409, code), (body, answer)
    status, answer, _ = _instruct(
        client, shop, moved["id"], instruction="change_due_date", due_date="2020-01-01"
    )
    assert (status, answer["code"]) == (422, "validation_error"), answer
    status, answer, _ = _instruct(client, shop, moved["id"], instruction="change_due_date")
    assert (status, answer["code"]) == (422, "validation_error"), answer
    # When the next remessa is generated
    status, second, _ = _generate(client, shop, agreement["id"])
    assert (status, second["sequence"], second["item_count"], second["total_cents"]) == (201, 2, 2, 0), second
    # Then it carries the two instructions (the boletos appear a second time only through them)
    items = read_remessa(store.at(second["download_url"]).data).items
    assert [(i.nosso_numero, i.instruction, i.due_date) for i in items] == [
        (_expected_nosso(agreement, written_off["nosso_numero"]), Instruction.WRITE_OFF, DUE),
        (_expected_nosso(agreement, moved["nosso_numero"]), Instruction.CHANGE_DUE_DATE, date(2031, 3, 10)),
    ]
    detail = _ok(client.call("GET", f"/banking/remessas/{second['id']}", shop.access_token))
    assert [(i["boleto_id"], i["instruction"], i["due_date"]) for i in detail["items"]] == [
        (written_off["id"], "write_off", DUE.isoformat()),
        (moved["id"], "change_due_date", "2031-03-10"),
    ]
    # And the instructions are sent with that file; the boletos keep their first remessa
    assert sorted(
        _sql(
            database,
            "select instruction, status, remessa_id::text from boleto_instructions where tenant_id = %s",
            shop.tenant_id,
        )
    ) == [("change_due_date", "sent", second["id"]), ("write_off", "sent", second["id"])]
    assert _state(database, moved["id"]) == ("issued", first["id"])
    # And nothing is left to send
    assert _generate(client, shop, agreement["id"])[1]["code"] == "remessa_nothing_to_send"
    # And the database refuses a second registration of a boleto in any file
    with pytest.raises(psycopg.errors.UniqueViolation, match="remessa_items_registered_once"):
        _sql(
            database,
            "insert into remessa_items (tenant_id, remessa_id, boleto_id, instruction) "
            "values (%s, %s, %s, 'register')",
            shop.tenant_id, second["id"], moved["id"],
        )  # fmt: skip


# --- who may ---------------------------------------------------------------------------------------


def test_other_shops_and_other_roles_reach_no_remessa(client: Client, database: PgDatabase) -> None:
    a, b = signup(client), signup(client)
    agreement = _agreement(client, a, ITAU400)
    customer = _customer(client, a)
    boleto, waiting = _boleto(database, a, agreement, customer), _boleto(database, a, agreement, customer)
    made = _ok(_generate(client, a, agreement["id"]))
    _ok(_instruct(client, a, boleto["id"], instruction="write_off"))
    later = _boleto(database, a, agreement, customer)
    # When shop B asks for A's agreement's remessas, A's remessa, or instructs A's boletos
    for method, path, body in (
        ("POST", f"/banking/agreements/{agreement['id']}/remessas", None),
        ("GET", f"/banking/agreements/{agreement['id']}/remessas", None),
        ("GET", f"/banking/remessas/{made['id']}", None),
        ("POST", f"/banking/boletos/{waiting['id']}/instructions", {"instruction": "write_off"}),
        ("POST", f"/banking/boletos/{later['id']}/instructions", {"instruction": "write_off"}),
    ):
        status, answer, _ = client.call(method, path, b.access_token, **({"body": body} if body else {}))
        # Then 404, as for an id that does not exist
        assert (status, answer["code"]) == (404, "not_found"), (path, answer)
    # And B's transaction sees none of A's instructions (row-level security)
    db = Database(DatabaseSettings(database_url=database.app_url, db_secret_id=None, db_sslmode="disable"))
    try:
        with db.tenant_tx(UUID(b.tenant_id)) as conn:
            assert conn.execute("select count(*) from boleto_instructions").fetchone() == (0,)
        with db.tenant_tx(UUID(a.tenant_id)) as conn:
            assert conn.execute("select count(*) from boleto_instructions").fetchone() == (1,)
    finally:
        db.close()
    # When a technician or an attendant of A tries
    for role in ("technician", "attendant"):
        token = staff(client, a, role)
        for method, path, body in (
            ("POST", f"/banking/agreements/{agreement['id']}/remessas", None),
            ("GET", f"/banking/agreements/{agreement['id']}/remessas", None),
            ("GET", f"/banking/remessas/{made['id']}", None),
            ("POST", f"/banking/boletos/{later['id']}/instructions", {"instruction": "write_off"}),
        ):
            status, answer, _ = client.call(method, path, token, **({"body": body} if body else {}))
            assert (status, answer["code"]) == (403, "forbidden"), (role, path, answer)
    # Then nothing changed: the later boleto still waits, the write-off still pending
    assert _state(database, later["id"]) == ("issued", None)
    assert _counter(database, agreement["id"]) == 2


# --- a real S3 (LocalStack) --------------------------------------------------------------------------------


def test_the_download_link_of_a_real_s3_gives_the_stored_file(
    api_root: Any, client: Client, database: PgDatabase, localstack_aws: str
) -> None:
    import boto3

    from assistec.integrations.storage import S3DocumentStore

    bucket = f"assistec-test-remessas-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    try:
        api_root.document_store = S3DocumentStore(bucket)
        shop = signup(client)
        agreement = _agreement(client, shop, BB240)
        boleto = _boleto(database, shop, agreement, _customer(client, shop))
        # When the remessa is generated into the real bucket
        made = _ok(_generate(client, shop, agreement["id"]))
        key = _sql(database, "select s3_key from remessa_files where id = %s", made["id"])[0][0]
        stored = s3.get_object(Bucket=bucket, Key=key)
        data = stored["Body"].read()
        # Then it is stored encrypted under the shop's key
        assert key.startswith(f"remessas/{shop.tenant_id}/{agreement['id']}/{made['id']}/")
        assert stored.get("ServerSideEncryption") == "AES256"
        # And its presigned link (a plain GET, no credentials) gives the same bytes
        with urllib.request.urlopen(made["download_url"], timeout=10) as answer:
            assert answer.read() == data
        assert [i.nosso_numero for i in read_remessa(data).items] == [
            _expected_nosso(agreement, boleto["nosso_numero"])
        ]
        # And so does the detail's fresh link
        detail = _ok(client.call("GET", f"/banking/remessas/{made['id']}", shop.access_token))
        with urllib.request.urlopen(detail["download_url"], timeout=10) as answer:
            assert answer.read() == data
    finally:
        for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=obj["Key"])
        s3.delete_bucket(Bucket=bucket)


def test_an_instruction_for_a_boleto_settled_meanwhile_is_voided_not_sent(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    agreement = _agreement(client, shop, ITAU400)
    boleto = _boleto(database, shop, agreement, _customer(client, shop))
    assert _generate(client, shop, agreement["id"])[0] == 201
    _ok(_instruct(client, shop, boleto["id"], instruction="write_off"))
    # Given the boleto is paid before the next remessa
    _sql(
        database,
        "update boletos set status = 'settled', paid_cents = amount_cents, paid_on = '2030-01-09' "
        "where id = %s returning id",
        boleto["id"],
    )
    # When the next remessa is asked for
    status, answer, _ = _generate(client, shop, agreement["id"])
    # Then nothing goes to the bank, and the write-off is void (kept, never sent)
    assert (status, answer["code"]) == (409, "remessa_nothing_to_send"), answer
    assert _sql(
        database, "select status, remessa_id from boleto_instructions where boleto_id = %s", boleto["id"]
    ) == [("void", None)]
    assert _counter(database, agreement["id"]) == 2
