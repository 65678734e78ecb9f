"""Banking (issue 15): the shop's bank agreements through the API, the nosso número counter under
truly parallel allocations, the bank file intake (inline, presigned upload + S3 event) with its
idempotency per file and per line, and the schema's own guarantees (row-level security, a boleto
registered once, a confirmed match never changed, a restore that still works)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from assistec.db.connection import Database
from assistec.services.banking.parsing import Occurrence, ParsedFile, ParseRefused, StatementEntry
from assistec.settings import DatabaseSettings
from tests.conftest import LambdaContext, PgDatabase
from tests.integration.conftest import Client, FakeDocumentStore, Shop, signup
from tests.integration.shop_helpers import _ok
from tests.integration.test_backup import backups  # noqa: F401  # the backup functions' root (a fixture)
from tests.integration.test_email import staff

ITAU = {
    "name": "Itaú da loja",
    "bank_code": "341",
    "branch": "57",
    "account": "12345",
    "account_digit": "7",
    "wallet": "109",
    "agreement_code": "12345",
    "layout": "cnab400",
    "interest_monthly_bp": 100,
    "fine_bp": 200,
}
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BANKING_TABLES = (
    "bank_agreements", "remessa_files", "boletos", "remessa_items", "bank_files", "bank_file_lines",
    "statement_lines", "statement_matches", "statement_match_items",
)  # fmt: skip


def _db(url: str) -> Database:
    return Database(DatabaseSettings(database_url=url, db_secret_id=None, db_sslmode="disable"))


def _sql(database: PgDatabase, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(query, params).fetchall()


def _count(database: PgDatabase, table: str, tenant_id: str) -> int:
    return int(_sql(database, f"select count(*) from {table} where tenant_id = %s", tenant_id)[0][0])


def _agreement(client: Client, shop: Shop, **fields: Any) -> dict[str, Any]:
    return dict(_ok(client.call("POST", "/banking/agreements", shop.access_token, body={**ITAU, **fields})))


def _customer(client: Client, shop: Shop) -> str:
    body = {"name": "Ana Souza", "phone": f"(11) 9{uuid.uuid4().int % 10**8:08d}"}
    return str(_ok(client.call("POST", "/customers", shop.access_token, body=body))["id"])


# --- agreements -----------------------------------------------------------------------------------------


def test_the_owner_registers_lists_reads_and_changes_an_agreement_all_audited(client: Client) -> None:
    shop = signup(client)
    # When the owner registers an Itaú agreement
    status, created, _ = client.call("POST", "/banking/agreements", shop.access_token, body=ITAU)
    # Then it is stored as given, the branch with its leading zeros, the counters at 1
    assert status == 201, created
    assert (created["bank_code"], created["branch"], created["account_digit"]) == ("341", "0057", "7")
    assert (created["next_nosso_numero"], created["next_remessa_sequence"], created["version"]) == (1, 1, 1)
    assert (created["interest_monthly_bp"], created["fine_bp"], created["active"]) == (100, 200, True)
    # And it is listed and read back
    listed = _ok(client.call("GET", "/banking/agreements", shop.access_token))["items"]
    assert [a["id"] for a in listed] == [created["id"]]
    assert _ok(client.call("GET", f"/banking/agreements/{created['id']}", shop.access_token)) == created
    # When the owner changes its name and moves the nosso número forward
    status, changed, _ = client.call(
        "PATCH",
        f"/banking/agreements/{created['id']}",
        shop.access_token,
        body={"version": 1, "name": "Itaú principal", "next_nosso_numero": 5000},
    )
    assert status == 200, changed
    assert (changed["name"], changed["next_nosso_numero"], changed["version"]) == ("Itaú principal", 5000, 2)
    # Then the audit log has both changes, with what changed from what
    log = _ok(client.call("GET", "/audit", shop.access_token, query={"entity": "bank_agreement"}))["items"]
    assert [e["action"] for e in log] == ["update", "create"]
    assert log[0]["changes"]["next_nosso_numero"] == {"from": 1, "to": 5000}
    assert log[1]["changes"]["agreement_code"] == "12345"


def test_a_stale_version_is_409_and_changes_nothing(client: Client) -> None:
    shop = signup(client)
    created = _agreement(client, shop)
    path = f"/banking/agreements/{created['id']}"
    _ok(client.call("PATCH", path, shop.access_token, body={"version": 1, "name": "Primeira"}))
    # When someone still at version 1 changes it
    status, answer, _ = client.call("PATCH", path, shop.access_token, body={"version": 1, "name": "Segunda"})
    # Then 409 with the current version, in pt-BR, and the first change stands
    assert (status, answer["code"], answer["details"]) == (409, "conflict", {"current_version": 2})
    assert "alterado por outra pessoa" in answer["message"]
    assert _ok(client.call("GET", path, shop.access_token))["name"] == "Primeira"


def test_the_counters_never_move_backwards(client: Client) -> None:
    shop = signup(client)
    created = _agreement(client, shop, next_nosso_numero=100, next_remessa_sequence=7)
    path = f"/banking/agreements/{created['id']}"
    for field, lower in (("next_nosso_numero", 99), ("next_remessa_sequence", 6)):
        # When someone sets a counter below where it is
        status, answer, _ = client.call("PATCH", path, shop.access_token, body={"version": 1, field: lower})
        # Then 422 in pt-BR, nothing changed
        assert (status, answer["code"]) == (422, "validation_error"), answer
        assert "não pode voltar" in answer["message"]
    after = _ok(client.call("GET", path, shop.access_token))
    assert (after["next_nosso_numero"], after["next_remessa_sequence"], after["version"]) == (100, 7, 1)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"bank_code": "999"}, "banco não atendido"),
        ({"bank_code": "1"}, "banco não atendido"),
        ({"branch": "12a4"}, "agência"),
        ({"branch": "123456"}, "texto longo demais"),
        ({"branch": "12345"}, "agência: até 4 dígitos"),
        ({"account": "12.345"}, "conta"),
        ({"account_digit": None}, "dígito da conta: obrigatório no Itaú"),
        ({"account_digit": "77a"}, "texto longo demais"),
        ({"account_digit": "7a"}, "dígito da conta"),
        ({"wallet": "1090"}, "texto longo demais"),
        ({"wallet": "1-"}, "carteira"),
        ({"agreement_code": "12-34"}, "convênio"),
        ({"layout": "cnab240"}, "layout cnab240 não disponível para o Itaú"),
        (
            {"bank_code": "001", "agreement_code": "12345", "layout": "cnab240"},
            "convênio: 4 ou 6 ou 7 dígitos",
        ),
        ({"fine_bp": 2001}, "valor acima do máximo"),
        ({"interest_monthly_bp": -1}, "valor abaixo do mínimo"),
        ({"discount_cents": "100"}, "deve ser um número inteiro"),
        ({"next_nosso_numero": 0}, "valor abaixo do mínimo"),
    ],
)
def test_bad_agreements_are_refused_in_pt_br_and_nothing_is_stored(
    client: Client, database: PgDatabase, change: dict[str, Any], says: str
) -> None:
    shop = signup(client)
    # When an agreement breaks a format or its bank's rule
    status, answer, _ = client.call("POST", "/banking/agreements", shop.access_token, body={**ITAU, **change})
    # Then 422 saying what is wrong, in pt-BR, and nothing was stored
    assert (status, answer["code"]) == (422, "validation_error"), answer
    assert any(says in d["message"] for d in answer["details"]), answer["details"]
    assert _count(database, "bank_agreements", shop.tenant_id) == 0


def test_a_patch_is_checked_against_the_bank_rules_of_the_whole_agreement(client: Client) -> None:
    shop = signup(client)
    created = _agreement(client, shop)
    path = f"/banking/agreements/{created['id']}"
    # When the account digit an Itaú agreement needs is cleared
    status, answer, _ = client.call(
        "PATCH", path, shop.access_token, body={"version": 1, "account_digit": None}
    )
    # Then 422, nothing changed
    assert (status, answer["code"]) == (422, "validation_error"), answer
    assert "dígito da conta" in answer["details"][0]["message"]
    assert _ok(client.call("GET", path, shop.access_token))["account_digit"] == "7"


def test_the_same_agreement_twice_is_409(client: Client) -> None:
    shop = signup(client)
    _agreement(client, shop)
    status, answer, _ = client.call("POST", "/banking/agreements", shop.access_token, body=ITAU)
    assert (status, answer["code"]) == (409, "conflict"), answer
    assert "já está cadastrado" in answer["message"]


@pytest.mark.parametrize("role", ["technician", "attendant"])
def test_only_owners_and_admins_touch_banking(client: Client, database: PgDatabase, role: str) -> None:
    shop = signup(client)
    created = _agreement(client, shop)
    admin = staff(client, shop, "admin")
    assert _ok(client.call("GET", "/banking/agreements", admin))["items"][0]["id"] == created["id"]
    token = staff(client, shop, role)
    inline = {"kind": "retorno", "content_base64": base64.b64encode(b"x").decode()}
    # When anyone else asks for any banking route
    for method, path, body in (
        ("GET", "/banking/agreements", None),
        ("POST", "/banking/agreements", {**ITAU, "agreement_code": "999"}),
        ("GET", f"/banking/agreements/{created['id']}", None),
        ("PATCH", f"/banking/agreements/{created['id']}", {"version": 1, "name": "Outro"}),
        ("POST", "/banking/files", {"kind": "retorno"}),
        ("POST", "/banking/files/inline", inline),
        ("GET", "/banking/files", None),
        ("GET", f"/banking/files/{uuid.uuid4()}", None),
        ("GET", "/banking/unmatched", None),
    ):
        status, answer, _ = client.call(method, path, token, **({"body": body} if body else {}))
        # Then 403, and nothing was stored
        assert (status, answer["code"]) == (403, "forbidden"), (path, answer)
    assert _count(database, "bank_agreements", shop.tenant_id) == 1
    assert _count(database, "bank_files", shop.tenant_id) == 0


def test_another_shops_agreements_and_files_are_not_found(client: Client) -> None:
    a, b = signup(client), signup(client)
    created = _agreement(client, a)
    sent = _ok(
        client.call(
            "POST",
            "/banking/files/inline",
            a.access_token,
            body={"kind": "statement", "content_base64": base64.b64encode(b"extrato A").decode()},
        )
    )
    # When shop B asks for A's agreement and file, or changes A's agreement
    for method, path, body in (
        ("GET", f"/banking/agreements/{created['id']}", None),
        ("PATCH", f"/banking/agreements/{created['id']}", {"version": 1, "name": "Tomada"}),
        ("GET", f"/banking/files/{sent['id']}", None),
    ):
        status, answer, _ = client.call(method, path, b.access_token, **({"body": body} if body else {}))
        # Then 404, as for an id that does not exist
        assert (status, answer["code"]) == (404, "not_found"), (path, answer)
    # And B's lists are empty
    assert _ok(client.call("GET", "/banking/agreements", b.access_token))["items"] == []
    assert _ok(client.call("GET", "/banking/files", b.access_token))["items"] == []
    assert (
        _ok(client.call("GET", f"/banking/agreements/{created['id']}", a.access_token))["name"]
        == ITAU["name"]
    )


# --- nosso número ---------------------------------------------------------------------------------------


def _allocate(database: PgDatabase, tenant_id: UUID, agreement_id: UUID, *, commit: bool = True) -> int:
    from assistec.services.audit import SystemActor
    from assistec.services.banking.agreements import BankAgreements
    from assistec.services.unit_of_work import UnitsOfWork

    class Rollback(Exception):
        pass

    db = _db(database.app_url)  # its own connection
    try:
        number = -1
        try:
            with UnitsOfWork(db)(SystemActor(tenant_id)) as uow:
                number = BankAgreements.allocate_nosso_numero(uow, agreement_id)[0]
                if not commit:
                    raise Rollback()
        except Rollback:
            pass
        return number
    finally:
        db.close()


def test_parallel_allocations_give_every_number_once_without_gaps(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    created = _agreement(client, shop, next_nosso_numero=1000)
    tenant_id, agreement_id = UUID(shop.tenant_id), UUID(created["id"])
    threads, each = 8, 15
    start = threading.Barrier(threads)
    taken: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            start.wait()
            for _ in range(each):
                number = _allocate(database, tenant_id, agreement_id)
                with lock:
                    taken.append(number)
        except BaseException as exc:  # reported below
            errors.append(exc)

    # When 8 threads, each on its own connections, allocate 15 numbers each, all at once
    runners = [threading.Thread(target=work) for _ in range(threads)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    # Then every number was handed out once, and together they are 1000..1119: no gap
    assert not errors, errors
    assert sorted(taken) == list(range(1000, 1000 + threads * each))
    # And the counter is right after the last one; the agreement's version did not move
    after = _ok(client.call("GET", f"/banking/agreements/{created['id']}", shop.access_token))
    assert (after["next_nosso_numero"], after["version"]) == (1000 + threads * each, 1)


def test_a_rolled_back_allocation_gives_its_number_back(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    created = _agreement(client, shop, next_nosso_numero=42)
    tenant_id, agreement_id = UUID(shop.tenant_id), UUID(created["id"])
    # Given an issue that took 42 and then failed
    assert _allocate(database, tenant_id, agreement_id, commit=False) == 42
    # When the next one allocates, it gets 42 again
    assert _allocate(database, tenant_id, agreement_id) == 42
    assert _allocate(database, tenant_id, agreement_id) == 43


def test_an_inactive_or_unknown_agreement_allocates_nothing(client: Client, database: PgDatabase) -> None:
    from assistec.errors import ConflictError, NotFoundError

    shop = signup(client)
    created = _agreement(client, shop)
    path = f"/banking/agreements/{created['id']}"
    _ok(client.call("PATCH", path, shop.access_token, body={"version": 1, "active": False}))
    with pytest.raises(ConflictError, match="desativado"):
        _allocate(database, UUID(shop.tenant_id), UUID(created["id"]))
    with pytest.raises(NotFoundError):
        _allocate(database, UUID(shop.tenant_id), uuid.uuid4())
    assert _ok(client.call("GET", path, shop.access_token))["next_nosso_numero"] == 1


# --- file intake: the API's inline path ----------------------------------------------------------------


def _inline(client: Client, shop: Shop, data: bytes, kind: str = "retorno", **extra: Any) -> tuple[int, Any]:
    body = {"kind": kind, "content_base64": base64.b64encode(data).decode(), **extra}
    status, answer, _ = client.call("POST", "/banking/files/inline", shop.access_token, body=body)
    return status, answer


@pytest.fixture
def unparsed(api_root: Any) -> Any:
    """The API's intake with no parser wired (as before the CNAB/OFX parsers were)."""
    from assistec.services.banking.intake import BankFileIntake
    from assistec.services.banking.parsing import NO_PARSER

    api_root.bank_files = BankFileIntake(api_root.work, lambda: api_root.document_store, NO_PARSER)
    return api_root


