"""SQL for the shop's settings row."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.rows import SettingsRow
from assistec.db.sql import fetch_one

if TYPE_CHECKING:
    from assistec.db.sql import Conn

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
    return fetch_one(conn, SettingsRow, f"select {_SETTINGS_COLUMNS} from tenant_settings")


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
    return fetch_one(
        conn,
        SettingsRow,
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
    )
