"""SQL for customers."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.rows import CustomerRow
from assistec.db.sql import duplicates, fetch_all, fetch_one, fetch_returned, versioned_update

if TYPE_CHECKING:
    from assistec.db.sql import Conn

_CUSTOMER_COLUMNS = (
    "id, tenant_id, name, phone, document, email::text as email, address, notes, version, "
    "created_at, updated_at"
)
_CUSTOMER_FIELDS = {"name", "phone", "document", "email", "address", "notes"}
# A query made of digits and phone/document punctuation looks up phones and CPF/CNPJ, not names.
_NUMERIC_QUERY = re.compile(r"[\d\s+()./-]*\d{3,}[\d\s+()./-]*")


def insert_customer(conn: Conn, *, tenant_id: UUID, fields: dict[str, Any]) -> CustomerRow:
    assert set(fields) <= _CUSTOMER_FIELDS, set(fields) - _CUSTOMER_FIELDS
    values = {
        **fields,
        "address": json.dumps(fields["address"]) if fields.get("address") is not None else None,
    }
    columns = ", ".join(["tenant_id", *values])
    placeholders = ", ".join(["%s"] * (len(values) + 1))
    with duplicates():
        return fetch_returned(
            conn,
            CustomerRow,
            f"insert into customers ({columns}) values ({placeholders}) returning {_CUSTOMER_COLUMNS}",
            [tenant_id, *values.values()],
        )


def get_customer(conn: Conn, customer_id: UUID) -> CustomerRow | None:
    return fetch_one(
        conn, CustomerRow, f"select {_CUSTOMER_COLUMNS} from customers where id = %s", (customer_id,)
    )


def list_customers(
    conn: Conn, *, limit: int, after: tuple[datetime, UUID] | None, q: str | None
) -> list[CustomerRow]:
    """Newest last (creation order), optionally filtered: digits match phone or document, text the name."""
    clauses = ["tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"]
    params: list[Any] = []
    if after is not None:
        clauses.append("(created_at, id) > (%s, %s)")
        params.extend(after)
    if q:
        if _NUMERIC_QUERY.fullmatch(q):
            digits = "".join(ch for ch in q if ch.isdigit())
            clauses.append("(phone like %s or document like %s)")
            params.extend([f"%{digits}%", f"{digits}%"])
        else:
            clauses.append("search_name like '%%' || lower(immutable_unaccent(%s)) || '%%'")
            params.append(q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    params.append(limit)
    return fetch_all(
        conn,
        CustomerRow,
        f"select {_CUSTOMER_COLUMNS} from customers where {' and '.join(clauses)} "
        "order by created_at, id limit %s",
        params,
    )


def update_customer(
    conn: Conn, customer_id: UUID, *, expected_version: int, changes: dict[str, Any]
) -> CustomerRow | None:
    return versioned_update(
        conn,
        table="customers",
        columns=_CUSTOMER_COLUMNS,
        row=CustomerRow,
        allowed=_CUSTOMER_FIELDS,
        row_id=customer_id,
        expected_version=expected_version,
        changes={k: json.dumps(v) if k == "address" and v is not None else v for k, v in changes.items()},
    )
