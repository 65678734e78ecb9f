"""SQL for tenants, users, refresh tokens, settings and the audit log.

Every function takes the connection of an open unit of work (``Database.tenant_tx``); row-level
security scopes what it sees, so no query here filters by tenant for safety, only for indexes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.rows import CustomerRow, DeviceRow, PhotoRow, SettingsRow, TenantRow, UserRow

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import DictRow, RowFactory, RowMaker

    Conn = psycopg.Connection[Any]


def class_row[T](cls: type[T]) -> RowFactory[T]:
    # Imported here: by the time a repository runs, the connection has loaded psycopg already.
    from psycopg.rows import class_row as factory

    return factory(cls)


def dict_row(cursor: Any) -> RowMaker[DictRow]:
    from psycopg.rows import dict_row as factory

    return factory(cursor)


class DuplicateError(Exception):
    """A unique constraint refused the row; ``constraint`` names which."""

    def __init__(self, constraint: str) -> None:
        super().__init__(constraint)
        self.constraint = constraint


_USER_COLUMNS = "id, tenant_id, email::text as email, name, role, active, version, created_at, updated_at"


@contextmanager
def _duplicates() -> Iterator[None]:
    import psycopg

    try:
        yield
    except psycopg.errors.UniqueViolation as exc:
        raise DuplicateError(exc.diag.constraint_name or "") from exc


def _versioned_update[R](
    conn: Conn,
    *,
    table: str,
    columns: str,
    row: type[R],
    allowed: set[str],
    row_id: UUID,
    expected_version: int,
    changes: dict[str, Any],
) -> R | None:
    """Apply ``changes`` if the row is still at ``expected_version`` (optimistic locking); None when
    it moved on or is not visible. Column names come from the caller's allow-list, never from input."""
    assert set(changes) <= allowed, set(changes) - allowed
    sets = ", ".join(f"{column} = %s" for column in changes)
    with _duplicates(), conn.cursor(row_factory=class_row(row)) as cur:
        return cur.execute(
            f"update {table} set {sets}, version = version + 1, updated_at = now() "
            f"where id = %s and version = %s returning {columns}",
            [*changes.values(), row_id, expected_version],
        ).fetchone()


# --- tenants -----------------------------------------------------------------------------------
def insert_tenant(conn: Conn, *, tenant_id: UUID, name: str, cnpj: str, email: str, phone: str) -> TenantRow:
    with _duplicates(), conn.cursor(row_factory=class_row(TenantRow)) as cur:
        row = cur.execute(
            "insert into tenants (id, name, cnpj, email, phone) values (%s, %s, %s, %s, %s) "
            "returning id, name, cnpj, email::text as email, phone, billing_status, created_at",
            (tenant_id, name, cnpj, email, phone),
        ).fetchone()
    assert row is not None
    return row


def get_tenant(conn: Conn, tenant_id: UUID) -> TenantRow | None:
    with conn.cursor(row_factory=class_row(TenantRow)) as cur:
        return cur.execute(
            "select id, name, cnpj, email::text as email, phone, billing_status, created_at "
            "from tenants where id = %s",
            (tenant_id,),
        ).fetchone()


# --- users -------------------------------------------------------------------------------------
def insert_user(
    conn: Conn, *, tenant_id: UUID, email: str, name: str, password_hash: str, role: str
) -> UserRow:
    with _duplicates(), conn.cursor(row_factory=class_row(UserRow)) as cur:
        row = cur.execute(
            "insert into users (tenant_id, email, name, password_hash, role) values (%s, %s, %s, %s, %s) "
            f"returning {_USER_COLUMNS}",
            (tenant_id, email, name, password_hash, role),
        ).fetchone()
    assert row is not None
    return row


def get_user(conn: Conn, user_id: UUID) -> UserRow | None:
    with conn.cursor(row_factory=class_row(UserRow)) as cur:
        return cur.execute(f"select {_USER_COLUMNS} from users where id = %s", (user_id,)).fetchone()


def find_login(conn: Conn, email: str) -> dict[str, Any] | None:
    """The one user with this e-mail, across shops: only the login_lookup policy lets it through."""
    conn.execute("select set_config('app.login_email', %s, true)", (email,))
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "select id, tenant_id, password_hash, role, active from users where email = %s", (email,)
        ).fetchone()
    conn.execute("select set_config('app.login_email', '', true)")
    return row


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
    with conn.cursor(row_factory=class_row(UserRow)) as cur:
        return cur.execute(
            f"select {_USER_COLUMNS} from users where {' and '.join(clauses)} "
            "order by created_at, id limit %s",
            params,
        ).fetchall()


