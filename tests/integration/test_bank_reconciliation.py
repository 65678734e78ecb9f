"""Bank reconciliation (issue 15 §5) against the real database: a statement read by the intake gets
the matcher's suggestions; a person confirms (then nothing changes it, re-runs included), rejects
(the matcher does not make it again) or matches by hand (the money checked, nothing written when it
does not add up); parallel runs write no duplicates; shops see only their own; the accountant's
report (JSON, CSV, PDF) adds up; and a generated month of a shop (the domain's test data) reaches the
issue's 98% automatic match rate through the service and the database."""

from __future__ import annotations

import base64
import csv
import io
import threading
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from assistec.services.banking.parsing import Occurrence, ParsedFile, StatementEntry
from tests.conftest import PgDatabase
from tests.integration.conftest import Client, Shop, signup
from tests.integration.shop_helpers import _ok, open_order
from tests.integration.test_banking import (  # noqa: F401  # worker_root: a fixture
    ITAU,
    _as_app,
    _count,
    _db,
    _sql,
    worker_root,
)
from tests.integration.test_email import staff

DAY = date(2030, 3, 12)  # a Tuesday, no holiday near it
SP = ZoneInfo("America/Sao_Paulo")


class Parser:
    """A stand-in with the parsers' contract, reading a made-up text (the real CNAB and OFX parsers
    have their own tests): ``RET`` then ``bank;agreement`` then ``nosso;settled;paid;fee;yyyy-mm-dd``
    (the credit date), or ``EXT`` then ``key;yyyy-mm-dd;amount;description``."""

    def __call__(self, kind: str, data: bytes) -> ParsedFile | None:
        lines = data.decode().splitlines()
        if kind == "statement":
            entries = []
            for n, line in enumerate(lines[1:], start=2):
                key, day, amount, text = line.split(";", 3)
                entries.append(StatementEntry(n, f"ext:{key}", date.fromisoformat(day), int(amount), text))
            return ParsedFile(format="ofx", line_count=len(lines), statement_lines=tuple(entries))
        bank, agreement = lines[1].split(";")
        occurrences = []
        for n, line in enumerate(lines[2:], start=3):
            nosso, what, paid, fee, day = line.split(";")
            on = date.fromisoformat(day)
            occurrences.append(
                Occurrence(
                    line_number=n,
                    idempotency_key=f"{bank}:{agreement}:{nosso}:{what}:{day}:{paid}",
                    kind="settled",
                    occurrence_code="06",
                    nosso_numero=int(nosso),
                    amount_cents=int(paid),
                    paid_cents=int(paid),
                    fee_cents=int(fee),
                    occurred_on=on,
                    credited_on=on,
                )
            )
        return ParsedFile(
            format="cnab400", line_count=len(lines), bank_code=bank, agreement_code=agreement,
            occurrences=tuple(occurrences),
        )  # fmt: skip


@pytest.fixture
def recon(api_root: Any) -> Any:
    """The API's intake with the stand-in parser and the matcher after each parsed file, as wired;
    the metric recorded in ``api_root.rates``."""
    from assistec.services.banking.intake import BankFileIntake
    from assistec.services.banking.reconciliation import BankReconciliation

    api_root.rates = []
    api_root.bank_reconciliation = BankReconciliation(
        api_root.work,
        lambda: api_root.document_store,
        rate_metric=lambda bp, written: api_root.rates.append((bp, written)),
    )
    api_root.bank_files = BankFileIntake(
        api_root.work,
        lambda: api_root.document_store,
        Parser(),
        after_parsed=api_root.bank_reconciliation.after_intake,
    )
    return api_root


def _send(client: Client, shop: Shop, kind: str, text: str) -> dict[str, Any]:
    body = {"kind": kind, "content_base64": base64.b64encode(text.encode()).decode()}
    answer = _ok(client.call("POST", "/banking/files/inline", shop.access_token, body=body))
    assert answer["status"] == "parsed", answer
    return dict(answer)


def _retorno(client: Client, shop: Shop, agreement_code: str, rows: list[tuple[int, int, int, date]]) -> None:
    text = "\n".join(["RET", f"341;{agreement_code}", *(f"{n};settled;{p};{f};{d}" for n, p, f, d in rows)])
    _send(client, shop, "retorno", text)


def _statement(client: Client, shop: Shop, rows: list[tuple[str, date, int, str]]) -> dict[str, Any]:
    return _send(client, shop, "statement", "\n".join(["EXT", *(f"{k};{d};{a};{t}" for k, d, a, t in rows)]))


