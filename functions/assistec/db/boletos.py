"""SQL for the shop's boletos (table ``boletos``, migration 0036): issuing, reading, listing. Their
settlement is the bank file intake's (db/banking.settle_boleto)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import fetch_all, fetch_one, fetch_returned, for_update

if TYPE_CHECKING:
    from assistec.db.sql import Conn

# The boletos that can still be paid (and sent): not settled, written off or cancelled.
OPEN_STATUSES = ("issued", "registered")


@dataclass(frozen=True, slots=True)
class BoletoRow:
    id: UUID
    tenant_id: UUID
    agreement_id: UUID
    order_id: UUID | None
    customer_id: UUID
    nosso_numero: int
    amount_cents: int
    issued_on: date
    due_date: date
    interest_monthly_bp: int
    fine_bp: int
    discount_cents: int
    discount_until: date | None
    status: str
    barcode: str | None
    digitable_line: str | None
    paid_cents: int
    fees_cents: int
    paid_on: date | None
    remessa_id: UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
    # What a free boleto charges (migration 0040); null for an order's.
    description: str | None


_COLUMNS = (
    "id, tenant_id, agreement_id, order_id, customer_id, nosso_numero, amount_cents, issued_on, due_date, "
    "interest_monthly_bp, fine_bp, discount_cents, discount_until, status, barcode, digitable_line, "
    "paid_cents, fees_cents, paid_on, remessa_id, version, created_at, updated_at, description"
)
_FIELDS = frozenset(
    {
        "agreement_id", "order_id", "customer_id", "nosso_numero", "amount_cents", "issued_on", "due_date",
        "interest_monthly_bp", "fine_bp", "discount_cents", "discount_until", "barcode", "digitable_line",
        "description",
    }
)  # fmt: skip


def insert(conn: Conn, *, tenant_id: UUID, fields: dict[str, Any]) -> BoletoRow:
    """A new boleto, status ``issued``."""
    assert set(fields) <= _FIELDS, set(fields) - _FIELDS
    columns = ", ".join(["tenant_id", *fields])
    placeholders = ", ".join(["%s"] * (len(fields) + 1))
    return fetch_returned(
        conn,
        BoletoRow,
        f"insert into boletos ({columns}) values ({placeholders}) returning {_COLUMNS}",
        [tenant_id, *fields.values()],
    )


def get(conn: Conn, boleto_id: UUID, *, lock: bool = False) -> BoletoRow | None:
    return fetch_one(
        conn, BoletoRow, f"select {_COLUMNS} from boletos where id = %s{for_update(lock)}", (boleto_id,)
    )


def of_order(conn: Conn, order_id: UUID) -> list[BoletoRow]:
    """The order's boletos, oldest first."""
    return fetch_all(
        conn,
        BoletoRow,
        f"select {_COLUMNS} from boletos where order_id = %s order by created_at, id",
        (order_id,),
    )


def open_cents_of_order(conn: Conn, order_id: UUID) -> int:
    """What the order's open boletos (issued or registered, not yet paid) ask for."""
    row = conn.execute(
        "select coalesce(sum(amount_cents), 0) from boletos where order_id = %s and status = any(%s)",
        (order_id, list(OPEN_STATUSES)),
    ).fetchone()
    assert row is not None
    return int(row[0])


def page(
    conn: Conn,
    *,
    limit: int,
    before: tuple[datetime, UUID] | None = None,
    status: str | None = None,
    order_id: UUID | None = None,
    customer_id: UUID | None = None,
) -> list[BoletoRow]:
    """The shop's boletos, newest first, ``limit`` at most after the cursor's (created_at, id)."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("status", status), ("order_id", order_id), ("customer_id", customer_id)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    if before is not None:
        where.append("(created_at, id) < (%s, %s)")
        params.extend(before)
    clause = f"where {' and '.join(where)} " if where else ""
    return fetch_all(
        conn,
        BoletoRow,
        f"select {_COLUMNS} from boletos {clause}order by created_at desc, id desc limit %s",
        [*params, limit],
    )
