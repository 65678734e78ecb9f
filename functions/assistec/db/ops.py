"""SQL for the ops console: finding shops across the platform and the operator's audit log, through
the SECURITY DEFINER functions of the ops migration (the app role has no privilege on those tables
itself), and one shop's activity read inside that shop's own transaction (row-level security)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import fetch_all, fetch_dicts

if TYPE_CHECKING:
    from assistec.db.sql import Conn


@dataclass(frozen=True, slots=True)
class ShopListRow:
    id: UUID
    name: str
    cnpj: str
    email: str
    phone: str
    billing_status: str
    plan_code: str | None
    trial_ends_on: date | None
    next_due_date: date | None
    cancel_on: date | None
    provisioned: bool
    provision_error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OpsAuditRow:
    id: int
    at: datetime
    finished_at: datetime | None
    operator: str
    command: str
    args: dict[str, Any]
    shop_id: UUID | None
    origin: str
    outcome: str
    detail: dict[str, Any]


# --- across shops (definer functions; any transaction) -------------------------------------------
def find_shops(
    conn: Conn,
    *,
    status: str | None,
    search: str | None,
    before: tuple[datetime, UUID] | None,
    limit: int,
) -> list[ShopListRow]:
    """Shops newest first, filtered by billing status and a search (name, CNPJ, e-mail, id)."""
    return fetch_all(
        conn,
        ShopListRow,
        "select * from ops_find_shops(%s, %s, %s, %s, %s)",
        (status, search, before[0] if before else None, before[1] if before else None, limit),
    )


def resolve_shop(conn: Conn, reference: str) -> list[UUID]:
    """The shops ``reference`` names exactly (id, CNPJ, the shop's or a user's e-mail)."""
    rows = conn.execute("select ops_resolve_shop(%s)", (reference,)).fetchall()
    return sorted(UUID(str(r[0])) for r in rows)


def record(
    conn: Conn,
    *,
    operator: str,
    command: str,
    args: dict[str, Any],
    shop_id: UUID | None,
    origin: str,
    outcome: str,
    detail: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> int:
    """Append an entry to the operator's audit log; its id."""
    row = conn.execute(
        "select ops_record(%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            operator,
            command,
            json.dumps(args, default=str),
            shop_id,
            origin,
            outcome,
            json.dumps(detail or {}, default=str),
            request_id,
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])


def finish(conn: Conn, entry_id: int, *, outcome: str, shop_id: UUID | None, detail: dict[str, Any]) -> bool:
    """A started entry's outcome, once; False when the entry was not a started one."""
    row = conn.execute(
        "select ops_finish(%s, %s, %s, %s)", (entry_id, outcome, shop_id, json.dumps(detail, default=str))
    ).fetchone()
    return bool(row and row[0])


def recent(conn: Conn, *, before: int | None, shop_id: UUID | None, limit: int) -> list[OpsAuditRow]:
    return fetch_all(conn, OpsAuditRow, "select * from ops_recent(%s, %s, %s)", (before, shop_id, limit))


# --- one shop (its own transaction) --------------------------------------------------------------
def activity(conn: Conn) -> dict[str, Any]:
    """The shop's users and orders counted, and when it was last active (its audit log's newest
    entry; its newest session: a login or a token refresh)."""
    [row] = fetch_dicts(
        conn,
        "select "
        "(select count(*) from users) as users, "
        "(select count(*) from users where active) as active_users, "
        "(select count(*) from service_orders) as orders, "
        "(select count(*) from service_orders where status not in ('delivered', 'cancelled')) "
        "as open_orders, "
        "(select max(at) from audit_log) as last_change_at, "
        "(select max(created_at) from refresh_tokens) as last_session_at",
    )
    return row