def _charges(
    database: PgDatabase, shop: Shop, order_id: str, rows: list[tuple[int, int, date, str | None]]
) -> list[str]:
    """Paid Asaas charges of an order: (paid, net, credit date, Asaas payment id)."""
    ids = []
    for attempt, (paid, net, on, payment_id) in enumerate(rows, start=1):
        paid_at = datetime.combine(on, time(11), tzinfo=SP)
        found = _sql(
            database,
            "insert into charges (tenant_id, order_id, attempt, external_reference, billing_type, "
            "value_cents, due_date, status, asaas_payment_id, paid_cents, paid_at, net_cents, credit_on) "
            "values (%s, %s, %s, %s, 'PIX', %s, %s, 'paid', %s, %s, %s, %s, %s) returning id",
            shop.tenant_id, order_id, attempt, f"assistec:{order_id}:{attempt}", paid, on, payment_id, paid,
            paid_at, net, on,
        )  # fmt: skip
        ids.append(str(found[0][0]))
    return ids


def _key_ids(database: PgDatabase, shop: Shop) -> dict[str, str]:
    rows = _sql(
        database, "select idempotency_key, id from statement_lines where tenant_id = %s", shop.tenant_id
    )
    return {key.removeprefix("ext:"): str(line_id) for key, line_id in rows}


def _settlement_ids(database: PgDatabase, shop: Shop) -> dict[int, str]:
    rows = _sql(database, "select nosso_numero, id from bank_file_lines where tenant_id = %s", shop.tenant_id)
    return {int(n): str(i) for n, i in rows}


def _matches(client: Client, shop: Shop, token: str | None = None, **query: str) -> list[dict[str, Any]]:
    found = _ok(
        client.call("GET", "/banking/reconciliation/matches", token or shop.access_token, query=query)
    )
    return list(found["items"])


def _run(client: Client, shop: Shop, start: date, end: date) -> dict[str, Any]:
    body = {"from": start.isoformat(), "to": end.isoformat()}
    return dict(_ok(client.call("POST", "/banking/reconciliation/run", shop.access_token, body=body)))


def _small_shop(client: Client, database: PgDatabase) -> dict[str, Any]:
    """A shop with three boletos settled on DAY (its tariffs debited apart), one Asaas credit, and a
    statement: the day's cobrança credit, its tariff debit, the Asaas TED, a customer's Pix and rent."""
    shop = signup(client)
    _ok(client.call("POST", "/banking/agreements", shop.access_token, body=ITAU))
    _retorno(client, shop, "12345", [(1234561, 15000, 290, DAY), (1234562, 22050, 290, DAY),
                                     (1234563, 8000, 290, DAY)])  # fmt: skip
    order = open_order(client, shop)
    (charge,) = _charges(database, shop, order["id"], [(35000, 34001, DAY, f"pay_{uuid.uuid4().hex[:12]}")])
    _statement(
        client,
        shop,
        [
            ("cob", DAY, 45050, "COBRANCA CRED LIQUIDACAO"),
            ("tar", DAY, -870, "TAR COBRANCA LIQUIDACAO"),
            ("ted", DAY + timedelta(days=1), 34001, "TED RECEBIDA ASAAS GESTAO FINANCEIRA"),
            ("pix", DAY, 12345, "PIX RECEBIDO JOAO DA SILVA"),
            ("alu", DAY, -250000, "ALUGUEL LOJA"),
        ],
    )
    return {
        "shop": shop,
        "lines": _key_ids(database, shop),
        "settlements": _settlement_ids(database, shop),
        "charge": charge,
    }


# --- the matcher after a statement, confirmation, re-runs -------------------------------------------------


