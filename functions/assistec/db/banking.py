"""SQL for banking (migration 0036): the shop's bank agreements and their counters, the uploaded bank
files and their lines. Row types live here (the area's own, kept apart from rows.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import duplicates, fetch_all, fetch_dicts, fetch_one, fetch_returned, for_update

if TYPE_CHECKING:
    from assistec.db.sql import Conn


@dataclass(frozen=True, slots=True)
class AgreementRow:
    id: UUID
    tenant_id: UUID
    name: str
    bank_code: str
    branch: str
    branch_digit: str | None
    account: str
    account_digit: str | None
    wallet: str
    agreement_code: str
    layout: str
    next_nosso_numero: int
    next_remessa_sequence: int
    interest_monthly_bp: int
    fine_bp: int
    discount_cents: int
    discount_days: int
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime
    # Migration 0040: Banco do Brasil's carteira variation, Sicredi's posto (null for other banks).
    wallet_variation: str | None
    posto: str | None


@dataclass(frozen=True, slots=True)
class BankFileRow:
    id: UUID
    tenant_id: UUID
    kind: str
    source: str
    s3_key: str
    filename: str | None
    size_bytes: int
    sha256: bytes
    status: str
    format: str | None
    agreement_id: UUID | None
    error_code: str | None
    error_message: str | None
    line_count: int
    occurrence_count: int
    duplicate_count: int
    unmatched_count: int
    settled_cents: int
    uploaded_by: UUID | None
    received_at: datetime
    processed_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class BankFileLineRow:
    id: UUID
    bank_file_id: UUID
    line_number: int
    idempotency_key: str
    kind: str
    occurrence_code: str | None
    nosso_numero: int | None
    boleto_id: UUID | None
    amount_cents: int
    paid_cents: int
    fee_cents: int
    occurred_on: date | None
    credited_on: date | None
    status: str
    nosso_numero_text: str | None
    due_date: date | None
    reasons: str | None


_AGREEMENT_COLUMNS = (
    "id, tenant_id, name, bank_code, branch, branch_digit, account, account_digit, wallet, agreement_code, "
    "layout, next_nosso_numero, next_remessa_sequence, interest_monthly_bp, fine_bp, discount_cents, "
    "discount_days, active, version, created_at, updated_at, wallet_variation, posto"
)
AGREEMENT_FIELDS = frozenset(
    {
        "name", "bank_code", "branch", "branch_digit", "account", "account_digit", "wallet", "agreement_code",
        "layout", "next_nosso_numero", "next_remessa_sequence", "interest_monthly_bp", "fine_bp",
        "discount_cents", "discount_days", "active", "wallet_variation", "posto",
    }
)  # fmt: skip
# The counters a PATCH may move forward only (a lower value would hand out a number used before).
COUNTERS = ("next_nosso_numero", "next_remessa_sequence")

_FILE_COLUMNS = (
    "id, tenant_id, kind, source, s3_key, filename, size_bytes, sha256, status, format, agreement_id, "
    "error_code, error_message, line_count, occurrence_count, duplicate_count, unmatched_count, "
    "settled_cents, uploaded_by, received_at, processed_at, version"
)
_LINE_COLUMNS = (
    "id, bank_file_id, line_number, idempotency_key, kind, occurrence_code, nosso_numero, boleto_id, "
    "amount_cents, paid_cents, fee_cents, occurred_on, credited_on, status, nosso_numero_text, due_date, "
    "reasons"
)


# --- agreements ---------------------------------------------------------------------------------------


def insert_agreement(conn: Conn, *, tenant_id: UUID, fields: dict[str, Any]) -> AgreementRow:
    """A new agreement; ``DuplicateError`` when the shop has it already (same bank, agreement code,
    wallet, branch and account)."""
    assert set(fields) <= AGREEMENT_FIELDS, set(fields) - AGREEMENT_FIELDS
    columns = ", ".join(["tenant_id", *fields])
    placeholders = ", ".join(["%s"] * (len(fields) + 1))
    with duplicates():
        return fetch_returned(
            conn,
            AgreementRow,
            f"insert into bank_agreements ({columns}) values ({placeholders}) returning {_AGREEMENT_COLUMNS}",
            [tenant_id, *fields.values()],
        )


def get_agreement(conn: Conn, agreement_id: UUID, *, lock: bool = False) -> AgreementRow | None:
    return fetch_one(
        conn,
        AgreementRow,
        f"select {_AGREEMENT_COLUMNS} from bank_agreements where id = %s{for_update(lock)}",
        (agreement_id,),
    )


def list_agreements(conn: Conn) -> list[AgreementRow]:
    return fetch_all(
        conn, AgreementRow, f"select {_AGREEMENT_COLUMNS} from bank_agreements order by created_at, id"
    )


def update_agreement(
    conn: Conn, agreement_id: UUID, *, expected_version: int, changes: dict[str, Any]
) -> AgreementRow | None:
    """Apply ``changes`` at ``expected_version``; None when the row moved on. The counters are never
    moved backwards: ``greatest`` keeps the current value when an allocation ran past the one asked
    for (the service refuses a lower one first; this holds against a race with an allocation)."""
    assert set(changes) <= AGREEMENT_FIELDS, set(changes) - AGREEMENT_FIELDS
    sets = ", ".join(
        f"{column} = greatest({column}, %s)" if column in COUNTERS else f"{column} = %s" for column in changes
    )
    with duplicates():
        return fetch_one(
            conn,
            AgreementRow,
            f"update bank_agreements set {sets}, version = version + 1, updated_at = now() "
            f"where id = %s and version = %s returning {_AGREEMENT_COLUMNS}",
            [*changes.values(), agreement_id, expected_version],
        )


def allocate_nosso_numero(conn: Conn, agreement_id: UUID, count: int = 1) -> int | None:
    """Take ``count`` consecutive nossos números of an active agreement; the first of them, None when
    there is no such active agreement. One UPDATE ... RETURNING: the row's lock serializes concurrent
    allocations until their transactions end, and a rolled-back one gives its numbers back, so the
    committed numbers have neither duplicates nor gaps. The agreement's version is left alone: an
    allocation is not an edit, and must not turn a person's PATCH stale."""
    assert count >= 1
    row = conn.execute(
        "update bank_agreements set next_nosso_numero = next_nosso_numero + %s "
        "where id = %s and active returning next_nosso_numero - %s",
        (count, agreement_id, count),
    ).fetchone()
    return None if row is None else int(row[0])


