"""The staff's real-time channel (migration 0035): tickets, open connections, the staff chat.

Every statement runs in the shop's transaction (row-level security), except ``find_connection``
and ``sweep``: API Gateway names a connection by its id only, so those go through the narrow
SECURITY DEFINER functions of the migration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from assistec.db.sql import fetch_all, fetch_one, fetch_returned

if TYPE_CHECKING:
    from assistec.db.sql import Conn


@dataclass(frozen=True, slots=True)
class TicketHolder:
    """Whom a consumed ticket was issued to."""

    user_id: UUID
    role: str


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    connection_id: str
    tenant_id: UUID
    user_id: UUID
    role: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ChatMessageRow:
    id: UUID
    user_id: UUID
    author_name: str
    body: str
    created_at: datetime


def insert_ticket(
    conn: Conn,
    *,
    tenant_id: UUID,
    user_id: UUID,
    role: str,
    token_sha256: bytes,
    now: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        "insert into realtime_tickets (tenant_id, user_id, role, token_sha256, created_at, expires_at) "
        "values (%s, %s, %s, %s, %s, %s)",
        (tenant_id, user_id, role, token_sha256, now, expires_at),
    )


def consume_ticket(conn: Conn, token_sha256: bytes) -> TicketHolder | None:
    """Mark the ticket used and say whose it is: None when unknown, used or expired. The update's row
    lock makes it single-use under concurrent handshakes (the second finds it used)."""
    return fetch_one(
        conn,
        TicketHolder,
        "update realtime_tickets set used_at = now() "
        "where tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid "
        "and token_sha256 = %s and used_at is null and expires_at > now() "
        "returning user_id, role",
        (token_sha256,),
    )


def active_user_role(conn: Conn, user_id: UUID) -> str | None:
    """The user's role now, None when the user is inactive or gone."""
    row = conn.execute("select role from users where id = %s and active", (user_id,)).fetchone()
    return str(row[0]) if row is not None else None


def user_name(conn: Conn, user_id: UUID) -> str | None:
    row = conn.execute("select name from users where id = %s", (user_id,)).fetchone()
    return str(row[0]) if row is not None else None


def insert_connection(
    conn: Conn, *, connection_id: str, tenant_id: UUID, user_id: UUID, role: str, expires_at: datetime
) -> None:
    """Store an open connection (a repeated $connect of the same id replaces nothing: it is one)."""
    conn.execute(
        "insert into realtime_connections (connection_id, tenant_id, user_id, role, expires_at) "
        "values (%s, %s, %s, %s, %s) on conflict (connection_id) do nothing",
        (connection_id, tenant_id, user_id, role, expires_at),
    )


def find_connection(conn: Conn, connection_id: str) -> ConnectionRow | None:
    """An open (unexpired) connection by its id, whatever its shop (SECURITY DEFINER)."""
    return fetch_one(
        conn,
        ConnectionRow,
        "select %s::text as connection_id, tenant_id, user_id, role, expires_at from realtime_connection(%s)",
        (connection_id, connection_id),
    )


def delete_connections(conn: Conn, connection_ids: list[str]) -> int:
    if not connection_ids:
        return 0
    cur = conn.execute("delete from realtime_connections where connection_id = any(%s)", (connection_ids,))
    return cur.rowcount


def shop_connections(conn: Conn) -> list[ConnectionRow]:
    """The shop's open connections."""
    return fetch_all(
        conn,
        ConnectionRow,
        "select connection_id, tenant_id, user_id, role, expires_at from realtime_connections "
        "where tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid and expires_at > now()",
    )


def order_technician(conn: Conn, order_id: UUID) -> UUID | None:
    row = conn.execute("select technician_id from service_orders where id = %s", (order_id,)).fetchone()
    return row[0] if row is not None else None


def insert_chat_message(
    conn: Conn, *, tenant_id: UUID, user_id: UUID, author_name: str, body: str
) -> ChatMessageRow:
    return fetch_returned(
        conn,
        ChatMessageRow,
        "insert into staff_chat_messages (tenant_id, user_id, author_name, body) values (%s, %s, %s, %s) "
        "returning id, user_id, author_name, body, created_at",
        (tenant_id, user_id, author_name, body),
    )


def recent_chat(conn: Conn, limit: int) -> list[ChatMessageRow]:
    """The shop's last ``limit`` chat messages, oldest first."""
    rows = fetch_all(
        conn,
        ChatMessageRow,
        "select id, user_id, author_name, body, created_at from staff_chat_messages "
        "order by created_at desc, id desc limit %s",
        (limit,),
    )
    return rows[::-1]


def sweep(conn: Conn, *, now: datetime, batch: int) -> dict[str, int]:
    """Delete expired connections and tickets across shops (SECURITY DEFINER); counts by table."""
    rows = conn.execute("select what, deleted from realtime_sweep(%s, %s)", (now, batch)).fetchall()
    return {str(what): int(n) for what, n in rows}