def test_a_statement_gets_suggestions_and_a_confirmed_match_survives_every_rerun(
    recon: Any, client: Client, database: PgDatabase
) -> None:
    # Given a shop whose statement was just read
    small = _small_shop(client, database)
    shop, lines, settlements = small["shop"], small["lines"], small["settlements"]
    # Then the matcher suggested the day's credit for the three settlements (with their tariff debit)
    # and the TED for the Asaas credit; the customer's Pix and the rent are nobody's
    suggested = _matches(client, shop, status="suggested")
    by_line = {m["statement_line_id"]: m for m in suggested}
    assert set(by_line) == {lines["cob"], lines["ted"]}
    batch = by_line[lines["cob"]]
    assert (batch["method"], batch["reason"], batch["difference_cents"]) == ("automatic", "batch_day", 0)
    assert sorted(i["bank_file_line_id"] for i in batch["items"]) == sorted(settlements.values())
    assert sorted((x["statement_line_id"], x["role"]) for x in batch["lines"]) == sorted(
        [(lines["cob"], "credit"), (lines["tar"], "fee")]
    )
    asaas = by_line[lines["ted"]]
    assert [i["charge_id"] for i in asaas["items"]] == [small["charge"]]
    assert asaas["difference_cents"] == 0
    assert asaas["score"] > 0
    # And the metric was given the period's automatic rate (4 of 4 expected credits)
    assert recon.rates[-1] == (10_000, 2)
    # When the owner confirms the batch
    status, confirmed, _ = client.call(
        "POST", f"/banking/reconciliation/matches/{batch['id']}/confirm", shop.access_token
    )
    assert status == 200, confirmed
    assert confirmed["status"] == "confirmed"
    assert confirmed["confirmed_by"]
    assert confirmed["items"] == batch["items"]
    assert confirmed["lines"] == batch["lines"]
    # And the matcher runs again, twice, over the period
    before = _count(database, "statement_matches", shop.tenant_id)
    for _ in range(2):
        again = _run(client, shop, DAY - timedelta(days=3), DAY + timedelta(days=3))
        # Then nothing new is written and nothing withdrawn: the confirmed match is as it was
        assert (again["created"], again["withdrawn"], again["kept"]) == (0, 0, 1)
    assert _count(database, "statement_matches", shop.tenant_id) == before == 2
    assert (
        _ok(client.call("GET", f"/banking/reconciliation/matches/{batch['id']}", shop.access_token))
        == confirmed
    )
    # And confirming it again answers it unchanged; rejecting it is 409
    again = _ok(
        client.call("POST", f"/banking/reconciliation/matches/{batch['id']}/confirm", shop.access_token)
    )
    assert again == confirmed
    status, answer, _ = client.call(
        "POST", f"/banking/reconciliation/matches/{batch['id']}/reject", shop.access_token
    )
    assert (status, answer["code"]) == (409, "conflict"), answer
    # And the audit log says who confirmed what
    log = _ok(client.call("GET", "/audit", shop.access_token, query={"entity": "statement_match"}))["items"]
    assert [(e["action"], e["entity_id"]) for e in log] == [("confirm", batch["id"])]


def test_a_rejected_suggestion_is_not_made_again_and_its_money_is_listed_for_a_person(
    recon: Any, client: Client, database: PgDatabase
) -> None:
    small = _small_shop(client, database)
    shop, lines = small["shop"], small["lines"]
    asaas = next(
        m for m in _matches(client, shop, status="suggested") if m["statement_line_id"] == lines["ted"]
    )
    # When the owner rejects the TED for the Asaas credit
    rejected = _ok(
        client.call("POST", f"/banking/reconciliation/matches/{asaas['id']}/reject", shop.access_token)
    )
    assert rejected["status"] == "rejected"
    assert rejected["rejected_by"]
    # And the matcher runs again
    again = _run(client, shop, DAY - timedelta(days=3), DAY + timedelta(days=3))
    # Then it does not suggest it again, and the batch's suggestion stays as it was
    assert (again["created"], again["withdrawn"], again["kept"]) == (0, 0, 1)
    suggested = _matches(client, shop, status="suggested")
    assert [m["statement_line_id"] for m in suggested] == [lines["cob"]]
    assert [m["id"] for m in _matches(client, shop, status="rejected")] == [asaas["id"]]
    # And a rejected one cannot be confirmed any more
    status, answer, _ = client.call(
        "POST", f"/banking/reconciliation/matches/{asaas['id']}/confirm", shop.access_token
    )
    assert (status, answer["code"]) == (409, "conflict")
    # And the open list holds the TED and the Asaas credit (with no confirmed match), the Pix, and the
    # batch's lines and settlements with their stored suggestion
    query = {"from": (DAY - timedelta(days=2)).isoformat(), "to": (DAY + timedelta(days=2)).isoformat()}
    open_items = _ok(client.call("GET", "/banking/reconciliation/unmatched", shop.access_token, query=query))
    listed = {o["id"]: o for o in open_items["statement_lines"]}
    assert set(listed) == {lines["cob"], lines["tar"], lines["ted"], lines["pix"]}  # the rent is no one's
    assert listed[lines["cob"]]["suggestions"][0]["match_id"] == suggested[0]["id"]
    assert listed[lines["tar"]]["kind"] == "fee"
    expected = {o["id"]: o for o in open_items["expected"]}
    assert expected[small["charge"]]["source"] == "asaas"
    charge = expected[small["charge"]]
    assert (charge["amount_cents"], charge["fee_cents"]) == (35000, 999)
    # (the rejected pair is not offered again)
    assert all(c["statement_line_ids"] != [lines["ted"]] for c in charge["suggestions"])
    assert all(o["suggestions"] for k, o in expected.items() if k != small["charge"])