def allocate_remessa_sequence(conn: Conn, agreement_id: UUID) -> int | None:
    """Take the agreement's next remessa sequence (as ``allocate_nosso_numero``)."""
    row = conn.execute(
        "update bank_agreements set next_remessa_sequence = next_remessa_sequence + 1 "
        "where id = %s and active returning next_remessa_sequence - 1",
        (agreement_id,),
    ).fetchone()
    return None if row is None else int(row[0])


def agreements_of_bank(conn: Conn, bank_code: str) -> list[AgreementRow]:
    """The shop's agreements with that bank (a retorno names its bank in its header; the intake then
    compares the convênio, or branch and account, without the layouts' zero padding)."""
    return fetch_all(
        conn,
        AgreementRow,
        f"select {_AGREEMENT_COLUMNS} from bank_agreements where bank_code = %s order by created_at, id",
        (bank_code,),
    )


# --- bank files -----------------------------------------------------------------------------------------


def insert_file(conn: Conn, *, tenant_id: UUID, values: dict[str, Any]) -> BankFileRow | None:
    """Record a received file once per (shop, SHA-256): None when that content is recorded already
    (by an earlier upload or a concurrent one: the unique key decides, without an error)."""
    columns = ", ".join(["tenant_id", *values])
    placeholders = ", ".join(["%s"] * (len(values) + 1))
    return fetch_one(
        conn,
        BankFileRow,
        f"insert into bank_files ({columns}) values ({placeholders}) "
        f"on conflict (tenant_id, sha256) do nothing returning {_FILE_COLUMNS}",
        [tenant_id, *values.values()],
    )


def file_by_sha256(conn: Conn, sha256: bytes) -> BankFileRow | None:
    return fetch_one(
        conn, BankFileRow, f"select {_FILE_COLUMNS} from bank_files where sha256 = %s", (sha256,)
    )


def get_file(conn: Conn, file_id: UUID) -> BankFileRow | None:
    return fetch_one(conn, BankFileRow, f"select {_FILE_COLUMNS} from bank_files where id = %s", (file_id,))


def pending_files(conn: Conn, *, limit: int) -> list[BankFileRow]:
    """The shop's files stored before a parser could read them, oldest first."""
    return fetch_all(
        conn,
        BankFileRow,
        f"select {_FILE_COLUMNS} from bank_files where status = 'pending_parser' "
        "order by received_at, id limit %s",
        (limit,),
    )