def test_an_inline_file_without_a_parser_is_kept_pending_and_the_same_file_again_changes_nothing(
    unparsed: Any, api_root: Any, client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    store: FakeDocumentStore = api_root.document_store
    data = b"02RETORNO01COBRANCA       \r\n" * 3
    # When the shop sends a retorno inline and no parser is wired
    status, first = _inline(client, shop, data, filename="CN30110A.RET")
    # Then it is recorded as pending_parser: its hash, size and name, stored in S3 under the shop
    assert status == 201, first
    assert (first["status"], first["duplicate"], first["source"]) == ("pending_parser", False, "inline")
    assert (first["sha256"], first["size_bytes"]) == (hashlib.sha256(data).hexdigest(), len(data))
    assert first["filename"] == "CN30110A.RET"
    assert first["error_code"] is None
    assert first["line_count"] == 0
    (key,) = [k for k in store.objects if k.startswith(f"bank-files/{shop.tenant_id}/retorno/")]
    assert store.objects[key].data == data
    # When the same content is sent again (under another name)
    status, again = _inline(client, shop, data, filename="copia.ret")
    # Then the first record answers, unchanged, and nothing new was stored
    assert status == 200, again
    assert again["duplicate"] is True
    assert {k: v for k, v in again.items() if k != "duplicate"} == {
        k: v for k, v in first.items() if k != "duplicate"
    }
    assert _count(database, "bank_files", shop.tenant_id) == 1
    assert len([k for k in store.objects if k.startswith("bank-files/")]) == 1
    # And the list and the file's page show it
    assert [f["id"] for f in _ok(client.call("GET", "/banking/files", shop.access_token))["items"]] == [
        first["id"]
    ]
    detail = _ok(client.call("GET", f"/banking/files/{first['id']}", shop.access_token))
    assert (detail["status"], detail["occurrences"]) == ("pending_parser", [])
    # And its receipt is audited once
    log = _ok(client.call("GET", "/audit", shop.access_token, query={"entity": "bank_file"}))["items"]
    assert len(log) == 1
    assert log[0]["changes"]["sha256"] == first["sha256"]


def test_two_shops_may_send_the_same_file(client: Client) -> None:
    a, b = signup(client), signup(client)
    data = b"mesmo extrato"
    assert _inline(client, a, data, kind="statement")[0] == 201
    assert _inline(client, b, data, kind="statement")[0] == 201


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"kind": "retorno", "content_base64": "não é base64"}, 422, "validation_error"),
        ({"kind": "retorno", "content_base64": ""}, 422, "validation_error"),
        ({"kind": "remessa", "content_base64": "MDEy"}, 422, "validation_error"),
        ({"kind": "retorno", "content_base64": "MDEy", "extra": 1}, 422, "validation_error"),
        (
            {"kind": "retorno", "content_base64": base64.b64encode(b"0" * (1024 * 1024 + 1)).decode()},
            422,
            None,
        ),
        ({"kind": "retorno", "content_base64": "A" * 1_500_000}, 413, "payload_too_large"),
    ],
)
def test_bad_inline_files_are_refused_and_store_nothing(
    api_root: Any, client: Client, database: PgDatabase, body: dict[str, Any], status: int, code: str | None
) -> None:
    shop = signup(client)
    got, answer, _ = client.call("POST", "/banking/files/inline", shop.access_token, body=body)
    assert got == status, answer
    if code:
        assert answer["code"] == code
    assert _count(database, "bank_files", shop.tenant_id) == 0
    assert not [k for k in api_root.document_store.objects if k.startswith("bank-files/")]