def update_user(
    conn: Conn, user_id: UUID, *, expected_version: int, changes: dict[str, Any]
) -> UserRow | None:
    return _versioned_update(
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


# --- refresh tokens ----------------------------------------------------------------------------
def insert_refresh_token(
    conn: Conn, *, tenant_id: UUID, user_id: UUID, family_id: UUID, token_hash: bytes, expires_at: datetime
) -> None:
    conn.execute(
        "insert into refresh_tokens (tenant_id, user_id, family_id, token_hash, expires_at) "
        "values (%s, %s, %s, %s, %s)",
        (tenant_id, user_id, family_id, token_hash, expires_at),
    )


def take_refresh_token(conn: Conn, token_hash: bytes) -> dict[str, Any] | None:
    """Lock the token's row for this transaction, so two refreshes with one token cannot both win."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select id, user_id, family_id, expires_at, revoked_at from refresh_tokens "
            "where token_hash = %s for update",
            (token_hash,),
        ).fetchone()


def revoke_refresh_token(conn: Conn, token_id: UUID) -> None:
    conn.execute(
        "update refresh_tokens set revoked_at = now() where id = %s and revoked_at is null", (token_id,)
    )


def revoke_family(conn: Conn, family_id: UUID) -> int:
    cur = conn.execute(
        "update refresh_tokens set revoked_at = now() where family_id = %s and revoked_at is null",
        (family_id,),
    )
    return cur.rowcount


def revoke_user_tokens(conn: Conn, user_id: UUID) -> int:
    cur = conn.execute(
        "update refresh_tokens set revoked_at = now() where user_id = %s and revoked_at is null", (user_id,)
    )
    return cur.rowcount


# --- login throttling --------------------------------------------------------------------------
def count_recent_failures(conn: Conn, email_hash: bytes, window_s: int) -> tuple[int, datetime | None]:
    row = conn.execute(
        "select count(*), min(at) from login_failures "
        "where email_hash = %s and at > now() - make_interval(secs => %s)",
        (email_hash, window_s),
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def record_failure(conn: Conn, email_hash: bytes) -> None:
    conn.execute("insert into login_failures (email_hash) values (%s)", (email_hash,))


def clear_failures(conn: Conn, email_hash: bytes) -> None:
    conn.execute("delete from login_failures where email_hash = %s", (email_hash,))


# --- settings ----------------------------------------------------------------------------------
_SETTINGS_COLUMNS = (
    "tenant_id, timezone, business_hours, welcome_message, out_of_hours_message, logo_url, version, "
    "updated_at"
)


def insert_settings(
    conn: Conn, *, tenant_id: UUID, business_hours: Any, welcome_message: str, out_of_hours_message: str
) -> None:
    conn.execute(
        "insert into tenant_settings (tenant_id, business_hours, welcome_message, out_of_hours_message) "
        "values (%s, %s, %s, %s)",
        (tenant_id, json.dumps(business_hours), welcome_message, out_of_hours_message),
    )


def get_settings(conn: Conn) -> SettingsRow | None:
    with conn.cursor(row_factory=class_row(SettingsRow)) as cur:
        return cur.execute(f"select {_SETTINGS_COLUMNS} from tenant_settings").fetchone()


def update_settings(
    conn: Conn,
    *,
    expected_version: int,
    timezone: str,
    business_hours: Any,
    welcome_message: str,
    out_of_hours_message: str,
    logo_url: str | None = None,
) -> SettingsRow | None:
    with conn.cursor(row_factory=class_row(SettingsRow)) as cur:
        return cur.execute(
            "update tenant_settings set timezone = %s, business_hours = %s, welcome_message = %s, "
            "out_of_hours_message = %s, logo_url = %s, version = version + 1, updated_at = now() "
            f"where version = %s returning {_SETTINGS_COLUMNS}",
            (
                timezone,
                json.dumps(business_hours),
                welcome_message,
                out_of_hours_message,
                logo_url,
                expected_version,
            ),
        ).fetchone()


# --- audit -------------------------------------------------------------------------------------
def audit(
    conn: Conn,
    *,
    tenant_id: UUID,
    actor_user_id: UUID | None,
    action: str,
    entity: str,
    entity_id: str,
    changes: dict[str, Any] | None = None,
    correlation_id: str | None = None,
) -> None:
    conn.execute(
        "insert into audit_log "
        "(tenant_id, actor_user_id, action, entity, entity_id, changes, correlation_id) "
        "values (%s, %s, %s, %s, %s, %s, %s)",
        (
            tenant_id,
            actor_user_id,
            action,
            entity,
            entity_id,
            json.dumps(changes or {}, default=str),
            correlation_id,
        ),
    )


def list_audit(
    conn: Conn,
    *,
    limit: int,
    before: tuple[datetime, int] | None,
    entity: str | None,
    entity_id: str | None = None,
) -> list[dict[str, Any]]:
    clauses = ["tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"]
    params: list[Any] = []
    if before is not None:
        clauses.append("(at, id) < (%s, %s)")
        params.extend(before)
    if entity is not None:
        clauses.append("entity = %s")
        params.append(entity)
    if entity_id is not None:
        clauses.append("entity_id = %s")
        params.append(entity_id)
    params.append(limit)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select id, actor_user_id, action, entity, entity_id, changes, correlation_id, at from audit_log "
            f"where {' and '.join(clauses)} order by at desc, id desc limit %s",
            params,
        ).fetchall()


# --- customers ---------------------------------------------------------------------------------
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
    with _duplicates(), conn.cursor(row_factory=class_row(CustomerRow)) as cur:
        row = cur.execute(
            f"insert into customers ({columns}) values ({placeholders}) returning {_CUSTOMER_COLUMNS}",
            [tenant_id, *values.values()],
        ).fetchone()
    assert row is not None
    return row


def get_customer(conn: Conn, customer_id: UUID) -> CustomerRow | None:
    with conn.cursor(row_factory=class_row(CustomerRow)) as cur:
        return cur.execute(
            f"select {_CUSTOMER_COLUMNS} from customers where id = %s", (customer_id,)
        ).fetchone()


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
    with conn.cursor(row_factory=class_row(CustomerRow)) as cur:
        return cur.execute(
            f"select {_CUSTOMER_COLUMNS} from customers where {' and '.join(clauses)} "
            "order by created_at, id limit %s",
            params,
        ).fetchall()


def update_customer(
    conn: Conn, customer_id: UUID, *, expected_version: int, changes: dict[str, Any]
) -> CustomerRow | None:
    return _versioned_update(
        conn,
        table="customers",
        columns=_CUSTOMER_COLUMNS,
        row=CustomerRow,
        allowed=_CUSTOMER_FIELDS,
        row_id=customer_id,
        expected_version=expected_version,
        changes={k: json.dumps(v) if k == "address" and v is not None else v for k, v in changes.items()},
    )


# --- devices -----------------------------------------------------------------------------------
_DEVICE_COLUMNS = (
    "id, tenant_id, customer_id, type, brand, model, serial, imei, condition, accessories, unlock_code, "
    "version, created_at, updated_at"
)
_DEVICE_FIELDS = {"type", "brand", "model", "serial", "imei", "condition", "accessories", "unlock_code"}


def insert_device(
    conn: Conn, *, device_id: UUID, tenant_id: UUID, customer_id: UUID, fields: dict[str, Any]
) -> DeviceRow:
    assert set(fields) <= _DEVICE_FIELDS, set(fields) - _DEVICE_FIELDS
    columns = ", ".join(["id", "tenant_id", "customer_id", *fields])
    placeholders = ", ".join(["%s"] * (len(fields) + 3))
    with conn.cursor(row_factory=class_row(DeviceRow)) as cur:
        row = cur.execute(
            f"insert into devices ({columns}) values ({placeholders}) returning {_DEVICE_COLUMNS}",
            [device_id, tenant_id, customer_id, *fields.values()],
        ).fetchone()
    assert row is not None
    return row


def get_device(conn: Conn, device_id: UUID) -> DeviceRow | None:
    with conn.cursor(row_factory=class_row(DeviceRow)) as cur:
        return cur.execute(f"select {_DEVICE_COLUMNS} from devices where id = %s", (device_id,)).fetchone()


def list_devices(conn: Conn, customer_id: UUID) -> list[DeviceRow]:
    with conn.cursor(row_factory=class_row(DeviceRow)) as cur:
        return cur.execute(
            f"select {_DEVICE_COLUMNS} from devices where customer_id = %s order by created_at, id",
            (customer_id,),
        ).fetchall()


def update_device(
    conn: Conn, device_id: UUID, *, expected_version: int, changes: dict[str, Any]
) -> DeviceRow | None:
    return _versioned_update(
        conn,
        table="devices",
        columns=_DEVICE_COLUMNS,
        row=DeviceRow,
        allowed=_DEVICE_FIELDS,
        row_id=device_id,
        expected_version=expected_version,
        changes=changes,
    )


def insert_photo(conn: Conn, *, tenant_id: UUID, device_id: UUID, s3_key: str, content_type: str) -> PhotoRow:
    with conn.cursor(row_factory=class_row(PhotoRow)) as cur:
        row = cur.execute(
            "insert into device_photos (tenant_id, device_id, s3_key, content_type) values (%s, %s, %s, %s) "
            "returning id, device_id, s3_key, content_type, created_at",
            (tenant_id, device_id, s3_key, content_type),
        ).fetchone()
    assert row is not None
    return row


def list_photos(conn: Conn, device_id: UUID) -> list[PhotoRow]:
    with conn.cursor(row_factory=class_row(PhotoRow)) as cur:
        return cur.execute(
            "select id, device_id, s3_key, content_type, created_at from device_photos "
            "where device_id = %s order by created_at, id",
            (device_id,),
        ).fetchall()