def lock_pending_file(conn: Conn, file_id: UUID) -> BankFileRow | None:
    """The file, locked, if it is still ``pending_parser`` (None once another pass has read it)."""
    return fetch_one(
        conn,
        BankFileRow,
        f"select {_FILE_COLUMNS} from bank_files where id = %s and status = 'pending_parser' for update",
        (file_id,),
    )


def list_files(conn: Conn, *, limit: int, kind: str | None = None) -> list[BankFileRow]:
    where = "where kind = %s " if kind else ""
    params: list[Any] = [kind] if kind else []
    return fetch_all(
        conn,
        BankFileRow,
        f"select {_FILE_COLUMNS} from bank_files {where}order by received_at desc, id desc limit %s",
        [*params, limit],
    )


def finish_file(conn: Conn, file_id: UUID, *, values: dict[str, Any]) -> BankFileRow:
    """Set a file's outcome (status, format, agreement, error, counts) once its lines are in."""
    sets = ", ".join(f"{column} = %s" for column in values)
    return fetch_returned(
        conn,
        BankFileRow,
        f"update bank_files set {sets}, processed_at = now(), version = version + 1 where id = %s "
        f"returning {_FILE_COLUMNS}",
        [*values.values(), file_id],
    )


def boletos_by_nosso_numero(conn: Conn, agreement_id: UUID, numbers: list[int]) -> dict[int, UUID]:
    """The agreement's boletos among ``numbers``: nosso número → boleto id."""
    if not numbers:
        return {}
    rows = conn.execute(
        "select nosso_numero, id from boletos where agreement_id = %s and nosso_numero = any(%s)",
        (agreement_id, numbers),
    ).fetchall()
    return {int(n): boleto_id for n, boleto_id in rows}


# The occurrences' columns and their types, in the order insert_occurrences takes them.
_OCCURRENCE_TYPES = {
    "line_number": "integer", "idempotency_key": "text", "kind": "text", "occurrence_code": "text",
    "nosso_numero": "bigint", "boleto_id": "uuid", "amount_cents": "bigint", "paid_cents": "bigint",
    "fee_cents": "bigint", "interest_cents": "bigint", "discount_cents": "bigint", "occurred_on": "date",
    "credited_on": "date", "status": "text", "nosso_numero_text": "text", "due_date": "date",
    "reasons": "text",
}  # fmt: skip
_STATEMENT_TYPES = {
    "line_number": "integer", "idempotency_key": "text", "posted_on": "date", "amount_cents": "bigint",
    "description": "text", "reference": "text",
}  # fmt: skip


