"""SQL for tenants (the shops themselves)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from assistec.db.rows import TenantRow
from assistec.db.sql import duplicates, fetch_one, fetch_returned

if TYPE_CHECKING:
    from assistec.db.sql import Conn


def insert_tenant(conn: Conn, *, tenant_id: UUID, name: str, cnpj: str, email: str, phone: str) -> TenantRow:
    with duplicates():
        return fetch_returned(
            conn,
            TenantRow,
            "insert into tenants (id, name, cnpj, email, phone) values (%s, %s, %s, %s, %s) "
            "returning id, name, cnpj, email::text as email, phone, billing_status, created_at",
            (tenant_id, name, cnpj, email, phone),
        )


def get_tenant(conn: Conn, tenant_id: UUID) -> TenantRow | None:
    return fetch_one(
        conn,
        TenantRow,
        "select id, name, cnpj, email::text as email, phone, billing_status, created_at "
        "from tenants where id = %s",
        (tenant_id,),
    )