def test_a_retorno_read_after_the_statement_finds_its_late_credit(
    recon: Any, client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    _ok(client.call("POST", "/banking/agreements", shop.access_token, body=ITAU))
    # Given a statement whose cobrança credit came a business day after the retorno's credit date
    _statement(client, shop, [("cob", DAY + timedelta(days=1), 30000, "COBRANCA CRED LIQUIDACAO")])
    assert _matches(client, shop) == []
    # When the retorno is read afterwards
    _retorno(client, shop, "12345", [(7654321, 18000, 0, DAY), (7654322, 12000, 0, DAY)])
    # Then the matcher, run over the retorno's dates and its reach, matched the day to that credit
    (match,) = _matches(client, shop, status="suggested")
    assert (match["statement_line_id"], match["reason"], len(match["items"])) == (
        _key_ids(database, shop)["cob"], "batch_day", 2,
    )  # fmt: skip


def test_a_matcher_failure_after_a_file_leaves_the_file_recorded_and_a_run_redoes_it(
    recon: Any, client: Client, database: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.db import reconciliation as reconciliation_db

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database hiccup")

    # Given the matcher breaks while the statement is read
    monkeypatch.setattr(reconciliation_db, "lock_shop", broken)
    small = _small_shop(client, database)
    shop = small["shop"]
    # Then the files are recorded as parsed, with no match
    files = _ok(client.call("GET", "/banking/files", shop.access_token))["items"]
    assert sorted(f["status"] for f in files) == ["parsed", "parsed"]
    assert _count(database, "statement_matches", shop.tenant_id) == 0
    # And once it works again, a run makes the suggestions
    monkeypatch.undo()
    ran = _run(client, shop, DAY - timedelta(days=3), DAY + timedelta(days=3))
    assert (ran["created"], ran["totals"]["auto_match_rate_bp"]) == (2, 10_000)


# --- a person's own match ---------------------------------------------------------------------------------


def test_a_manual_match_whose_money_does_not_add_up_is_refused_and_writes_nothing(
    recon: Any, client: Client, database: PgDatabase
) -> None:
    small = _small_shop(client, database)
    shop, lines, settlements = small["shop"], small["lines"], small["settlements"]
    tables = ("statement_matches", "statement_match_items", "statement_match_lines")
    before = {t: _count(database, t, shop.tenant_id) for t in tables}
    # When the owner matches the customer's Pix (R$ 123,45) to a settlement of R$ 150,00
    body = {"statement_line_id": lines["pix"], "bank_file_line_ids": [settlements[1234561]]}
    status, answer, _ = client.call("POST", "/banking/reconciliation/matches", shop.access_token, body=body)
    # Then 422 with the figures, in pt-BR, and nothing is written
    assert (status, answer["code"]) == (422, "validation_error"), answer
    assert "A soma não confere" in answer["message"]
    assert "R$ 123,45" in answer["message"]
    figures = answer["details"][0]
    assert (figures["line_cents"], figures["expected_cents"], figures["fees_cents"]) == (12345, 15000, 290)
    assert figures["difference_cents"] == 12345 - (15000 - 290)
    assert {t: _count(database, t, shop.tenant_id) for t in tables} == before
    # When it is a debit, an unknown line, no item at all, or the declared difference is not the real one
    for bad, code in (
        ({"statement_line_id": lines["alu"], "charge_ids": [small["charge"]]}, 422),
        ({"statement_line_id": str(uuid.uuid4()), "charge_ids": [small["charge"]]}, 404),
        ({"statement_line_id": lines["pix"]}, 422),
        ({"statement_line_id": lines["pix"], "charge_ids": [str(uuid.uuid4())]}, 404),
        ({**body, "difference_cents": 1}, 422),
    ):
        status, answer, _ = client.call(
            "POST", "/banking/reconciliation/matches", shop.access_token, body=bad
        )
        assert status == code, (bad, answer)
    assert {t: _count(database, t, shop.tenant_id) for t in tables} == before
    # When the difference declared is the real one, the match is made, confirmed at once
    body["difference_cents"] = 12345 - (15000 - 290)
    status, made, _ = client.call("POST", "/banking/reconciliation/matches", shop.access_token, body=body)
    assert status == 201, made
    assert (made["method"], made["status"], made["difference_cents"]) == ("manual", "confirmed", -2365)
    # And the batch's suggestion, which held that settlement, is withdrawn (a person decided otherwise)
    batch = next(m for m in _matches(client, shop) if m["statement_line_id"] == lines["cob"])
    assert batch["status"] == "withdrawn"
    # And the settlement cannot go into another match now (409), nor can the Pix
    again = {"statement_line_id": lines["cob"], "bank_file_line_ids": list(settlements.values()),
             "fee_line_ids": [lines["tar"]]}  # fmt: skip
    status, answer, _ = client.call("POST", "/banking/reconciliation/matches", shop.access_token, body=again)
    assert (status, answer["code"]) == (409, "conflict"), answer
    assert answer["details"]["confirmed_match_ids"] == [made["id"]]
    # And the database refuses any change to the confirmed match or to its lines, as the app role
    for change, params in (
        ("update statement_matches set difference_cents = 0 where id = %s", (made["id"],)),
        (
            "insert into statement_match_lines (tenant_id, match_id, statement_line_id, role, amount_cents) "
            "values (%s, %s, %s, 'fee', -870)",
            (shop.tenant_id, made["id"], lines["tar"]),
        ),
    ):
        with pytest.raises(psycopg.errors.RaiseException, match="confirmed reconciliation match"):
            _as_app(database, shop.tenant_id, change, *params)
    change = "update statement_match_lines set amount_cents = 1 where match_id = %s"
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_app(database, shop.tenant_id, change, made["id"])


def test_a_manual_match_of_a_day_to_its_credit_and_tariff_adds_up(
    recon: Any, client: Client, database: PgDatabase
) -> None:
    small = _small_shop(client, database)
    shop, lines, settlements = small["shop"], small["lines"], small["settlements"]
    body = {
        "statement_line_id": lines["cob"],
        "bank_file_line_ids": list(settlements.values()),
        "fee_line_ids": [lines["tar"]],
    }
    made = _ok(client.call("POST", "/banking/reconciliation/matches", shop.access_token, body=body))
    assert (made["status"], made["difference_cents"], len(made["items"]), len(made["lines"])) == (
        "confirmed", 0, 3, 2,
    )  # fmt: skip
    # The matcher's suggestion for that line was withdrawn, the Asaas one left
    statuses = sorted((m["method"], m["status"]) for m in _matches(client, shop))
    assert statuses == [("automatic", "suggested"), ("automatic", "withdrawn"), ("manual", "confirmed")]


# --- the report -------------------------------------------------------------------------------------------


def test_the_report_adds_up_and_comes_as_csv_and_pdf(
    recon: Any, client: Client, database: PgDatabase
) -> None:
    small = _small_shop(client, database)
    shop = small["shop"]
    query = {"from": (DAY - timedelta(days=5)).isoformat(), "to": (DAY + timedelta(days=5)).isoformat()}
    report = _ok(client.call("GET", "/banking/reconciliation/report", shop.access_token, query=query))
    totals = report["totals"]
    # The totals are the rows': 4 expected credits (3 settlements, 1 Asaas) all matched by the matcher
    assert (totals["expected_count"], totals["matched_count"], totals["auto_matched_count"]) == (4, 4, 4)
    assert totals["expected_cents"] == 15000 + 22050 + 8000 + 35000
    assert totals["matched_cents"] == sum(r["expected_cents"] for r in report["matched"])
    assert totals["auto_match_rate_bp"] == 10_000
    # Tariffs: the boletos' (debited apart) and Asaas's kept back from its credit
    assert totals["fees_cents"] == 870 + 999 == sum(r["fees_cents"] for r in report["matched"])
    assert totals["differences_cents"] == 0 == sum(r["difference_cents"] for r in report["matched"])
    # The customer's Pix is a credit nothing explains
    assert [(r["statement_cents"], r["description"]) for r in report["statement_pending"]] == [
        (12345, "PIX RECEBIDO JOAO DA SILVA")
    ]
    assert (totals["unmatched_line_count"], totals["unmatched_line_cents"]) == (1, 12345)
    assert report["expected_pending"] == []
    assert report["fee_pending"] == []
    # As CSV: a link to a ';' file with a BOM, the summary, then one row per report row
    link = _ok(client.call("GET", "/banking/reconciliation/report.csv", shop.access_token, query=query))
    assert link["content_type"] == "text/csv; charset=utf-8"
    assert link["filename"].endswith(".csv")
    stored = recon.document_store.at(link["url"])
    assert link["url"].startswith(f"{recon.document_store.URL}documents/{shop.tenant_id}/reconciliation/")
    assert stored.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(stored.data.decode("utf-8-sig")), delimiter=";"))
    header = table.index(next(h for h in table if h and h[0] == "Seção"))
    rows = table[header + 1 :]
    assert len(rows) == len(report["matched"]) + len(report["statement_pending"])
    assert ["Taxa de conciliação automática", "100,00%"] in table
    assert any(
        r[0] == "Créditos no extrato sem recebimento correspondente" and r[6] == "123,45" for r in rows
    )
    # The JSON route answers the report itself, whatever else the query holds (one shape per route)
    same = _ok(client.call("GET", "/banking/reconciliation/report", shop.access_token, query=query))
    assert same["totals"] == report["totals"]
    # As PDF
    link = _ok(client.call("GET", "/banking/reconciliation/report.pdf", shop.access_token, query=query))
    pdf = recon.document_store.at(link["url"])
    assert pdf.data.startswith(b"%PDF")
    assert pdf.content_type == "application/pdf"
    # A bad period is 422: backwards, longer than a year, or out of this system's years
    bad = [("2030-03-10", "2030-03-01"), ("2030-01-01", "2031-01-02"), ("0001-01-01", "0001-01-02")]
    for start, end in [*bad, ("9999-12-30", "9999-12-31")]:
        period = {"from": start, "to": end}
        status, answer, _ = client.call(
            "GET", "/banking/reconciliation/report", shop.access_token, query=period
        )
        assert (status, answer["code"]) == (422, "validation_error"), answer
        status, answer, _ = client.call("POST", "/banking/reconciliation/run", shop.access_token, body=period)
        assert (status, answer["code"]) == (422, "validation_error"), answer
    for only in ({"to": "0001-01-05"}, {"from": "9999-12-31"}):
        status, answer, _ = client.call(
            "GET", "/banking/reconciliation/unmatched", shop.access_token, query=only
        )
        assert (status, answer["code"]) == (422, "validation_error"), answer