def _insert_once(
    conn: Conn,
    table: str,
    types: dict[str, str],
    *,
    tenant_id: UUID,
    bank_file_id: UUID,
    rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Insert ``rows`` in one statement (one array per column, unnested), each once per idempotency key
    of the shop: the rows inserted now, as dicts (a key known before, or twice in ``rows``, is
    skipped)."""
    if not rows:
        return []
    columns = list(types)
    arrays = ", ".join(f"%s::{types[c]}[]" for c in columns)
    query = (
        f"insert into {table} (tenant_id, bank_file_id, {', '.join(columns)}) "
        f"select %s, %s, * from unnest({arrays}) "
        f"on conflict (tenant_id, idempotency_key) do nothing returning {', '.join(columns)}"
    )
    params = [tenant_id, bank_file_id, *([row[c] for row in rows] for c in columns)]
    return fetch_dicts(conn, query, params)


def insert_occurrences(
    conn: Conn, *, tenant_id: UUID, bank_file_id: UUID, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Record a retorno's occurrences once per idempotency key; the ones recorded now."""
    return _insert_once(
        conn, "bank_file_lines", _OCCURRENCE_TYPES, tenant_id=tenant_id, bank_file_id=bank_file_id, rows=rows
    )


def settle_boleto(
    conn: Conn, boleto_id: UUID, *, paid_cents: int, fees_cents: int, paid_on: date
) -> tuple[UUID | None, int] | None:
    """Mark an open boleto (issued or registered) settled: its order id and amount; None when it is
    not open (settled already — by this occurrence in another file, by the bank's repeat of it under
    another code, or by a concurrent delivery: the update waits for that one's row lock and then
    finds it settled —, written off or cancelled)."""
    row = conn.execute(
        "update boletos set status = 'settled', paid_cents = %s, fees_cents = %s, paid_on = %s, "
        "version = version + 1, updated_at = now() "
        "where id = %s and status in ('issued', 'registered') returning order_id, amount_cents",
        (paid_cents, fees_cents, paid_on, boleto_id),
    ).fetchone()
    return None if row is None else (row[0], int(row[1]))


def register_boleto(conn: Conn, boleto_id: UUID) -> bool:
    """An issued boleto the bank confirmed it has: registered. False when it is not ``issued``
    (registered already, settled, written off, cancelled)."""
    cursor = conn.execute(
        "update boletos set status = 'registered', version = version + 1, updated_at = now() "
        "where id = %s and status = 'issued'",
        (boleto_id,),
    )
    return cursor.rowcount == 1


def write_off_boleto(conn: Conn, boleto_id: UUID) -> bool:
    """An open boleto (issued or registered) the bank wrote off: written_off, and its pending
    instructions void (nothing left to ask the bank). False when it is not open (settled, written
    off, cancelled)."""
    cursor = conn.execute(
        "update boletos set status = 'written_off', version = version + 1, updated_at = now() "
        "where id = %s and status in ('issued', 'registered')",
        (boleto_id,),
    )
    if cursor.rowcount != 1:
        return False
    conn.execute(
        "update boleto_instructions set status = 'void', updated_at = now() "
        "where boleto_id = %s and status = 'pending'",
        (boleto_id,),
    )
    return True


@dataclass(frozen=True, slots=True)
class OpenBoletoRow:
    id: UUID
    status: str
    nosso_numero: int
    amount_cents: int
    issued_on: date
    due_date: date
    discount_until: date | None
    order_id: UUID | None


def lock_boleto(conn: Conn, boleto_id: UUID) -> OpenBoletoRow | None:
    return fetch_one(
        conn,
        OpenBoletoRow,
        "select id, status, nosso_numero, amount_cents, issued_on, due_date, discount_until, order_id "
        "from boletos where id = %s for update",
        (boleto_id,),
    )


def change_due_date(
    conn: Conn, boleto_id: UUID, *, due_date: date, barcode: str, digitable_line: str
) -> bool:
    """Move an open boleto's due date (the bank confirmed it), with its new barcode and linha
    digitável; a discount's deadline past the new date comes back to it. A pending due-date change
    to that same date is void (done); one to another date stays for the next remessa. False when
    the boleto is not open."""
    cursor = conn.execute(
        "update boletos set due_date = %s, barcode = %s, digitable_line = %s, "
        "discount_until = least(discount_until, %s), version = version + 1, updated_at = now() "
        "where id = %s and status in ('issued', 'registered')",
        (due_date, barcode, digitable_line, due_date, boleto_id),
    )
    if cursor.rowcount != 1:
        return False
    conn.execute(
        "update boleto_instructions set status = 'void', updated_at = now() "
        "where boleto_id = %s and instruction = 'change_due_date' and status = 'pending' "
        "and due_date = %s",
        (boleto_id, due_date),
    )
    return True


def mark_lines_applied(conn: Conn, keys: list[str]) -> None:
    """The occurrences (by idempotency key) whose effect on their boleto is applied."""
    if keys:
        conn.execute(
            "update bank_file_lines set status = 'applied' "
            "where idempotency_key = any(%s) and status = 'pending'",
            (keys,),
        )


def insert_statement_lines(
    conn: Conn, *, tenant_id: UUID, bank_file_id: UUID, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Record a statement's lines once per idempotency key; the ones recorded now."""
    return _insert_once(
        conn, "statement_lines", _STATEMENT_TYPES, tenant_id=tenant_id, bank_file_id=bank_file_id, rows=rows
    )


def file_lines(conn: Conn, file_id: UUID) -> list[BankFileLineRow]:
    return fetch_all(
        conn,
        BankFileLineRow,
        f"select {_LINE_COLUMNS} from bank_file_lines where bank_file_id = %s order by line_number, id",
        (file_id,),
    )


def unmatched_lines(conn: Conn, *, limit: int) -> list[BankFileLineRow]:
    """The retorno occurrences no boleto of the shop matched, oldest first: a person's list."""
    return fetch_all(
        conn,
        BankFileLineRow,
        f"select {_LINE_COLUMNS} from bank_file_lines where status = 'unmatched' "
        "order by created_at, id limit %s",
        (limit,),
    )