def test_a_file_just_under_the_inline_limit_is_taken(client: Client) -> None:
    shop = signup(client)
    status, answer = _inline(client, shop, b"1" * (1024 * 1024))
    assert status == 201, answer
    assert answer["size_bytes"] == 1024 * 1024


# --- a parser behind the seam ----------------------------------------------------------------------------


class TextParser:
    """A stand-in with the parsers' contract (``parse(kind, data) -> ParsedFile | None``), reading a
    made-up text format: ``bank;agreement`` then ``nosso;kind;paid;yyyy-mm-dd`` lines (retorno) or
    ``key;yyyy-mm-dd;amount`` lines (statement); ``REFUSE`` is refused, ``BOOM`` breaks it. It stands
    for the CNAB/OFX parsers only to drive the intake; it parses no bank's format."""

    def __call__(self, kind: str, data: bytes) -> ParsedFile | None:
        text = data.decode()
        if text.startswith("REFUSE"):
            raise ParseRefused("not_cnab", "Este arquivo não é um retorno CNAB.")
        if text.startswith("BOOM"):
            raise RuntimeError("parser bug")
        if not text.startswith(("RET", "EXT")):
            return None
        lines = text.splitlines()[1:]
        if kind == "statement":
            entries = tuple(
                StatementEntry(n, f"ext:{key}", date.fromisoformat(day), int(amount))
                for n, (key, day, amount) in enumerate((line.split(";") for line in lines), start=2)
            )
            return ParsedFile(format="ofx", line_count=len(lines) + 1, statement_lines=entries)
        bank, agreement = lines[0].split(";")
        occurrences = []
        for n, line in enumerate(lines[1:], start=3):
            nosso, what, paid, day = line.split(";")
            occurrences.append(
                Occurrence(
                    line_number=n,
                    idempotency_key=f"{bank}:{agreement}:{nosso}:{what}:{day}:{paid}",
                    kind=what,  # type: ignore[arg-type]
                    occurrence_code="06" if what == "settled" else "02",
                    nosso_numero=int(nosso),
                    amount_cents=int(paid),
                    paid_cents=int(paid) if what == "settled" else 0,
                    occurred_on=date.fromisoformat(day),
                )
            )
        return ParsedFile(
            format="cnab400", line_count=len(lines) + 1, bank_code=bank, agreement_code=agreement,
            occurrences=tuple(occurrences),
        )  # fmt: skip


