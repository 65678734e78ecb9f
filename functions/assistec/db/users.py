"""SQL for users: rows, password hashes and the cross-shop login lookup."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.rows import UserRow
from assistec.db.sql import dict_row, duplicates, fetch_all, fetch_one, fetch_returned, versioned_update

if TYPE_CHECKING:
    from assistec.db.sql import Conn

_USER_COLUMNS = "id, tenant_id, email::text as email, name, role, active, version, created_at, updated_at"


def insert_user(
    conn: Conn, *, tenant_id: UUID, email: str, name: str, password_hash: str, role: str
) -> UserRow:
    with duplicates():
        return fetch_returned(
            conn,
            UserRow,
            "insert into users (tenant_id, email, name, password_hash, role) values (%s, %s, %s, %s, %s) "
            f"returning {_USER_COLUMNS}",
            (tenant_id, email, name, password_hash, role),
        )


def get_user(conn: Conn, user_id: UUID) -> UserRow | None:
    return fetch_one(conn, UserRow, f"select {_USER_COLUMNS} from users where id = %s", (user_id,))


def find_login(conn: Conn, email: str) -> dict[str, Any] | None:
    """The one user with this e-mail, across shops (a SECURITY DEFINER function: login happens
    before the shop is known, and no policy of the app role opens users across shops)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select id, tenant_id, password_hash, role, active from login_lookup(%s)", (email,)
        ).fetchone()


def list_users(
    conn: Conn,
    *,
    limit: int,
    after: tuple[datetime, UUID] | None,
    role: str | None,
    active: bool | None,
    q: str | None,
) -> list[UserRow]:
    clauses = ["tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"]
    params: list[Any] = []
    if after is not None:
        clauses.append("(created_at, id) > (%s, %s)")
        params.extend(after)
    if role is not None:
        clauses.append("role = %s")
        params.append(role)
    if active is not None:
        clauses.append("active = %s")
        params.append(active)
    if q:
        clauses.append("(unaccent(name) ilike unaccent(%s) or email::text ilike %s)")
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params.extend([like, like])
    params.append(limit)
    return fetch_all(
        conn,
        UserRow,
        f"select {_USER_COLUMNS} from users where {' and '.join(clauses)} order by created_at, id limit %s",
        params,
    )


def update_user(
    conn: Conn, user_id: UUID, *, expected_version: int, changes: dict[str, Any]
) -> UserRow | None:
    return versioned_update(
        conn,
        table="users",
        columns=_USER_COLUMNS,
        row=UserRow,
        allowed={"name", "role", "active", "password_hash"},
        row_id=user_id,
        expected_version=expected_version,
        changes=changes,
    )


def get_password_hash(conn: Conn, user_id: UUID) -> str | None:
    row = conn.execute("select password_hash from users where id = %s", (user_id,)).fetchone()
    return row[0] if row else None
