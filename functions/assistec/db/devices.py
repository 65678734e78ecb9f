"""SQL for customers' devices and their photos."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.rows import DeviceRow, PhotoRow
from assistec.db.sql import class_row, versioned_update

if TYPE_CHECKING:
    from assistec.db.sql import Conn

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
    return versioned_update(
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