@pytest.fixture
def parsed(api_root: Any) -> Any:
    """The API's intake with the stand-in parser wired where the real ones will be."""
    from assistec.services.banking.intake import BankFileIntake

    api_root.bank_files = BankFileIntake(api_root.work, lambda: api_root.document_store, TextParser())
    return api_root


def _boleto(database: PgDatabase, tenant_id: str, agreement_id: str, customer_id: str, nosso: int) -> str:
    row = _sql(
        database,
        "insert into boletos (tenant_id, agreement_id, customer_id, nosso_numero, amount_cents, issued_on, "
        "due_date) values (%s, %s, %s, %s, 15000, '2030-01-02', '2030-01-10') returning id",
        tenant_id, agreement_id, customer_id, nosso,
    )  # fmt: skip
    return str(row[0][0])


def test_a_retorno_records_each_occurrence_once_and_lists_the_unmatched(
    parsed: Any, client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    agreement = _agreement(client, shop)
    boleto = _boleto(database, shop.tenant_id, agreement["id"], _customer(client, shop), 7)
    first = (
        b"RET\n341;12345\n7;entry_confirmed;0;2030-01-03\n7;settled;15000;2030-01-09\n"
        b"99;settled;500;2030-01-09\n"
    )
    # When a retorno with a settlement of boleto 7 and one of an unknown nosso número 99 comes in
    status, answer = _inline(client, shop, first)
    assert status == 201, answer
    # Then it is parsed, of the agreement, with its counts
    assert (answer["status"], answer["format"], answer["agreement_id"]) == (
        "parsed",
        "cnab400",
        agreement["id"],
    )
    assert (answer["line_count"], answer["occurrence_count"], answer["duplicate_count"]) == (5, 3, 0)
    assert (answer["unmatched_count"], answer["settled_cents"]) == (1, 15500)
    lines = _ok(client.call("GET", f"/banking/files/{answer['id']}", shop.access_token))["occurrences"]
    assert [(o["nosso_numero"], o["kind"], o["status"], o["boleto_id"]) for o in lines] == [
        (7, "entry_confirmed", "applied", boleto),  # the boleto registered by it
        (7, "settled", "applied", boleto),  # then settled by this one
        (99, "settled", "unmatched", None),
    ]
    # When the bank sends a second retorno repeating the settlement, with one new occurrence
    second = b"RET\n341;12345\n7;settled;15000;2030-01-09\n7;written_off;0;2030-01-20\n"
    status, again = _inline(client, shop, second)
    # Then only the new occurrence is recorded; the repeated one is counted as such
    assert status == 201, again
    assert (again["occurrence_count"], again["duplicate_count"], again["settled_cents"]) == (1, 1, 0)
    assert _count(database, "bank_file_lines", shop.tenant_id) == 4
    # And the unmatched list holds the one line for a person
    unmatched = _ok(client.call("GET", "/banking/unmatched", shop.access_token))["items"]
    assert [(o["nosso_numero"], o["paid_cents"], o["bank_file_id"]) for o in unmatched] == [
        (99, 500, answer["id"])
    ]


def test_an_occurrence_twice_in_one_file_is_recorded_once(
    parsed: Any, client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    _agreement(client, shop)
    # When a retorno repeats a line (the same occurrence, the same key)
    status, answer = _inline(
        client, shop, b"RET\n341;12345\n8;settled;700;2030-01-09\n8;settled;700;2030-01-09\n"
    )
    # Then it is recorded once, counted once as new and once as a repeat
    assert status == 201, answer
    assert (answer["occurrence_count"], answer["duplicate_count"], answer["settled_cents"]) == (1, 1, 700)
    assert _count(database, "bank_file_lines", shop.tenant_id) == 1


def test_a_retorno_of_an_agreement_the_shop_does_not_have_is_refused_with_its_reason(
    parsed: Any, client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    _agreement(client, shop)
    status, answer = _inline(client, shop, b"RET\n341;99999\n7;settled;100;2030-01-09\n")
    assert status == 201, answer
    assert (answer["status"], answer["error_code"]) == ("refused", "unknown_agreement")
    assert "99999" in answer["error_message"]
    assert "não está cadastrado" in answer["error_message"]
    assert _count(database, "bank_file_lines", shop.tenant_id) == 0


def test_refusals_and_parser_errors_are_kept_with_their_code(parsed: Any, client: Client) -> None:
    shop = signup(client)
    status, refused = _inline(client, shop, b"REFUSE this")
    assert (status, refused["status"], refused["error_code"]) == (201, "refused", "not_cnab")
    assert refused["error_message"] == "Este arquivo não é um retorno CNAB."
    status, failed = _inline(client, shop, b"BOOM")
    assert (status, failed["status"], failed["error_code"]) == (201, "failed", "parser_error")
    assert "erro nosso" in failed["error_message"]
    status, pending = _inline(client, shop, b"something else")
    assert (status, pending["status"]) == (201, "pending_parser")


def test_statement_lines_are_recorded_once_across_overlapping_statements(
    parsed: Any, client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    status, first = _inline(client, shop, b"EXT\nA1;2030-01-09;15000\nA2;2030-01-09;-350\n", kind="statement")
    assert (status, first["status"], first["occurrence_count"]) == (201, "parsed", 2), first
    status, second = _inline(client, shop, b"EXT\nA2;2030-01-09;-350\nA3;2030-01-10;900\n", kind="statement")
    assert (status, second["occurrence_count"], second["duplicate_count"]) == (201, 1, 1), second
    rows = _sql(
        database, "select idempotency_key, amount_cents from statement_lines where tenant_id = %s order by 1",
        shop.tenant_id,
    )  # fmt: skip
    assert rows == [("ext:A1", 15000), ("ext:A2", -350), ("ext:A3", 900)]


# --- file intake: presigned upload, then the S3 event -----------------------------------------------------


@pytest.fixture
def worker_root(monkeypatch: pytest.MonkeyPatch, api_root: Any) -> Iterator[Any]:
    """The bank files worker's root as deployed, against the session's database, sharing the API's
    fake bucket."""
    from assistec.settings import BankFilesSettings
    from assistec.wiring import banking as wiring

    root = wiring.BankFilesRoot(BankFilesSettings())  # type: ignore[call-arg]
    root.document_store = api_root.document_store
    wiring.install(root)
    yield root
    wiring.install(None)


class WorkerContext(LambdaContext):
    """The bank files worker's invocation: its timeout (5 minutes) covers a file's worst case."""

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def _s3_event(key: str) -> dict[str, Any]:
    from urllib.parse import quote_plus

    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "bucket": {"name": "assistec-test-photos"},
                    "object": {"key": quote_plus(key), "size": 1},
                },
            }
        ]
    }


