"""The bank file intake's recording step (issue 15 §4): a retorno of N occurrences, already parsed
(a stand-in parser returns them: the CNAB parsers' own throughput is theirs to measure), is stored,
hashed, matched to the agreement's boletos and recorded once per line in one transaction through the
pooler, as the worker does. Then the same file again (a duplicate: nothing written), and a second file
repeating every line (each line looked up and skipped). Figures are reported, never asserted."""

from __future__ import annotations

import time
import uuid
from datetime import date
from typing import Any

import psycopg

from assistec.db.connection import Database
from assistec.services.banking.intake import BankFileIntake
from assistec.services.banking.parsing import Occurrence, ParsedFile
from assistec.services.unit_of_work import UnitsOfWork
from assistec.settings import DatabaseSettings
from tests.bench.conftest import report
from tests.conftest import PgDatabase

SIZES = (1_000, 10_000, 50_000)


class _Store:
    def get(self, key: str, *, max_bytes: int) -> bytes | None:
        return self.data.get(key)

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}


def _shop(database: PgDatabase) -> tuple[uuid.UUID, uuid.UUID]:
    tenant, agreement = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "insert into tenants (id, name, cnpj, email, phone) "
            "values (%s, 'Banco Bench', %s, %s, '+5511987654321')",
            (tenant, str(tenant.int)[:14], f"{tenant.hex}@exemplo.com.br"),
        )
        conn.execute(
            "insert into bank_agreements (id, tenant_id, name, bank_code, branch, account, account_digit, "
            "wallet, agreement_code, layout) "
            "values (%s, %s, 'Itaú', '341', '0057', '12345', '7', '109', '12345', 'cnab400')",
            (agreement, tenant),
        )
    return tenant, agreement


def test_recording_a_parsed_retorno(database: PgDatabase) -> None:
    rows: list[dict[str, Any]] = []
    for size in SIZES:
        tenant, _ = _shop(database)
        occurrences = tuple(
            Occurrence(
                line_number=n + 2,
                idempotency_key=f"341:12345:{n + 1}:06:{size}",
                kind="settled",
                occurrence_code="06",
                nosso_numero=n + 1,
                amount_cents=15000,
                paid_cents=15000,
                occurred_on=date(2030, 1, 9),
            )
            for n in range(size)
        )

        def parser(kind: str, data: bytes, occurrences: tuple[Occurrence, ...] = occurrences) -> ParsedFile:
            return ParsedFile(
                format="cnab400", line_count=len(occurrences) + 2, bank_code="341", agreement_code="12345",
                occurrences=occurrences,
            )  # fmt: skip

        db = Database(
            DatabaseSettings(database_url=database.app_url, db_secret_id=None, db_sslmode="disable")
        )
        store = _Store()
        intake = BankFileIntake(UnitsOfWork(db), lambda store=store: store, parser)  # type: ignore[misc]
        user = uuid.uuid4()
        timings = {}
        for label, content in (
            ("new", b"a" * 400 * size),
            ("same file", b"a" * 400 * size),
            ("lines again", b"b"),
        ):
            key = f"bank-files/{tenant}/retorno/{user}/{uuid.uuid4()}/r.ret"
            store.data[key] = content
            start = time.perf_counter()
            intake.process_object(key)
            timings[label] = time.perf_counter() - start
        db.close()
        with psycopg.connect(database.superuser_url) as conn:
            recorded = conn.execute(
                "select count(*) from bank_file_lines where tenant_id = %s", (tenant,)
            ).fetchone()
        assert recorded == (size,)
        rows.append(
            {
                "occurrences": size,
                "new_s": f"{timings['new']:.2f}",
                "lines_per_s": f"{size / timings['new']:,.0f}",
                "same_file_s": f"{timings['same file']:.3f}",
                "lines_again_s": f"{timings['lines again']:.2f}",
            }
        )
    report("bank_file_intake", rows)


SETTLED_SIZES = (100, 1_000, 5_000)


def test_recording_a_retorno_that_settles_known_boletos(database: PgDatabase) -> None:
    """A retorno whose every occurrence settles an open boleto of the agreement (free charges, no
    order): each settlement is applied in the file's transaction (boleto update, audit row, outbox
    event), so this is the intake's slowest case per line."""
    rows: list[dict[str, Any]] = []
    for size in SETTLED_SIZES:
        tenant, agreement = _shop(database)
        with psycopg.connect(database.superuser_url) as conn:
            customer = conn.execute(
                "insert into customers (tenant_id, name, phone) values (%s, 'Ana Souza', '+5511987654321') "
                "returning id",
                (tenant,),
            ).fetchone()
            assert customer is not None
            conn.execute(
                "insert into boletos (tenant_id, agreement_id, customer_id, nosso_numero, amount_cents, "
                "issued_on, due_date, status) select %s, %s, %s, n, 15000, '2030-01-02', '2030-01-10', "
                "'registered' from generate_series(1, %s) n",
                (tenant, agreement, customer[0], size),
            )
        occurrences = tuple(
            Occurrence(
                line_number=n + 2,
                idempotency_key=f"341:12345:{n + 1}:06:settle{size}",
                kind="settled",
                occurrence_code="06",
                nosso_numero=n + 1,
                amount_cents=15000,
                paid_cents=15000,
                occurred_on=date(2030, 1, 9),
            )
            for n in range(size)
        )

        def parser(kind: str, data: bytes, occurrences: tuple[Occurrence, ...] = occurrences) -> ParsedFile:
            return ParsedFile(
                format="cnab400", line_count=len(occurrences) + 2, bank_code="341", agreement_code="12345",
                occurrences=occurrences,
            )  # fmt: skip

        db = Database(
            DatabaseSettings(database_url=database.app_url, db_secret_id=None, db_sslmode="disable")
        )
        store = _Store()
        intake = BankFileIntake(UnitsOfWork(db), lambda store=store: store, parser)  # type: ignore[misc]
        key = f"bank-files/{tenant}/retorno/{uuid.uuid4()}/{uuid.uuid4()}/r.ret"
        store.data[key] = b"s" * 400 * size
        start = time.perf_counter()
        intake.process_object(key)
        elapsed = time.perf_counter() - start
        db.close()
        with psycopg.connect(database.superuser_url) as conn:
            settled = conn.execute(
                "select count(*) from boletos where tenant_id = %s and status = 'settled'", (tenant,)
            ).fetchone()
        assert settled == (size,)
        rows.append(
            {"settlements": size, "seconds": f"{elapsed:.2f}", "settlements_per_s": f"{size / elapsed:,.0f}"}
        )
    report("bank_file_settlements", rows)
