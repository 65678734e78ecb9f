"""SQL for the remessa files (migrations 0036 and 0037): what an agreement's next remessa takes (the
boletos waiting to be registered, the instructions waiting to be sent), the file's record and its
items, and the instructions asked for boletos the bank already has. Row types live here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import fetch_all, fetch_one, fetch_returned, for_update

if TYPE_CHECKING:
    from assistec.db.sql import Conn


@dataclass(frozen=True, slots=True)
class RemessaRow:
    id: UUID
    tenant_id: UUID
    agreement_id: UUID
    sequence: int
    s3_key: str
    sha256: bytes
    item_count: int
    total_cents: int
    created_by: UUID | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RemessaItemRow:
    boleto_id: UUID
    nosso_numero: int
    instruction: str
    line_number: int | None
    amount_cents: int
    due_date: date | None  # the new due date of a due-date change; the boleto's for the others


@dataclass(frozen=True, slots=True)
class TitleRow:
    """A boleto as a remessa line needs it: its values, its payer (the customer), and the instruction
    (``register`` for a boleto waiting to be registered; else the pending instruction's)."""

    boleto_id: UUID
    instruction_id: UUID | None
    instruction: str
    new_due_date: date | None
    nosso_numero: int
    amount_cents: int
    issued_on: date
    due_date: date
    interest_monthly_bp: int
    fine_bp: int
    discount_cents: int
    discount_until: date | None
    status: str
    order_id: UUID | None
    customer_name: str
    customer_document: str | None
    customer_address: Any


@dataclass(frozen=True, slots=True)
class BoletoStateRow:
    id: UUID
    agreement_id: UUID
    status: str
    remessa_id: UUID | None
    issued_on: date
    due_date: date
    amount_cents: int
    nosso_numero: int
    version: int


@dataclass(frozen=True, slots=True)
class InstructionRow:
    id: UUID
    boleto_id: UUID
    agreement_id: UUID
    instruction: str
    due_date: date | None
    status: str
    remessa_id: UUID | None
    requested_by: UUID | None
    created_at: datetime
    updated_at: datetime


_REMESSA_COLUMNS = (
    "id, tenant_id, agreement_id, sequence, s3_key, sha256, item_count, total_cents, created_by, created_at"
)
_INSTRUCTION_COLUMNS = (
    "id, boleto_id, agreement_id, instruction, due_date, status, remessa_id, requested_by, created_at, "
    "updated_at"
)
_TITLE_COLUMNS = (
    "b.nosso_numero, b.amount_cents, b.issued_on, b.due_date, b.interest_monthly_bp, b.fine_bp, "
    "b.discount_cents, b.discount_until, b.status, b.order_id, c.name as customer_name, "
    "c.document as customer_document, c.address as customer_address"
)


# --- what the next remessa takes ------------------------------------------------------------------------


def waiting_boletos(conn: Conn, agreement_id: UUID) -> list[TitleRow]:
    """The agreement's boletos waiting to be registered (issued, in no remessa), oldest nosso número
    first, locked: a concurrent cancellation waits for this remessa and then finds them sent."""
    return fetch_all(
        conn,
        TitleRow,
        f"select b.id as boleto_id, null::uuid as instruction_id, 'register' as instruction, "
        f"null::date as new_due_date, {_TITLE_COLUMNS} "
        "from boletos b join customers c on c.tenant_id = b.tenant_id and c.id = b.customer_id "
        "where b.agreement_id = %s and b.status = 'issued' and b.remessa_id is null "
        "order by b.nosso_numero for update of b",
        (agreement_id,),
    )


def pending_instructions(conn: Conn, agreement_id: UUID) -> list[TitleRow]:
    """The agreement's instructions waiting for a remessa, with their boletos (whatever their status:
    the caller voids those of closed boletos), locked."""
    return fetch_all(
        conn,
        TitleRow,
        f"select b.id as boleto_id, i.id as instruction_id, i.instruction, i.due_date as new_due_date, "
        f"{_TITLE_COLUMNS} "
        "from boleto_instructions i "
        "join boletos b on b.tenant_id = i.tenant_id and b.id = i.boleto_id "
        "join customers c on c.tenant_id = b.tenant_id and c.id = b.customer_id "
        "where i.agreement_id = %s and i.status = 'pending' "
        "order by b.nosso_numero, i.instruction for update of i, b",
        (agreement_id,),
    )


def insert_remessa(conn: Conn, *, tenant_id: UUID, values: dict[str, Any]) -> RemessaRow:
    columns = ", ".join(["tenant_id", *values])
    placeholders = ", ".join(["%s"] * (len(values) + 1))
    return fetch_returned(
        conn,
        RemessaRow,
        f"insert into remessa_files ({columns}) values ({placeholders}) returning {_REMESSA_COLUMNS}",
        [tenant_id, *values.values()],
    )


def insert_items(conn: Conn, *, tenant_id: UUID, remessa_id: UUID, rows: list[tuple[UUID, str, int]]) -> None:
    """The remessa's lines: (boleto, instruction, line number of its first record). A boleto registered
    by an earlier remessa raises the unique violation of ``remessa_items_registered_once``."""
    conn.execute(
        "insert into remessa_items (tenant_id, remessa_id, boleto_id, instruction, line_number) "
        "select %s, %s, * from unnest(%s::uuid[], %s::text[], %s::integer[])",
        (
            tenant_id,
            remessa_id,
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
        ),
    )


def mark_registered(conn: Conn, remessa_id: UUID, boleto_ids: list[UUID]) -> int:
    """The boletos this remessa registers: their remessa (they stay ``issued`` until the bank's retorno
    confirms the entry). How many were still waiting."""
    if not boleto_ids:
        return 0
    cursor = conn.execute(
        "update boletos set remessa_id = %s, version = version + 1, updated_at = now() "
        "where id = any(%s) and status = 'issued' and remessa_id is null",
        (remessa_id, boleto_ids),
    )
    return cursor.rowcount


def mark_instructions(conn: Conn, ids: list[UUID], *, status: str, remessa_id: UUID | None = None) -> None:
    if ids:
        conn.execute(
            "update boleto_instructions set status = %s, remessa_id = %s, updated_at = now() "
            "where id = any(%s) and status = 'pending'",
            (status, remessa_id, ids),
        )


# --- remessas -------------------------------------------------------------------------------------------


def get_remessa(conn: Conn, remessa_id: UUID) -> RemessaRow | None:
    return fetch_one(
        conn, RemessaRow, f"select {_REMESSA_COLUMNS} from remessa_files where id = %s", (remessa_id,)
    )


def list_remessas(
    conn: Conn, agreement_id: UUID, *, limit: int, before_sequence: int | None = None
) -> list[RemessaRow]:
    """The agreement's remessas, newest (highest sequence) first, ``limit`` of them after the cursor."""
    where = " and sequence < %s" if before_sequence is not None else ""
    params: list[Any] = [agreement_id, *([before_sequence] if before_sequence is not None else []), limit]
    return fetch_all(
        conn,
        RemessaRow,
        f"select {_REMESSA_COLUMNS} from remessa_files where agreement_id = %s{where} "
        "order by sequence desc limit %s",
        params,
    )


def remessa_items(conn: Conn, remessa_id: UUID) -> list[RemessaItemRow]:
    return fetch_all(
        conn,
        RemessaItemRow,
        "select it.boleto_id, b.nosso_numero, it.instruction, it.line_number, b.amount_cents, "
        "coalesce(i.due_date, b.due_date) as due_date "
        "from remessa_items it join boletos b on b.tenant_id = it.tenant_id and b.id = it.boleto_id "
        "left join boleto_instructions i on i.tenant_id = it.tenant_id and i.remessa_id = it.remessa_id "
        "and i.boleto_id = it.boleto_id and i.instruction = it.instruction "
        "where it.remessa_id = %s order by it.line_number, it.boleto_id",
        (remessa_id,),
    )


# --- instructions -----------------------------------------------------------------------------------------


def get_boleto(conn: Conn, boleto_id: UUID, *, lock: bool = False) -> BoletoStateRow | None:
    return fetch_one(
        conn,
        BoletoStateRow,
        "select id, agreement_id, status, remessa_id, issued_on, due_date, amount_cents, nosso_numero, "
        f"version from boletos where id = %s{for_update(lock)}",
        (boleto_id,),
    )


def cancel_boleto(conn: Conn, boleto_id: UUID) -> bool:
    """Cancel a boleto no remessa has sent (the bank never saw it); False when one has."""
    cursor = conn.execute(
        "update boletos set status = 'cancelled', version = version + 1, updated_at = now() "
        "where id = %s and status = 'issued' and remessa_id is null",
        (boleto_id,),
    )
    return cursor.rowcount == 1


def instructions_of(conn: Conn, boleto_id: UUID) -> list[InstructionRow]:
    return fetch_all(
        conn,
        InstructionRow,
        f"select {_INSTRUCTION_COLUMNS} from boleto_instructions where boleto_id = %s "
        "order by created_at, id",
        (boleto_id,),
    )


def upsert_pending(
    conn: Conn,
    *,
    tenant_id: UUID,
    agreement_id: UUID,
    boleto_id: UUID,
    instruction: str,
    due_date: date | None,
    requested_by: UUID | None,
) -> InstructionRow:
    """The boleto's pending instruction of that kind: a new one, or the waiting one with the new date
    (a second due-date change before the remessa replaces the first)."""
    return fetch_returned(
        conn,
        InstructionRow,
        "insert into boleto_instructions (tenant_id, agreement_id, boleto_id, instruction, due_date, "
        "requested_by) values (%s, %s, %s, %s, %s, %s) "
        "on conflict (tenant_id, boleto_id, instruction) where status = 'pending' "
        "do update set due_date = excluded.due_date, requested_by = excluded.requested_by, "
        "updated_at = now() "
        f"returning {_INSTRUCTION_COLUMNS}",
        (tenant_id, agreement_id, boleto_id, instruction, due_date, requested_by),
    )


def void_pending(conn: Conn, boleto_id: UUID, instruction: str) -> None:
    conn.execute(
        "update boleto_instructions set status = 'void', updated_at = now() "
        "where boleto_id = %s and instruction = %s and status = 'pending'",
        (boleto_id, instruction),
    )