def _eventbridge(key: str, detail_type: str = "Object Created") -> dict[str, Any]:
    """What the bucket sends EventBridge (and the rule queues): the key as it is, not URL-encoded."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": "111111111111",
        "time": "2030-01-09T13:09:50Z",
        "region": "sa-east-1",
        "resources": ["arn:aws:s3:::assistec-test-photos"],
        "detail": {
            "version": "0",
            "bucket": {"name": "assistec-test-photos"},
            "object": {"key": key, "size": 17, "etag": "x", "sequencer": "0064D3901D00059242"},
            "request-id": "XRRTKJXSZQCWNQR1",
            "requester": "111111111111",
            "reason": "PostObject",
        },
    }


def _sqs(*bodies: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "h",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:sa-east-1:111111111111:assistec-bank-files",
                "awsRegion": "sa-east-1",
            }
            for body in bodies
        ]
    }


def test_an_upload_is_read_once_when_its_s3_event_arrives_however_often(
    worker_root: Any, client: Client, database: PgDatabase
) -> None:
    from assistec.handlers import bank_files

    shop = signup(client)
    _agreement(client, shop, branch="730", account="3511")  # the fixture's agreement (Itaú, no convênio)
    store: FakeDocumentStore = worker_root.document_store
    # When the owner asks to upload a retorno
    status, form, _ = client.call(
        "POST", "/banking/files", shop.access_token, body={"kind": "retorno", "filename": "CB 0301.ret"}
    )
    # Then a presigned form for a key under the shop, 20 MB at most, 15 minutes
    assert status == 201, form
    assert form["key"].startswith(f"bank-files/{shop.tenant_id}/retorno/{shop.owner_id}/{form['upload_id']}/")
    assert form["key"].endswith("/CB_0301.ret")
    assert (form["max_bytes"], form["expires_in"]) == (20 * 1024 * 1024, 900)
    assert store.forms[-1]["fields"]["key"] == form["key"]
    assert store.forms[-1]["max_bytes"] == 20 * 1024 * 1024
    # And nothing is recorded before the file lands
    assert _count(database, "bank_files", shop.tenant_id) == 0
    # When the browser posts the file and EventBridge queues S3's event, twice (at-least-once delivery)
    data = (FIXTURES / "cnab/brcobranca/CNAB400ITAU.RET").read_bytes()
    store.put(form["key"], data, content_type="application/octet-stream")
    event = _sqs(_eventbridge(form["key"]))
    for _ in range(2):
        assert bank_files.worker(event, WorkerContext()) == {"batchItemFailures": []}
    # Then one file is recorded, under the upload's id, with who sent it, read by the CNAB parser
    detail = _ok(client.call("GET", f"/banking/files/{form['upload_id']}", shop.access_token))
    assert (detail["status"], detail["source"], detail["filename"]) == ("parsed", "upload", "CB_0301.ret")
    assert (detail["format"], detail["occurrence_count"]) == ("cnab400", 52)
    assert (detail["uploaded_by"], detail["sha256"]) == (shop.owner_id, hashlib.sha256(data).hexdigest())
    assert _count(database, "bank_files", shop.tenant_id) == 1
    # When the same content is uploaded again under a new form, and S3 invokes the function directly
    again = _ok(client.call("POST", "/banking/files", shop.access_token, body={"kind": "retorno"}))
    store.put(again["key"], data, content_type="application/octet-stream")
    assert bank_files.worker(_s3_event(again["key"]), WorkerContext()) == {}
    # Then nothing changes
    assert _count(database, "bank_files", shop.tenant_id) == 1
    assert client.call("GET", f"/banking/files/{again['upload_id']}", shop.access_token)[0] == 404


def test_the_worker_ignores_keys_it_never_signs_and_objects_that_are_gone(
    worker_root: Any, client: Client, database: PgDatabase
) -> None:
    from assistec.handlers import bank_files

    shop = signup(client)
    store: FakeDocumentStore = worker_root.document_store
    # Given objects in the bucket that are no upload of ours: a photo, a key naming no shop
    store.put(f"{shop.tenant_id}/devices/x/y.jpg", b"foto", content_type="image/jpeg")
    store.put("bank-files/not-a-shop/retorno/a/b/c.ret", b"x", content_type="application/octet-stream")
    missing = f"bank-files/{shop.tenant_id}/retorno/{shop.owner_id}/{uuid.uuid4()}/gone.ret"
    event = _sqs(
        _eventbridge(f"{shop.tenant_id}/devices/x/y.jpg"),
        _eventbridge("bank-files/not-a-shop/retorno/a/b/c.ret"),
        _eventbridge(missing),
        _eventbridge(missing, detail_type="Object Deleted"),
        _s3_event(missing),
        {"Service": "Amazon S3", "Event": "s3:TestEvent"},
    )
    # When their events arrive, they fail nothing and record nothing
    assert bank_files.worker(event, WorkerContext()) == {"batchItemFailures": []}
    assert _count(database, "bank_files", shop.tenant_id) == 0


# --- the schema's own guarantees -------------------------------------------------------------------------


def _seed(database: PgDatabase, tenant_id: str, customer_id: str) -> dict[str, str]:
    """One row in every banking table of the shop, as the app role in the shop's transaction; the
    statement's match confirmed."""
    ids: dict[str, str] = {}
    db = _db(database.app_url)
    try:
        with db.tenant_tx(UUID(tenant_id)) as conn:

            def one(query: str, *params: Any) -> str:
                row = conn.execute(query, params).fetchone()
                assert row is not None
                return str(row[0])

            ids["agreement"] = one(
                "insert into bank_agreements (tenant_id, name, bank_code, branch, account, account_digit, "
                "wallet, "
                "agreement_code, layout) values (%s, 'BB', '001', '1234', '56789', 'X', '17', '1234567', "
                "'cnab240') "
                "returning id",
                tenant_id,
            )
            ids["remessa"] = one(
                "insert into remessa_files (tenant_id, agreement_id, sequence, s3_key, sha256) "
                "values (%s, %s, 1, 'bank-files/r.rem', %s) returning id",
                tenant_id, ids["agreement"], hashlib.sha256(b"r").digest(),
            )  # fmt: skip
            ids["boleto"] = one(
                "insert into boletos (tenant_id, agreement_id, customer_id, nosso_numero, amount_cents, "
                "issued_on, "
                "due_date, status, remessa_id, barcode, digitable_line) values (%s, %s, %s, 1, 15000, "
                "'2030-01-02', "
                "'2030-01-10', 'registered', %s, %s, %s) returning id",
                tenant_id, ids["agreement"], customer_id, ids["remessa"], "0" * 44, "0" * 47,
            )  # fmt: skip
            conn.execute(
                "insert into remessa_items (tenant_id, remessa_id, boleto_id, instruction, line_number) "
                "values (%s, %s, %s, 'register', 3)",
                (tenant_id, ids["remessa"], ids["boleto"]),
            )
            ids["file"] = one(
                "insert into bank_files (tenant_id, kind, source, s3_key, size_bytes, sha256, status) "
                "values (%s, 'retorno', 'inline', 'bank-files/x.ret', 10, %s, 'parsed') returning id",
                tenant_id, hashlib.sha256(uuid.uuid4().bytes).digest(),
            )  # fmt: skip
            ids["line"] = one(
                "insert into bank_file_lines (tenant_id, bank_file_id, line_number, idempotency_key, kind, "
                "nosso_numero, boleto_id, amount_cents, paid_cents, status) "
                "values (%s, %s, 3, 'k1', 'settled', 1, %s, 15000, 15000, 'pending') returning id",
                tenant_id, ids["file"], ids["boleto"],
            )  # fmt: skip
            ids["statement_line"] = one(
                "insert into statement_lines (tenant_id, bank_file_id, line_number, idempotency_key, "
                "posted_on, "
                "amount_cents) values (%s, %s, 2, 's1', '2030-01-11', 14800) returning id",
                tenant_id, ids["file"],
            )  # fmt: skip
            ids["match"] = one(
                "insert into statement_matches (tenant_id, statement_line_id, method, score, "
                "difference_cents) "
                "values (%s, %s, 'automatic', 95, -200) returning id",
                tenant_id, ids["statement_line"],
            )  # fmt: skip
            conn.execute(
                "insert into statement_match_items (tenant_id, match_id, bank_file_line_id, amount_cents) "
                "values (%s, %s, %s, 15000)",
                (tenant_id, ids["match"], ids["line"]),
            )
            conn.execute(
                "update statement_matches set status = 'confirmed', confirmed_by = %s, confirmed_at = now() "
                "where id = %s",
                (str(uuid.uuid4()), ids["match"]),
            )
    finally:
        db.close()
    return ids