# --- concurrency, shops, permissions ------------------------------------------------------------------------


def test_parallel_runs_for_one_shop_write_each_suggestion_once(
    recon: Any, client: Client, database: PgDatabase
) -> None:
    from assistec.services.banking.reconciliation import BankReconciliation
    from assistec.services.unit_of_work import UnitsOfWork

    # Given a shop whose files were read without the matcher (as before it was wired)
    recon.bank_files._after_parsed = None
    small = _small_shop(client, database)
    shop = small["shop"]
    assert _count(database, "statement_matches", shop.tenant_id) == 0
    # When six runs start at once, each on its own connection
    from assistec.services.audit import SystemActor

    barrier = threading.Barrier(6)
    outcomes: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        db = _db(database.app_url)
        try:
            service = BankReconciliation(
                UnitsOfWork(db), lambda: recon.document_store, rate_metric=lambda *_: None
            )
            barrier.wait()
            outcomes.append(
                service.after_intake(SystemActor(uuid.UUID(shop.tenant_id)), DAY, DAY + timedelta(1))
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every run ended; one wrote the two suggestions, the others found them
    assert errors == []
    assert None not in outcomes
    assert sorted(o.created for o in outcomes) == [0, 0, 0, 0, 0, 2]
    assert _count(database, "statement_matches", shop.tenant_id) == 2
    assert _count(database, "statement_match_items", shop.tenant_id) == 4


def test_another_shop_sees_and_touches_none_of_it(recon: Any, client: Client, database: PgDatabase) -> None:
    small = _small_shop(client, database)
    other = signup(client)
    mine = _matches(client, small["shop"])
    assert len(mine) == 2
    # Another shop lists nothing, reads nothing, confirms nothing, and its run changes nothing of ours
    assert _matches(client, other) == []
    for path in (f"/banking/reconciliation/matches/{mine[0]['id']}",):
        status, _, _ = client.call("GET", path, other.access_token)
        assert status == 404
    for action in ("confirm", "reject"):
        status, answer, _ = client.call(
            "POST", f"/banking/reconciliation/matches/{mine[0]['id']}/{action}", other.access_token
        )
        assert status == 404, answer
    body = {"statement_line_id": small["lines"]["pix"], "charge_ids": [small["charge"]]}
    status, _, _ = client.call("POST", "/banking/reconciliation/matches", other.access_token, body=body)
    assert status == 404
    ran = _run(client, other, DAY - timedelta(days=3), DAY + timedelta(days=3))
    assert (ran["created"], ran["totals"]["expected_count"]) == (0, 0)
    query = {"from": DAY.isoformat(), "to": DAY.isoformat()}
    theirs = _ok(client.call("GET", "/banking/reconciliation/unmatched", other.access_token, query=query))
    assert theirs["statement_lines"] == []
    assert theirs["expected"] == []
    assert _matches(client, small["shop"]) == mine


@pytest.mark.parametrize("role", ["technician", "attendant"])
def test_only_owners_and_admins_reconcile(recon: Any, client: Client, role: str) -> None:
    shop = signup(client)
    admin = staff(client, shop, "admin")
    assert _matches(client, shop, admin) == []
    token = staff(client, shop, role)
    some = str(uuid.uuid4())
    for method, path, body in (
        ("POST", "/banking/reconciliation/run", {"from": "2030-01-01", "to": "2030-01-31"}),
        ("GET", "/banking/reconciliation/matches", None),
        ("GET", f"/banking/reconciliation/matches/{some}", None),
        ("POST", f"/banking/reconciliation/matches/{some}/confirm", None),
        ("POST", f"/banking/reconciliation/matches/{some}/reject", None),
        ("POST", "/banking/reconciliation/matches", {"statement_line_id": some, "charge_ids": [some]}),
        ("GET", "/banking/reconciliation/unmatched", None),
        ("GET", "/banking/reconciliation/report", None),
        ("GET", "/banking/reconciliation/report.csv", None),
        ("GET", "/banking/reconciliation/report.pdf", None),
    ):
        status, answer, _ = client.call(method, path, token, **({"body": body} if body else {}))
        assert (status, answer["code"]) == (403, "forbidden"), (path, answer)


# --- a month of a shop ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [202611, 22])
def test_a_generated_month_through_the_service_reaches_the_target_rate(
    recon: Any, client: Client, database: PgDatabase, seed: int
) -> None:
    from assistec.domain.banking.reconcile import ExpectedSource, build_report, reconcile
    from tests.unit.test_bank_reconcile_month import MONTH, generate

    month = generate(seed)
    shop = signup(client)
    # Two wallets, two agreements: the bank credits each wallet's day apart
    codes = {"341/109": "12345", "341/112": "12346"}
    for wallet, code in codes.items():
        _ok(client.call("POST", "/banking/agreements", shop.access_token,
                        body={**ITAU, "agreement_code": code, "wallet": wallet[-3:]}))  # fmt: skip
    boletos = [i for i in month.expected if i.source is ExpectedSource.BOLETO]
    for wallet, code in codes.items():
        _retorno(client, shop, code, [(int(i.reference), i.amount_cents, i.fee_cents, i.credit_on)
                                      for i in boletos if i.batch_key == wallet])  # fmt: skip
    order = open_order(client, shop)
    transfers = [i for i in month.expected if i.source is ExpectedSource.ASAAS]
    texts = " ".join(line.description for line in month.lines)

    def payment_id(reference: str) -> str | None:
        # Asaas ids are unique across shops: the ones the bank's text never shows get a suffix
        if not reference:
            return None
        return reference if reference in texts else f"{reference}-{uuid.uuid4().hex[:8]}"

    charges = _charges(
        database, shop, order["id"],
        [(i.amount_cents, i.amount_cents, i.credit_on, payment_id(i.reference)) for i in transfers],
    )  # fmt: skip
    # When the month's statement is read (the matcher runs over its dates)
    _statement(client, shop, [(line.line_id, line.posted_on, line.amount_cents, line.description)
                              for line in month.lines])  # fmt: skip
    # Then the month's report has the rate the issue targets (98%), computed from what is stored
    query = {"from": MONTH[0].isoformat(), "to": MONTH[1].isoformat()}
    totals = _ok(client.call("GET", "/banking/reconciliation/report", shop.access_token, query=query))[
        "totals"
    ]
    assert totals["expected_count"] == len(month.expected)
    rate = totals["auto_matched_count"] * 10_000 // totals["expected_count"]
    print(f"\nmonth (seed {seed}) through the service: {totals['auto_matched_count']} of "
          f"{totals['expected_count']} matched automatically, rate {rate / 100:.2f}%")  # fmt: skip
    assert totals["auto_match_rate_bp"] == rate >= 9_800
    # And it is what the matcher makes of the same month in memory (nothing lost on the way)
    pure = build_report(reconcile(month.expected, month.lines), *MONTH)
    assert totals["auto_matched_count"] == pure.auto_matched_count
    assert totals["differences_cents"] == pure.differences_cents
    # And every stored suggestion is one the bank made: its settlements are those its lines carry
    line_ids = {v: k for k, v in _key_ids(database, shop).items()}
    nosso = {v: k for k, v in _settlement_ids(database, shop).items()}
    by_reference = {int(i.reference): i.expected_id for i in boletos}
    by_charge = dict(zip(charges, [i.expected_id for i in transfers], strict=True))
    for match in _matches(client, shop, status="suggested"):
        named = {
            by_reference[nosso[i["bank_file_line_id"]]]
            if i["bank_file_line_id"]
            else by_charge[i["charge_id"]]
            for i in match["items"]
        }
        credit_lines = [line_ids[x["statement_line_id"]] for x in match["lines"] if x["role"] == "credit"]
        truth = set().union(*(month.truth.get(line, set()) for line in credit_lines))
        same_amounts = sorted(
            (next(i for i in month.expected if i.expected_id == e).credit_on,
             next(i for i in month.expected if i.expected_id == e).amount_cents) for e in named
        ) == sorted(
            (next(i for i in month.expected if i.expected_id == e).credit_on,
             next(i for i in month.expected if i.expected_id == e).amount_cents) for e in truth
        )  # fmt: skip
        assert named == truth or same_amounts, (named, truth)
    # And the metric got the statement period's rate
    assert recon.rates
    assert recon.rates[-1][0] >= 9_800


# --- as deployed: the worker, the real parsers ------------------------------------------------------------


def _ofx(rows: list[tuple[str, date, int, str]]) -> bytes:
    movements = "".join(
        f"<STMTTRN>\n<TRNTYPE>{'CREDIT' if cents > 0 else 'DEBIT'}\n<DTPOSTED>{day:%Y%m%d}\n"
        f"<TRNAMT>{cents / 100:.2f}\n<FITID>{fit}\n<MEMO>{memo}\n</STMTTRN>\n"
        for fit, day, cents, memo in rows
    )
    return (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nENCODING:USASCII\nCHARSET:1252\n\n<OFX>\n<BANKMSGSRSV1>\n"
        "<STMTTRNRS>\n<STMTRS>\n<CURDEF>BRL\n<BANKACCTFROM>\n<BANKID>341\n<BRANCHID>0730\n<ACCTID>3511\n"
        "</BANKACCTFROM>\n<BANKTRANLIST>\n" + movements + "</BANKTRANLIST>\n</STMTRS>\n</STMTTRNRS>\n"
        "</BANKMSGSRSV1>\n</OFX>\n"
    ).encode()


def test_as_deployed_a_retorno_and_a_statement_through_the_worker_end_in_a_suggestion(
    worker_root: Any,  # noqa: F811  # the fixture imported above
    client: Client,
    database: PgDatabase,
) -> None:
    from assistec.handlers import bank_files
    from tests.integration.test_banking import FIXTURES, WorkerContext, _eventbridge, _sqs

    shop = signup(client)
    _ok(client.call("POST", "/banking/agreements", shop.access_token,
                    body={**ITAU, "branch": "730", "account": "3511"}))  # fmt: skip

    def upload(kind: str, data: bytes) -> None:
        form = _ok(client.call("POST", "/banking/files", shop.access_token, body={"kind": kind}))
        worker_root.document_store.put(form["key"], data, content_type="application/octet-stream")
        assert bank_files.worker(_sqs(_eventbridge(form["key"])), WorkerContext()) == {
            "batchItemFailures": []
        }

    # Given a bank-issued Itaú retorno read by the worker (the real CNAB parser)
    upload("retorno", (FIXTURES / "cnab/brcobranca/CNAB400ITAU.RET").read_bytes())
    settled = _sql(
        database,
        "select id, paid_cents - fee_cents, coalesce(credited_on, occurred_on) from bank_file_lines "
        "where tenant_id = %s and kind = 'settled' and paid_cents > fee_cents order by 3, 1",
        shop.tenant_id,
    )
    assert settled, "the fixture settles titles"
    day = settled[0][2]
    days_items = [(str(i), net) for i, net, on in settled if on == day]
    assert len(days_items) >= 2, "a day of several settlements: one credit for them all"
    # When the account's statement (OFX, the real reader) shows that credit date's net in one line
    upload("statement", _ofx([("F1", day, sum(net for _, net in days_items), "COBRANCA CRED LIQUIDACAO"),
                              ("F2", day, 4321, "PIX RECEBIDO MARIA")]))  # fmt: skip
    # Then the worker had the matcher suggest that line for exactly those settlements
    (match,) = _matches(client, shop, status="suggested")
    assert sorted(i["bank_file_line_id"] for i in match["items"]) == sorted(i for i, _ in days_items)
    assert match["difference_cents"] == 0
