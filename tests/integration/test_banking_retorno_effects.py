"""Retornos find their boletos for every bank and their occurrences take effect (issue 15 §4), against
the real database: boletos issued, their remessa generated, then a retorno in the bank's real layout
(built from its fixture's records, the nosso número as the remessa wrote it, counts and sums in the
trailers) confirming every entry and settling two — BB 240, Itaú 400, Bradesco 400, Santander 240 and
Sicoob 240 —: all registered, two settled, their orders paid, the same retorno again changes nothing.
Then the other occurrences: a due-date change moves the boleto's date with its barcode and linha
digitável recomputed, a write-off closes it (its pending instructions void), a rejection leaves it as it
is with the bank's reasons shown, and nothing touches a boleto already closed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from assistec.domain.banking import boleto_banks
from assistec.domain.banking.cnab import read_remessa
from tests.banking_retornos import Line, retorno240, retorno400
from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeDocumentStore, Shop, signup
from tests.integration.shop_helpers import _ok
from tests.integration.test_banking import _inline
from tests.integration.test_banking_remessas import (
    BB240,
    DUE,
    ISSUED,
    ITAU400,
    _agreement,
    _boleto,
    _customer,
    _generate,
    _sql,
)

PAID_ON = date(2030, 1, 9)

BRADESCO400 = {
    "name": "Bradesco da loja",
    "bank_code": "237",
    "branch": "1234",
    "account": "1234567",
    "account_digit": "8",
    "wallet": "09",
    "agreement_code": "4466911",
    "layout": "cnab400",
}
SANTANDER240 = {
    "name": "Santander da loja",
    "bank_code": "033",
    "branch": "3163",
    "account": "13002862",
    "account_digit": "5",
    "wallet": "101",
    "agreement_code": "7401949",
    "layout": "cnab240",
}
SICOOB240 = {
    "name": "Sicoob da loja",
    "bank_code": "756",
    "branch": "3039",
    "account": "48981",
    "account_digit": "6",
    "wallet": "1",
    "agreement_code": "1234567",
    "layout": "cnab240",
}

# Sicredi as its CNAB 240 fixture states it (cooperativa 0390, conta 4146-8, código 04346); the file
# does not name its posto: 04 is one of the nine whose check digit agrees with the file's 17/200059-5.
SICREDI240 = {
    "name": "Sicredi da loja",
    "bank_code": "748",
    "branch": "0390",
    "account": "4146",
    "account_digit": "8",
    "wallet": "1",
    "agreement_code": "04346",
    "posto": "04",
    "layout": "cnab240",
}


# (fields, the fixture whose shape the retorno takes, entry-confirmed code, settled code)
BANKS = {
    "bb-240": (BB240, "laravel-boleto/cnab240__banco_brasil.ret", "02", "06"),
    "itau-400": (ITAU400, "brcobranca/CNAB400ITAU.RET", "02", "06"),
    "bradesco-400": (BRADESCO400, "laravel-boleto/cnab400__bradesco.ret", "02", "06"),
    "santander-240": (SANTANDER240, "brcobranca/CNAB240SANTANDER.RET", "02", "06"),
    "sicoob-240": (SICOOB240, "brcobranca/CNAB240SICOOB.RET", "02", "06"),
    "sicredi-240": (SICREDI240, "brcobranca/CNAB240SICREDI.CRT", "02", "06"),
}


def _retorno(fields: dict[str, Any], path: str, lines: list[Line]) -> bytes:
    build = retorno240 if fields["layout"] == "cnab240" else retorno400
    return build(path, fields["bank_code"], fields, lines)


def _order_boleto(client: Client, database: PgDatabase, shop: Shop, agreement: dict[str, Any], customer: str,
                  amount_cents: int) -> dict[str, Any]:  # fmt: skip
    """A boleto of an order of ``customer`` (the order opened through the API)."""
    device = _ok(
        client.call(
            "POST", f"/customers/{customer}/devices", shop.access_token,
            body={"type": "phone", "brand": "Samsung", "model": "Galaxy A54"},
        )
    )  # fmt: skip
    order = _ok(
        client.call(
            "POST", "/orders", shop.access_token,
            body={"customer_id": customer, "device_id": device["id"], "reported_problem": "Não liga"},
        )
    )  # fmt: skip
    boleto = _boleto(database, shop, agreement, customer, amount_cents=amount_cents)
    _sql(database, "update boletos set order_id = %s where id = %s returning id", order["id"], boleto["id"])
    return {**boleto, "order_id": order["id"]}


def _written(store: FakeDocumentStore, made: dict[str, Any]) -> list[str]:
    """The nossos números as the generated remessa wrote them (its items, in order)."""
    return [item.nosso_numero for item in read_remessa(store.at(made["download_url"]).data).items]


def _states(database: PgDatabase, ids: list[str]) -> list[tuple[Any, ...]]:
    rows = {
        str(r[0]): r[1:]
        for r in _sql(
            database,
            "select b.id, b.status, b.paid_cents, b.paid_on, o.paid_cents from boletos b "
            "left join service_orders o on o.id = b.order_id where b.id = any(%s::uuid[])",
            ids,
        )
    }
    return [rows[i] for i in ids]


def _events(database: PgDatabase, tenant_id: str) -> dict[str, int]:
    return {
        str(kind): int(n)
        for kind, n in _sql(
            database,
            "select detail_type, count(*) from outbox where tenant_id = %s and detail_type like 'Boleto%%' "
            "group by detail_type",
            tenant_id,
        )
    }


@pytest.mark.parametrize("bank", list(BANKS))
def test_a_retorno_in_the_banks_layout_registers_every_boleto_and_settles_two_once(
    api_root: Any, client: Client, database: PgDatabase, bank: str
) -> None:
    fields, path, entry, settled = BANKS[bank]
    store: FakeDocumentStore = api_root.document_store
    shop = signup(client)
    agreement = _agreement(client, shop, fields)
    customer = _customer(client, shop)
    # Given three boletos, two of them for orders, sent to the bank in the agreement's remessa
    boletos = [
        _order_boleto(client, database, shop, agreement, customer, 15_000),
        _order_boleto(client, database, shop, agreement, customer, 9_990),
        _boleto(database, shop, agreement, customer, amount_cents=4_321),
    ]
    status, made, _ = _generate(client, shop, agreement["id"])
    assert status == 201, made
    written = _written(store, made)
    assert len(written) == 3
    # When the bank's retorno confirms the three entries and settles the first and the third
    lines = [Line(nosso, entry, b["amount_cents"]) for nosso, b in zip(written, boletos, strict=True)]
    lines += [
        Line(written[i], settled, boletos[i]["amount_cents"], boletos[i]["amount_cents"], PAID_ON)
        for i in (0, 2)
    ]
    data = _retorno(fields, path, lines)
    status, answer = _inline(client, shop, data, filename="RETORNO.RET")
    # Then it is parsed, of this agreement, every occurrence matched to its boleto
    assert status == 201, answer
    assert (answer["status"], answer["agreement_id"]) == ("parsed", agreement["id"]), answer
    assert (answer["occurrence_count"], answer["unmatched_count"]) == (5, 0), answer
    assert answer["settled_cents"] == 15_000 + 4_321
    detail = _ok(client.call("GET", f"/banking/files/{answer['id']}", shop.access_token))["occurrences"]
    assert [(o["boleto_id"], o["kind"], o["status"]) for o in detail] == [
        (boletos[0]["id"], "entry_confirmed", "applied"),
        (boletos[1]["id"], "entry_confirmed", "applied"),
        (boletos[2]["id"], "entry_confirmed", "applied"),
        (boletos[0]["id"], "settled", "applied"),
        (boletos[2]["id"], "settled", "applied"),
    ]
    assert [o["nosso_numero"] for o in detail[:3]] == [b["nosso_numero"] for b in boletos]
    assert [o["nosso_numero_text"] for o in detail[:3]] == [w.strip() for w in written]
    # And the two settled, the other registered; the first order has received its boleto
    expected = [
        ("settled", 15_000, PAID_ON, 15_000),
        ("registered", 0, None, 0),
        ("settled", 4_321, PAID_ON, None),
    ]
    assert _states(database, [b["id"] for b in boletos]) == expected
    assert _events(database, shop.tenant_id) == {"BoletoRegistered": 3, "BoletoSettled": 2}
    audited = _sql(
        database,
        "select action, count(*) from audit_log where tenant_id = %s and entity = 'boleto' "
        "group by action order by action",
        shop.tenant_id,
    )
    assert audited == [("register", 3), ("settle", 2)]
    # When the same retorno comes again (and again re-saved with LF line endings: another hash)
    status, again = _inline(client, shop, data, filename="RETORNO.RET")
    assert (status, again["id"], again["duplicate"]) == (200, answer["id"], True)
    status, resaved = _inline(client, shop, data.replace(b"\r\n", b"\n"), filename="RETORNO2.RET")
    assert status == 201, resaved
    assert (resaved["occurrence_count"], resaved["duplicate_count"]) == (0, 5), resaved
    # Then nothing changed
    assert _states(database, [b["id"] for b in boletos]) == expected
    assert _events(database, shop.tenant_id) == {"BoletoRegistered": 3, "BoletoSettled": 2}


def test_a_nosso_numero_with_a_wrong_check_digit_is_left_unmatched_for_a_person(
    api_root: Any, client: Client, database: PgDatabase
) -> None:
    store: FakeDocumentStore = api_root.document_store
    shop = signup(client)
    agreement = _agreement(client, shop, SANTANDER240)
    customer = _customer(client, shop)
    boleto = _boleto(database, shop, agreement, customer)
    status, made, _ = _generate(client, shop, agreement["id"])
    assert status == 201, made
    (nosso,) = _written(store, made)
    wrong = nosso[:-1] + str((int(nosso[-1]) + 1) % 10)
    # When the bank's line names the boleto's number with another check digit
    status, answer = _inline(
        client, shop, retorno240(BANKS["santander-240"][1], "033", SANTANDER240, [Line(wrong, "02", 15_000)])
    )
    # Then no boleto is touched: the line is unmatched, with what the bank wrote
    assert (status, answer["unmatched_count"]) == (201, 1), answer
    unmatched = _ok(client.call("GET", "/banking/unmatched", shop.access_token))["items"]
    assert [(o["nosso_numero"], o["nosso_numero_text"], o["boleto_id"]) for o in unmatched] == [
        (None, wrong, None)
    ]
    assert _states(database, [boleto["id"]]) == [("issued", 0, None, None)]


def _boleto_row(database: PgDatabase, boleto_id: str) -> tuple[Any, ...]:
    return _sql(
        database,
        "select status, due_date, barcode, digitable_line from boletos where id = %s",
        boleto_id,
    )[0]


def _instructions(database: PgDatabase, boleto_id: str) -> list[tuple[Any, ...]]:
    return _sql(
        database,
        "select instruction, status, due_date from boleto_instructions where boleto_id = %s "
        "order by created_at",
        boleto_id,
    )


def test_due_date_changes_write_offs_and_rejections_take_effect_once_and_closed_boletos_stay(
    api_root: Any, client: Client, database: PgDatabase
) -> None:
    store: FakeDocumentStore = api_root.document_store
    shop = signup(client)
    agreement = _agreement(client, shop, ITAU400)
    customer = _customer(client, shop)
    moved, dropped, refused, paid = (_boleto(database, shop, agreement, customer) for _ in range(4))
    status, made, _ = _generate(client, shop, agreement["id"])
    assert status == 201, made
    nossos = _written(store, made)
    # Given the shop asked to move the first's due date and to write the second off (not yet sent)
    new_due = date(2030, 2, 15)
    for boleto, body in (
        (moved, {"instruction": "change_due_date", "due_date": new_due.isoformat()}),
        (dropped, {"instruction": "write_off"}),
    ):
        status, answer, _ = client.call(
            "POST", f"/banking/boletos/{boleto['id']}/instructions", shop.access_token, body=body
        )
        assert status in (200, 201), answer
    # And the fourth was settled by an earlier retorno
    path = BANKS["itau-400"][1]
    first = retorno400(path, "341", ITAU400, [Line(nossos[3], "06", 15_000, 15_000, PAID_ON)])
    assert _inline(client, shop, first)[0] == 201
    # When the bank confirms the due-date change (stating the new date), writes the second off,
    # rejects the third's entry with its reasons, and writes off the settled fourth
    lines = [
        Line(nossos[0], "14", 15_000, due=new_due),
        Line(nossos[1], "09", 15_000),
        Line(nossos[2], "03", 15_000, reasons="0814"),
        Line(nossos[3], "09", 15_000),
    ]
    data = retorno400(path, "341", ITAU400, lines)
    status, answer = _inline(client, shop, data)
    assert (status, answer["status"], answer["unmatched_count"]) == (201, "parsed", 0), answer
    detail = _ok(client.call("GET", f"/banking/files/{answer['id']}", shop.access_token))["occurrences"]
    assert [(o["boleto_id"], o["kind"], o["status"], o["reasons"]) for o in detail] == [
        (moved["id"], "due_date_changed", "applied", None),
        (dropped["id"], "written_off", "applied", None),
        (refused["id"], "rejected", "pending", "0814"),  # for a person, the bank's reasons shown
        (paid["id"], "written_off", "pending", None),  # the boleto was settled: nothing reopened
    ]
    assert detail[0]["due_date"] == new_due.isoformat()
    # Then the first has the new due date, its barcode and linha digitável as the domain computes them
    issued = boleto_banks.issue_boleto(
        boleto_banks.Agreement(
            bank_code="341", agency=agreement["branch"], account=agreement["account"],
            wallet=agreement["wallet"], agreement_code=agreement["agreement_code"],
        ),
        boleto_banks.BoletoRequest(
            sequence=moved["nosso_numero"], due_date=new_due, amount_cents=15_000, issue_date=ISSUED,
            document_number=str(moved["nosso_numero"]),
        ),
    )  # fmt: skip
    assert _boleto_row(database, moved["id"]) == ("issued", new_due, issued.barcode, issued.linha_digitavel)
    assert (
        issued.barcode[5:9]
        != _sql(database, "select barcode from boletos where id = %s", refused["id"])[0][0][5:9]
    )
    # and its pending change to that date is done (void: nothing left to send)
    assert _instructions(database, moved["id"]) == [("change_due_date", "void", new_due)]
    # And the second is written off, its pending write-off void; the third as it was; the fourth paid
    assert _boleto_row(database, dropped["id"])[0] == "written_off"
    assert _instructions(database, dropped["id"]) == [("write_off", "void", None)]
    assert _boleto_row(database, refused["id"])[:2] == ("issued", DUE)
    assert _states(database, [paid["id"]]) == [("settled", 15_000, PAID_ON, None)]
    assert _events(database, shop.tenant_id) == {
        "BoletoSettled": 1, "BoletoDueDateChanged": 1, "BoletoWrittenOff": 1,
    }  # fmt: skip
    # When the same occurrences come again in a re-saved file, nothing changes
    status, again = _inline(client, shop, data.replace(b"\r\n", b"\n"))
    assert (status, again["occurrence_count"], again["duplicate_count"]) == (201, 0, 4), again
    assert _boleto_row(database, moved["id"]) == ("issued", new_due, issued.barcode, issued.linha_digitavel)
    assert _events(database, shop.tenant_id) == {
        "BoletoSettled": 1, "BoletoDueDateChanged": 1, "BoletoWrittenOff": 1,
    }  # fmt: skip