def test_row_level_security_hides_every_banking_table_from_another_shop(
    client: Client, database: PgDatabase
) -> None:
    a, b = signup(client), signup(client)
    _seed(database, a.tenant_id, _customer(client, a))
    db = _db(database.app_url)
    try:
        # When shop B's transaction reads every banking table
        with db.tenant_tx(UUID(b.tenant_id)) as conn:
            for table in BANKING_TABLES:
                # Then it sees none of A's rows
                assert conn.execute(f"select count(*) from {table}").fetchone() == (0,), table
        # And it cannot write a row of A's
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.tenant_tx(UUID(b.tenant_id)) as conn:
            conn.execute(
                "insert into bank_agreements (tenant_id, name, bank_code, branch, account, wallet, "
                "agreement_code, "
                "layout) values (%s, 'x', '001', '1', '1', '1', '1', 'cnab240')",
                (a.tenant_id,),
            )
        # While A sees one row in each
        with db.tenant_tx(UUID(a.tenant_id)) as conn:
            for table in BANKING_TABLES:
                assert conn.execute(f"select count(*) from {table}").fetchone() == (1,), table
    finally:
        db.close()


def _as_app(database: PgDatabase, tenant_id: str, query: str, *params: Any) -> None:
    db = _db(database.app_url)
    try:
        with db.tenant_tx(UUID(tenant_id)) as conn:
            conn.execute(query, params)
    finally:
        db.close()


