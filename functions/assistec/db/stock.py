"""SQL for parts, stock movements and reservations (RLS scopes every query).

Quantities only change inside ``update ... where id = %s`` statements on a row locked first, and the
table's CHECKs (0 <= reserved <= quantity) refuse anything that would go negative: stock cannot
go below zero even when requests race.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.rows import MovementRow, PartRow, ReservationRow
from assistec.db.sql import fetch_all, fetch_one, fetch_returned, for_update, insert_row, versioned_update

if TYPE_CHECKING:
    from assistec.db.sql import Conn

_COLUMNS = (
    "id, sku, name, brand, model, quantity, reserved, min_quantity, cost_cents, price_cents, version, "
    "created_at, updated_at"
)
EDITABLE = {"sku", "name", "brand", "model", "min_quantity", "cost_cents", "price_cents"}
_TENANT = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"


def insert_part(conn: Conn, *, tenant_id: UUID, fields: dict[str, Any]) -> PartRow:
    allowed = EDITABLE | {"quantity"}
    assert set(fields) <= allowed, set(fields) - allowed
    values = {"tenant_id": tenant_id, **fields}
    return insert_row(conn, table="parts", values=values, columns=_COLUMNS, row=PartRow)


def get_part(conn: Conn, part_id: UUID, *, lock: bool = False) -> PartRow | None:
    return fetch_one(
        conn, PartRow, f"select {_COLUMNS} from parts where id = %s" + for_update(lock), (part_id,)
    )


def list_parts(
    conn: Conn, *, limit: int, after: tuple[datetime, UUID] | None, q: str | None, low_stock: bool = False
) -> list[PartRow]:
    clauses = [_TENANT]
    params: list[Any] = []
    if after is not None:
        clauses.append("(created_at, id) > (%s, %s)")
        params.extend(after)
    if q:
        for word in q.split()[:5]:
            clauses.append("search_text like '%%' || lower(immutable_unaccent(%s)) || '%%'")
            params.append(word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    if low_stock:
        clauses.append("quantity - reserved <= min_quantity")
    params.append(limit)
    return fetch_all(
        conn,
        PartRow,
        f"select {_COLUMNS} from parts where {' and '.join(clauses)} order by created_at, id limit %s",
        params,
    )


def search(conn: Conn, q: str, *, limit: int) -> list[PartRow]:
    """Best matches first (trigram similarity over name, brand, model and SKU), in stock first."""
    clauses = [_TENANT]
    params: list[Any] = []
    for word in q.split()[:5]:
        clauses.append("search_text like '%%' || lower(immutable_unaccent(%s)) || '%%'")
        params.append(word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    return fetch_all(
        conn,
        PartRow,
        f"select {_COLUMNS} from parts where {' and '.join(clauses)} "
        "order by (quantity - reserved > 0) desc, "
        "similarity(search_text, lower(immutable_unaccent(%s))) desc, name limit %s",
        [*params, q, limit],
    )


def update_part(
    conn: Conn, part_id: UUID, *, expected_version: int, changes: dict[str, Any]
) -> PartRow | None:
    return versioned_update(
        conn,
        table="parts",
        columns=_COLUMNS,
        row=PartRow,
        allowed=EDITABLE,
        row_id=part_id,
        expected_version=expected_version,
        changes=changes,
    )


def change_stock(conn: Conn, part_id: UUID, *, quantity_delta: int, reserved_delta: int) -> PartRow:
    """Move the shelf and reservation counts of a part the caller locked and checked."""
    return fetch_returned(
        conn,
        PartRow,
        "update parts set quantity = quantity + %s, reserved = reserved + %s, updated_at = now() "
        f"where id = %s returning {_COLUMNS}",
        (quantity_delta, reserved_delta, part_id),
    )


def add_movement(
    conn: Conn,
    *,
    tenant_id: UUID,
    part_id: UUID,
    kind: str,
    quantity: int,
    order_id: UUID | None = None,
    note: str | None = None,
    actor_user_id: UUID | None = None,
) -> None:
    conn.execute(
        "insert into stock_movements (tenant_id, part_id, kind, quantity, order_id, note, actor_user_id) "
        "values (%s, %s, %s, %s, %s, %s, %s)",
        (tenant_id, part_id, kind, quantity, order_id, note, actor_user_id),
    )


def movements(conn: Conn, part_id: UUID, *, limit: int) -> list[MovementRow]:
    return fetch_all(
        conn,
        MovementRow,
        "select id, part_id, kind, quantity, order_id, note, actor_user_id, at from stock_movements "
        "where part_id = %s order by at desc, id desc limit %s",
        (part_id, limit),
    )


_RESERVATION = "id, part_id, quote_id, needed, reserved, state"


def add_reservation(
    conn: Conn, *, tenant_id: UUID, order_id: UUID, quote_id: UUID, part_id: UUID, needed: int, reserved: int
) -> None:
    conn.execute(
        "insert into reservations (tenant_id, order_id, quote_id, part_id, needed, reserved) "
        "values (%s, %s, %s, %s, %s, %s)",
        (tenant_id, order_id, quote_id, part_id, needed, reserved),
    )


def open_reservations(conn: Conn, order_id: UUID) -> list[ReservationRow]:
    return fetch_all(
        conn,
        ReservationRow,
        f"select {_RESERVATION} from reservations where order_id = %s and state = 'open' "
        "order by part_id for update",
        (order_id,),
    )


def update_reservation(conn: Conn, reservation_id: UUID, *, reserved: int, state: str) -> None:
    conn.execute(
        "update reservations set reserved = %s, state = %s, updated_at = now() where id = %s",
        (reserved, state, reservation_id),
    )
