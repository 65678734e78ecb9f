"""The real CNAB and OFX/CSV parsers wired behind the bank file intake (issue 15): bank-issued retorno
files and statement exports (tests/fixtures) sent through ``POST /banking/files/inline`` are parsed
with the right counts and totals, recorded once however often they come, matched to the agreement
by the identity the file states (convênio, or branch and account), refused with the parser's code
otherwise; and files stored as ``pending_parser`` before a parser was wired are read by a later pass."""

from __future__ import annotations

import threading
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from assistec.db.payments import refresh_order_paid
from assistec.domain.banking.cnab import OccurrenceKind, parse_retorno
from assistec.domain.banking.statements import parse_statement
from assistec.services.audit import SystemActor
from assistec.services.banking.intake import BankFileIntake, Reprocessed, object_key
from assistec.services.banking.parsing import NO_PARSER
from assistec.services.banking.readers import read_bank_file
from assistec.services.unit_of_work import UnitsOfWork
from tests.conftest import PgDatabase
from tests.integration.conftest import Client, signup
from tests.integration.shop_helpers import _ok, open_order
from tests.integration.test_banking import (  # noqa: F401  # worker_root: a fixture
    ITAU,
    WorkerContext,
    _agreement,
    _boleto,
    _count,
    _customer,
    _db,
    _inline,
    _sql,
    worker_root,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ITAU_400 = (FIXTURES / "cnab/brcobranca/CNAB400ITAU.RET").read_bytes()  # 341, ag. 0730 conta 03511
BB_400 = (FIXTURES / "cnab/brcobranca/CBR64310.RET").read_bytes()  # 001, convênio 1622420
ITAU_CSV = (FIXTURES / "statements/itau.csv").read_bytes()
OFX = (FIXTURES / "statements/conforming_102.ofx").read_bytes()
# Agreements as the shop registers them: without the files' zero padding.
ITAU_AGREEMENT = {**ITAU, "branch": "730", "account": "3511"}
BB_AGREEMENT = {
    **ITAU,
    "name": "BB da loja",
    "bank_code": "001",
    "branch": "3325",
    "account": "28935",
    "account_digit": "1",
    "wallet": "17",
    "wallet_variation": "19",
    "agreement_code": "1622420",
    "layout": "cnab400",
}


def _other_line_endings(data: bytes) -> bytes:
    """The same file as another system would save it: CRLF for LF, or LF for CRLF (another SHA-256)."""
    return data.replace(b"\r\n", b"\n") if b"\r\n" in data else data.replace(b"\n", b"\r\n")


def _settled_cents(data: bytes) -> int:
    return sum(o.paid_cents for o in parse_retorno(data).occurrences if o.kind is OccurrenceKind.SETTLED)


def test_a_bank_issued_retorno_is_parsed_with_its_counts_and_totals_once(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    agreement = _agreement(client, shop, **ITAU_AGREEMENT)
    # When the shop sends Itaú's CNAB 400 retorno (52 occurrences: 51 settlements, 1 write-off)
    status, answer = _inline(client, shop, ITAU_400, filename="CNAB400ITAU.RET")
    # Then it is parsed as CNAB 400, matched by its branch and account (the file states no convênio)
    assert status == 201, answer
    assert (answer["status"], answer["format"], answer["agreement_id"]) == (
        "parsed",
        "cnab400",
        agreement["id"],
    )
    assert (answer["occurrence_count"], answer["duplicate_count"], answer["unmatched_count"]) == (52, 0, 52)
    assert answer["line_count"] == 54  # header, 52 details, trailer
    assert answer["settled_cents"] == _settled_cents(ITAU_400) > 0
    kinds = _sql(
        database,
        "select kind, occurrence_code, count(*), sum(paid_cents) from bank_file_lines where tenant_id = %s "
        "group by 1, 2 order by 1, 2",
        shop.tenant_id,
    )
    assert [(k, c, n) for k, c, n, _ in kinds] == [("settled", "06", 51), ("written_off", "09", 1)]
    # When the same file comes again, and then again with another line ending (another content)
    status, again = _inline(client, shop, ITAU_400, filename="copia.ret")
    assert (status, again["duplicate"], again["id"]) == (200, True, answer["id"])
    status, resent = _inline(client, shop, _other_line_endings(ITAU_400), filename="reenvio.ret")
    # Then nothing new is recorded: the second content's occurrences are all known
    assert status == 201, resent
    assert (resent["status"], resent["occurrence_count"], resent["duplicate_count"]) == ("parsed", 0, 52)
    assert resent["settled_cents"] == 0
    assert _count(database, "bank_file_lines", shop.tenant_id) == 52
    assert _count(database, "bank_files", shop.tenant_id) == 2


def test_a_retorno_with_a_convenio_is_matched_by_it_and_its_nosso_numero_to_the_boleto(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    agreement = _agreement(client, shop, **BB_AGREEMENT)
    # Given boleto 3 of the agreement (BB writes it as convênio 1622420 + 0000000003)
    boleto = _boleto(database, shop.tenant_id, agreement["id"], _customer(client, shop), 3)
    # When BB's CNAB 400 (CBR643) retorno comes in
    status, answer = _inline(client, shop, BB_400)
    # Then it is of the agreement, and the settlement of nosso número 3 is matched to the boleto
    assert status == 201, answer
    assert (answer["status"], answer["agreement_id"]) == ("parsed", agreement["id"])
    assert (answer["occurrence_count"], answer["unmatched_count"]) == (26, 25)
    assert answer["settled_cents"] == _settled_cents(BB_400)
    lines = _ok(client.call("GET", f"/banking/files/{answer['id']}", shop.access_token))["occurrences"]
    matched = [(o["nosso_numero"], o["status"]) for o in lines if o["boleto_id"] == boleto]
    assert matched == [(3, "applied")]  # a settlement: applied to the boleto (below)
    assert _sql(database, "select status from boletos where id = %s", boleto) == [("settled",)]


def test_a_retorno_of_another_agreement_is_refused_and_records_nothing(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    _agreement(client, shop, **{**BB_AGREEMENT, "agreement_code": "1622421"})
    _agreement(client, shop, **{**ITAU_AGREEMENT, "account": "3512"})
    # When retornos of a convênio and of an account the shop does not have come in
    status, bb = _inline(client, shop, BB_400)
    assert status == 201, bb
    assert (bb["status"], bb["error_code"]) == ("refused", "unknown_agreement")
    assert "convênio 1622420" in bb["error_message"]
    status, itau = _inline(client, shop, ITAU_400)
    assert (itau["status"], itau["error_code"]) == ("refused", "unknown_agreement")
    assert "agência 730, conta 3511" in itau["error_message"]
    # Then no line is recorded
    assert _count(database, "bank_file_lines", shop.tenant_id) == 0


def test_files_that_are_not_what_they_claim_are_refused_with_the_parsers_code(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    _agreement(client, shop, **ITAU_AGREEMENT)
    # A statement sent as a retorno, a remessa sent as a retorno, a retorno sent as a statement
    status, ofx = _inline(client, shop, OFX, kind="retorno")
    assert (status, ofx["status"], ofx["error_code"]) == (201, "refused", "not_cnab"), ofx
    assert ofx["error_message"] == "O arquivo não é um retorno CNAB 240 nem CNAB 400."
    remessa = (FIXTURES / "cnab/brcobranca/remessa-itau-cnab400.rem").read_bytes()
    status, rem = _inline(client, shop, remessa, kind="retorno")
    assert (rem["status"], rem["error_code"]) == ("refused", "not_retorno")
    status, ret = _inline(client, shop, ITAU_400, kind="statement")
    assert (ret["status"], ret["error_code"]) == ("refused", "unknown_format")
    unknown = (FIXTURES / "statements/unknown_layout.csv").read_bytes()
    status, csv = _inline(client, shop, unknown, kind="statement")
    assert (csv["status"], csv["error_code"]) == ("refused", "unknown_format")
    assert all(f["error_message"] for f in (ofx, rem, ret, csv))
    assert _count(database, "bank_file_lines", shop.tenant_id) == 0
    assert _count(database, "statement_lines", shop.tenant_id) == 0


def test_statements_are_parsed_once_per_line_across_uploads(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    expected_csv = [line for line in parse_statement(ITAU_CSV).lines if line.amount_cents]
    expected_ofx = [line for line in parse_statement(OFX).lines if line.amount_cents]
    # When Itaú's CSV export and an OFX statement are sent
    status, csv = _inline(client, shop, ITAU_CSV, kind="statement")
    assert status == 201, csv
    assert (csv["status"], csv["format"], csv["occurrence_count"]) == ("parsed", "csv", len(expected_csv))
    status, ofx = _inline(client, shop, OFX, kind="statement")
    assert (ofx["status"], ofx["format"], ofx["occurrence_count"]) == ("parsed", "ofx", len(expected_ofx))
    assert len(expected_csv) >= 3
    assert len(expected_ofx) >= 1
    # Then each line is stored with its signed centavos and date
    rows = _sql(
        database,
        "select bank_file_id::text, posted_on, amount_cents from statement_lines where tenant_id = %s "
        "order by bank_file_id, line_number",
        shop.tenant_id,
    )
    got = sorted((f, d, a) for f, d, a in rows)
    want = sorted(
        [(csv["id"], line.posted_on, line.amount_cents) for line in expected_csv]
        + [(ofx["id"], line.posted_on, line.amount_cents) for line in expected_ofx]
    )
    assert got == want
    # When the CSV comes again with another line ending (another file, the same movements)
    status, again = _inline(client, shop, _other_line_endings(ITAU_CSV), kind="statement")
    assert status == 201, again
    assert (again["occurrence_count"], again["duplicate_count"]) == (0, len(expected_csv))
    assert _count(database, "statement_lines", shop.tenant_id) == len(expected_csv) + len(expected_ofx)


def test_files_stored_before_a_parser_existed_are_read_by_a_later_pass(
    api_root: Any, client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    agreement = _agreement(client, shop, **ITAU_AGREEMENT)
    # Given files stored while no parser was wired
    api_root.bank_files = BankFileIntake(api_root.work, lambda: api_root.document_store, NO_PARSER)
    files = {
        name: _inline(client, shop, data, kind=kind)[1]
        for name, data, kind in (
            ("retorno", ITAU_400, "retorno"),
            ("statement", ITAU_CSV, "statement"),
            ("junk", b"not a bank file at all", "retorno"),
        )
    }
    assert {f["status"] for f in files.values()} == {"pending_parser"}
    # When a pass reads the shop's pending files with the real parser, twice at the same time (each
    # on its own connection)
    actor = SystemActor(tenant_id=UUID(shop.tenant_id))
    results: list[Reprocessed] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        db = _db(database.app_url)
        try:
            intake = BankFileIntake(UnitsOfWork(db), lambda: api_root.document_store, read_bank_file)
            barrier.wait()
            results.append(intake.reprocess_pending(actor))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each file is read once between them, as if it had just been uploaded
    assert errors == []
    assert len(results) == 2
    assert sum(r.parsed for r in results) == 2
    assert sum(r.refused for r in results) == 1
    rows = {
        str(i): (s, c, occ)
        for i, s, c, occ in _sql(
            database,
            "select id, status, error_code, occurrence_count from bank_files where tenant_id = %s",
            shop.tenant_id,
        )
    }
    assert rows[files["retorno"]["id"]] == ("parsed", None, 52)
    assert rows[files["statement"]["id"]][0] == "parsed"
    assert rows[files["junk"]["id"]] == ("refused", "not_cnab", 0)
    retorno = _ok(client.call("GET", f"/banking/files/{files['retorno']['id']}", shop.access_token))
    assert retorno["agreement_id"] == agreement["id"]
    assert _count(database, "bank_file_lines", shop.tenant_id) == 52
    audited = _sql(
        database,
        "select count(*) from audit_log where tenant_id = %s and entity = 'bank_file' and action = 'parse'",
        shop.tenant_id,
    )
    assert audited[0][0] == 3
    # And a later pass finds nothing left
    intake = BankFileIntake(api_root.work, lambda: api_root.document_store, read_bank_file)
    assert intake.reprocess_pending(actor) == Reprocessed()


@pytest.mark.usefixtures("worker_root")  # the worker's root, sharing the API's fake bucket
def test_an_operator_has_a_shops_pending_files_read_by_invoking_the_worker(
    api_root: Any, client: Client, database: PgDatabase
) -> None:
    from assistec.handlers import bank_files

    shop, other = signup(client), signup(client)
    _agreement(client, shop, **ITAU_AGREEMENT)
    # Given a file of each shop stored while no parser was wired
    api_root.bank_files = BankFileIntake(api_root.work, lambda: api_root.document_store, NO_PARSER)
    mine = _inline(client, shop, ITAU_400)[1]
    theirs = _inline(client, other, ITAU_CSV, kind="statement")[1]
    assert (mine["status"], theirs["status"]) == ("pending_parser", "pending_parser")
    # When the operator invokes the worker for the shop
    event = {"action": "reprocess_pending", "shop": shop.tenant_id}
    answer = bank_files.worker(event, WorkerContext())
    # Then the shop's file is read, and the other shop's is left as it was
    assert answer == {"reprocessed": asdict(Reprocessed(parsed=1))}
    status = dict(
        _sql(
            database, "select id::text, status from bank_files where id in (%s, %s)", mine["id"], theirs["id"]
        )
    )
    assert status == {mine["id"]: "parsed", theirs["id"]: "pending_parser"}
    # And invoking it again finds nothing; a malformed shop is answered, not raised
    assert bank_files.worker(event, WorkerContext()) == {"reprocessed": asdict(Reprocessed())}
    assert bank_files.worker({"action": "reprocess_pending", "shop": "x"}, WorkerContext()) == {
        "error": "invalid_shop"
    }


# --- settlements applied to boletos and their orders ------------------------------------------------------


def _as_code_10(data: bytes) -> bytes:
    """Itaú's repeat of a settlement: the file's first detail (nosso número 11) under code 10."""
    lines = data.split(b"\n")
    lines[1] = lines[1][:108] + b"10" + lines[1][110:]
    return b"\n".join(lines)


def _order_boleto(
    client: Client, database: PgDatabase, shop: Any, agreement_id: str, nosso: int
) -> tuple[str, str]:
    order = open_order(client, shop)
    row = _sql(
        database,
        "insert into boletos (tenant_id, agreement_id, customer_id, order_id, nosso_numero, amount_cents, "
        "issued_on, due_date, status) values (%s, %s, %s, %s, %s, 4000, '2013-05-01', '2013-05-20', "
        "'registered') returning id",
        shop.tenant_id, agreement_id, order["customer_id"], order["id"], nosso,
    )  # fmt: skip
    return str(row[0][0]), order["id"]


def _settled_state(database: PgDatabase, boleto: str, order: str) -> tuple[Any, ...]:
    return _sql(
        database,
        "select b.status, b.paid_cents, b.fees_cents, b.paid_on, o.paid_cents, "
        "(select count(*) from audit_log a where a.tenant_id = b.tenant_id and a.entity = 'boleto' "
        " and a.entity_id = b.id::text and a.action = 'settle'), "
        "(select count(*) from outbox e where e.tenant_id = b.tenant_id "
        " and e.detail_type = 'BoletoSettled' and e.detail->>'boleto_id' = b.id::text) "
        "from boletos b join service_orders o on o.id = b.order_id where b.id = %s and o.id = %s",
        boleto, order,
    )[0]  # fmt: skip


def test_a_settlement_settles_its_boleto_and_pays_its_order_once_whatever_repeats_it(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    agreement = _agreement(client, shop, **ITAU_AGREEMENT)
    boleto, order = _order_boleto(client, database, shop, agreement["id"], 11)
    # When Itaú's retorno settles nosso número 11 (R$ 40,00 paid: R$ 37,90 credited + R$ 2,10 of fees)
    status, answer = _inline(client, shop, ITAU_400)
    assert (status, answer["status"]) == (201, "parsed"), answer
    # Then the boleto is settled, the order has received it, audited and announced once
    assert _settled_state(database, boleto, order) == ("settled", 4000, 210, date(2013, 5, 20), 4000, 1, 1)
    lines = _ok(client.call("GET", f"/banking/files/{answer['id']}", shop.access_token))["occurrences"]
    assert [o["status"] for o in lines if o["boleto_id"] == boleto] == ["applied"]
    # And an Asaas event's recomputation of the order's received amount keeps the boleto's money
    with psycopg.connect(database.superuser_url) as conn:
        assert refresh_order_paid(conn, UUID(order)) == 4000
    # When the bank repeats the settlement under code 10, and the first file comes again re-saved
    status, repeat = _inline(client, shop, _as_code_10(ITAU_400))
    assert (status, repeat["occurrence_count"]) == (201, 1), repeat
    status, resent = _inline(client, shop, _other_line_endings(ITAU_400))
    assert (status, resent["occurrence_count"]) == (201, 0), resent
    # Then nothing more is paid: the repeat is recorded, left pending for a person, not applied
    assert _settled_state(database, boleto, order) == ("settled", 4000, 210, date(2013, 5, 20), 4000, 1, 1)
    lines = _ok(client.call("GET", f"/banking/files/{repeat['id']}", shop.access_token))["occurrences"]
    assert [(o["occurrence_code"], o["status"]) for o in lines] == [("10", "pending")]


def test_two_deliveries_of_one_settlement_at_the_same_time_pay_the_order_once(
    api_root: Any, client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    agreement = _agreement(client, shop, **ITAU_AGREEMENT)
    boleto, order = _order_boleto(client, database, shop, agreement["id"], 11)
    # Two files settling nosso número 11 (codes 06 and 10), landing in S3 together
    store = api_root.document_store
    keys = []
    for data in (ITAU_400, _as_code_10(ITAU_400)):
        key = object_key(UUID(shop.tenant_id), "retorno", UUID(shop.owner_id), uuid4(), "itau.ret")
        store.put(key, data, content_type="application/octet-stream")
        keys.append(key)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def deliver(key: str) -> None:
        db = _db(database.app_url)  # its own connection, as two worker instances
        try:
            intake = BankFileIntake(UnitsOfWork(db), lambda: store, read_bank_file)
            barrier.wait()
            outcomes.append(intake.process_object(key))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=deliver, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == ["recorded", "recorded"]
    # Then the boleto is settled once and the order received its money once
    assert _settled_state(database, boleto, order) == ("settled", 4000, 210, date(2013, 5, 20), 4000, 1, 1)
    applied = _sql(
        database,
        "select occurrence_code, status from bank_file_lines where boleto_id = %s order by occurrence_code",
        boleto,
    )
    assert sorted(status for _, status in applied) == ["applied", "pending"]