def test_a_boleto_is_registered_in_one_remessa_only_other_instructions_may_repeat(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    ids = _seed(database, shop.tenant_id, _customer(client, shop))
    db = _db(database.app_url)
    try:
        with db.tenant_tx(UUID(shop.tenant_id)) as conn:
            second = conn.execute(
                "insert into remessa_files (tenant_id, agreement_id, sequence, s3_key, sha256) "
                "values (%s, %s, 2, 'bank-files/r2.rem', %s) returning id",
                (shop.tenant_id, ids["agreement"], hashlib.sha256(b"r2").digest()),
            ).fetchone()
        assert second is not None
        # When the registered boleto goes in a second remessa as a registration again
        with pytest.raises(psycopg.errors.UniqueViolation, match="remessa_items_registered_once"):
            _as_app(
                database, shop.tenant_id,
                "insert into remessa_items (tenant_id, remessa_id, boleto_id, instruction) values (%s, %s, "
                "%s, 'register')",
                shop.tenant_id, second[0], ids["boleto"],
            )  # fmt: skip
        # But an explicit instruction (a write-off) is taken
        _as_app(
            database, shop.tenant_id,
            "insert into remessa_items (tenant_id, remessa_id, boleto_id, instruction) values (%s, %s, %s, "
            "'write_off')",
            shop.tenant_id, second[0], ids["boleto"],
        )  # fmt: skip
        # And a second remessa with the same sequence of the agreement is refused
        with pytest.raises(psycopg.errors.UniqueViolation):
            _as_app(
                database, shop.tenant_id,
                "insert into remessa_files (tenant_id, agreement_id, sequence, s3_key, sha256) "
                "values (%s, %s, 2, 'k', %s)",
                shop.tenant_id, ids["agreement"], hashlib.sha256(b"r3").digest(),
            )  # fmt: skip
        # And the same nosso número twice under one agreement too
        with pytest.raises(psycopg.errors.UniqueViolation):
            _boleto(database, shop.tenant_id, ids["agreement"], _customer(client, shop), 1)
    finally:
        db.close()


@pytest.mark.parametrize(
    "change",
    [
        "update statement_matches set difference_cents = 0 where id = %(match)s",
        "update statement_matches set status = 'rejected', confirmed_at = null, confirmed_by = null "
        "where id = %(match)s",
        "update statement_match_items set amount_cents = 1 where match_id = %(match)s",
        "insert into statement_match_items (tenant_id, match_id, bank_file_line_id, amount_cents) "
        "values (%(tenant)s, %(match)s, %(line)s, 1)",
        "delete from statement_match_items where match_id = %(match)s",
        "delete from statement_matches where id = %(match)s",
    ],
)
def test_a_confirmed_match_never_changes(client: Client, database: PgDatabase, change: str) -> None:
    shop = signup(client)
    ids = _seed(database, shop.tenant_id, _customer(client, shop))
    params = {"match": ids["match"], "tenant": shop.tenant_id, "line": ids["line"]}
    before = _sql(database, "select * from statement_matches where id = %s", ids["match"])
    items = _sql(database, "select * from statement_match_items where match_id = %s", ids["match"])
    # When anyone — even the superuser, past row-level security and grants — changes it
    with psycopg.connect(database.superuser_url) as conn, pytest.raises(psycopg.errors.RaiseException) as err:
        conn.execute(change, params)
    # Then the database refuses, and it is as it was
    assert err.value.diag.constraint_name == "statement_match_confirmed"
    assert _sql(database, "select * from statement_matches where id = %s", ids["match"]) == before
    assert _sql(database, "select * from statement_match_items where match_id = %s", ids["match"]) == items


def test_the_app_role_cannot_change_a_confirmed_match_either(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    ids = _seed(database, shop.tenant_id, _customer(client, shop))
    for change, params in (
        ("update statement_matches set difference_cents = 0 where id = %s", (ids["match"],)),
        (
            "insert into statement_match_items (tenant_id, match_id, bank_file_line_id, amount_cents) "
            "values (%s, %s, %s, 1)",
            (shop.tenant_id, ids["match"], ids["line"]),
        ),
    ):
        # When the app, in the shop's own transaction, changes the confirmed match or adds to it
        with pytest.raises(psycopg.errors.RaiseException, match="confirmed reconciliation match"):
            _as_app(database, shop.tenant_id, change, *params)
    # And it has no right to delete one at all
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_app(database, shop.tenant_id, "delete from statement_matches where id = %s", ids["match"])


def test_a_suggested_match_may_still_change_and_be_confirmed(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    ids = _seed(database, shop.tenant_id, _customer(client, shop))
    db = _db(database.app_url)
    try:
        with db.tenant_tx(UUID(shop.tenant_id)) as conn:
            line = conn.execute(
                "insert into statement_lines (tenant_id, bank_file_id, line_number, idempotency_key, "
                "posted_on, "
                "amount_cents) values (%s, %s, 3, 's2', '2030-01-12', 500) returning id",
                (shop.tenant_id, ids["file"]),
            ).fetchone()
            assert line is not None
            match = conn.execute(
                "insert into statement_matches (tenant_id, statement_line_id, method) values (%s, %s, "
                "'automatic') "
                "returning id",
                (shop.tenant_id, line[0]),
            ).fetchone()
            assert match is not None
            conn.execute("update statement_matches set score = 40 where id = %s", (match[0],))
            conn.execute(
                "update statement_matches set status = 'confirmed', confirmed_by = %s, confirmed_at = now() "
                "where id = %s",
                (shop.owner_id, match[0]),
            )
        # And a line is confirmed against one match only
        with pytest.raises(psycopg.errors.UniqueViolation), db.tenant_tx(UUID(shop.tenant_id)) as conn:
            conn.execute(
                "insert into statement_matches (tenant_id, statement_line_id, method, status, confirmed_by, "
                "confirmed_at) values (%s, %s, 'manual', 'confirmed', %s, now())",
                (shop.tenant_id, line[0], shop.owner_id),
            )
    finally:
        db.close()


def test_money_and_formats_are_checked_by_the_database_too(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    ids = _seed(database, shop.tenant_id, _customer(client, shop))
    customer = _customer(client, shop)
    for query in (
        # a boleto of no value, or past the barcode's ten digits
        f"insert into boletos (tenant_id, agreement_id, customer_id, nosso_numero, amount_cents, issued_on, "
        "due_date) "
        f"values ('{shop.tenant_id}', '{ids['agreement']}', '{customer}', 50, 0, '2030-01-01', '2030-01-02')",
        f"insert into boletos (tenant_id, agreement_id, customer_id, nosso_numero, amount_cents, issued_on, "
        "due_date) "
        f"values ('{shop.tenant_id}', '{ids['agreement']}', '{customer}', 51, 10000000000, '2030-01-01', "
        "'2030-01-02')",
        # settled without a payment
        f"update boletos set status = 'settled' where id = '{ids['boleto']}'",
        # a barcode that is not 44 digits
        f"update boletos set barcode = '123' where id = '{ids['boleto']}'",
        # a statement line of zero
        f"insert into statement_lines (tenant_id, bank_file_id, line_number, idempotency_key, posted_on, "
        "amount_cents) "
        f"values ('{shop.tenant_id}', '{ids['file']}', 9, 'z', '2030-01-01', 0)",
        # an unknown bank
        f"update bank_agreements set bank_code = '999' where id = '{ids['agreement']}'",
    ):
        with pytest.raises(psycopg.errors.CheckViolation):
            _as_app(database, shop.tenant_id, query)


# --- backups ---------------------------------------------------------------------------------------------


def test_a_restore_brings_the_banking_rows_back_and_never_moves_the_counters_back(
    client: Client,
    database: PgDatabase,
    backups: Any,  # noqa: F811
) -> None:
    from assistec.services.backup.export import export_bundle
    from assistec.services.backup.restore import permit_restore, restore_bundle

    shop = signup(client)
    tenant_id = UUID(shop.tenant_id)
    ids = _seed(database, shop.tenant_id, _customer(client, shop))
    replaced = [t for t in BANKING_TABLES if t not in ("bank_agreements", "remessa_files")]

    def rows(tables: list[str]) -> dict[str, list[tuple[Any, ...]]]:
        return {
            t: sorted(
                map(tuple, _sql(database, f"select * from {t} where tenant_id = %s", shop.tenant_id)), key=str
            )
            for t in tables
        }

    then = rows(replaced)
    # Given the shop's bundle, and then: nossos números handed out, a remessa sent, a file recorded
    sink = io.BytesIO()
    export_bundle(backups.database, tenant_id, backups.data_keys, sink)
    for _ in range(3):
        _allocate(database, tenant_id, UUID(ids["agreement"]))
    _as_app(
        database, shop.tenant_id,
        "insert into remessa_files (tenant_id, agreement_id, sequence, s3_key, sha256) "
        "values (%s, %s, 2, 'k', %s)",
        shop.tenant_id, ids["agreement"], hashlib.sha256(b"r2").digest(),
    )  # fmt: skip
    _inline(client, shop, b"um arquivo depois do backup")
    kept = rows(["bank_agreements", "remessa_files"])
    assert rows(replaced) != then
    # When the bundle is restored in place (the confirmed match is deleted and written back)
    permit = permit_restore(_db(database.ops_url), tenant_id, "arn:aws:iam::111111111111:user/test")
    sink.seek(0)
    restore_bundle(backups.database, tenant_id, sink, backups.data_keys, permit=permit)
    # Then the boletos, files, lines, statements and matches are as they were in the bundle
    assert rows(replaced) == then
    # And the agreements' counters and the remessas sent are as they are now: no number handed out again
    assert rows(["bank_agreements", "remessa_files"]) == kept
    assert _allocate(database, tenant_id, UUID(ids["agreement"])) == 4
    # And the confirmed match is frozen again outside a restore
    with psycopg.connect(database.superuser_url) as conn, pytest.raises(psycopg.errors.RaiseException):
        conn.execute("delete from statement_matches where id = %s", (ids["match"],))


def test_the_owners_data_export_holds_the_banking_tables(
    client: Client,
    database: PgDatabase,
    backups: Any,  # noqa: F811
) -> None:
    import csv
    import zipfile

    from assistec.services.backup.portability import portability_zip

    shop = signup(client)
    _seed(database, shop.tenant_id, _customer(client, shop))
    sink = io.BytesIO()
    portability_zip(backups.database, UUID(shop.tenant_id), sink)
    archive = zipfile.ZipFile(sink)
    for table in BANKING_TABLES:
        # Then each banking table is there, as CSV and JSON, with the shop's row
        rows = list(csv.reader(io.TextIOWrapper(archive.open(f"{table}.csv"), encoding="utf-8")))
        assert len(rows) == 2, table
        assert len(json.loads(archive.read(f"{table}.json"))) == 1, table
    # And the files' hashes (binary) are left out, their amounts kept
    header = next(csv.reader(io.TextIOWrapper(archive.open("bank_files.csv"), encoding="utf-8")))
    assert "sha256" not in header
    assert "settled_cents" in header
