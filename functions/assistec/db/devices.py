"""SQL for customers' devices and their photos."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.rows import DeviceRow, PhotoRow
from assistec.db.sql import fetch_all, fetch_one, fetch_returned, versioned_update

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
    return fetch_returned(
        conn,
        DeviceRow,
        f"insert into devices ({columns}) values ({placeholders}) returning {_DEVICE_COLUMNS}",
        [device_id, tenant_id, customer_id, *fields.values()],
    )


def get_device(conn: Conn, device_id: UUID) -> DeviceRow | None:
    return fetch_one(conn, DeviceRow, f"select {_DEVICE_COLUMNS} from devices where id = %s", (device_id,))


def list_devices(conn: Conn, customer_id: UUID) -> list[DeviceRow]:
    return fetch_all(
        conn,
        DeviceRow,
        f"select {_DEVICE_COLUMNS} from devices where customer_id = %s order by created_at, id",
        (customer_id,),
    )


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
    return fetch_returned(
        conn,
        PhotoRow,
        "insert into device_photos (tenant_id, device_id, s3_key, content_type) values (%s, %s, %s, %s) "
        "returning id, device_id, s3_key, content_type, created_at",
        (tenant_id, device_id, s3_key, content_type),
    )


def list_photos(conn: Conn, device_id: UUID) -> list[PhotoRow]:
    return fetch_all(
        conn,
        PhotoRow,
        "select id, device_id, s3_key, content_type, created_at from device_photos "
        "where device_id = %s order by created_at, id",
        (device_id,),
    )
