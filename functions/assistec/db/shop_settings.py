"""SQL for the shop's settings row."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.rows import DocumentSettingsRow, SettingsRow
from assistec.db.sql import fetch_one, for_update

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


# --- what the shop prints on its documents ------------------------------------------------------
_DOCUMENT_COLUMNS = "timezone, address, intake_terms, warranty_terms, logo_key, version, updated_at"


def get_document_settings(conn: Conn, *, lock: bool = False) -> DocumentSettingsRow | None:
    return fetch_one(
        conn, DocumentSettingsRow, f"select {_DOCUMENT_COLUMNS} from tenant_settings" + for_update(lock)
    )


def update_document_settings(
    conn: Conn,
    *,
    expected_version: int,
    address: str | None,
    intake_terms: str | None,
    warranty_terms: str | None,
) -> DocumentSettingsRow | None:
    """Replace the printed texts at ``expected_version`` (None when the row has another version)."""
    return fetch_one(
        conn,
        DocumentSettingsRow,
        "update tenant_settings set address = %s, intake_terms = %s, warranty_terms = %s, "
        "version = version + 1, updated_at = now() "
        f"where version = %s returning {_DOCUMENT_COLUMNS}",
        (address, intake_terms, warranty_terms, expected_version),
    )


def set_logo_key(conn: Conn, logo_key: str | None) -> DocumentSettingsRow | None:
    """Point the shop's logo at an uploaded object (None: no logo). The settings' version stays: the
    logo is its own resource, and a form of texts open meanwhile can still be saved."""
    return fetch_one(
        conn,
        DocumentSettingsRow,
        f"update tenant_settings set logo_key = %s, updated_at = now() returning {_DOCUMENT_COLUMNS}",
        (logo_key,),
    )
