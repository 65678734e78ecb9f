"""Scheduling's tables (migration 0026): the shop's scheduling rules, its Google connection and
consents in progress, appointments and the reminders sent. Every statement runs in the shop's
transaction (row-level security); the cross-shop scans are the definer functions called by
``services.scheduling.jobs``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import fetch_all, fetch_one, fetch_returned, for_update

if TYPE_CHECKING:
    from assistec.db.sql import Conn


# --- settings ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SchedulingSettingsRow:
    types: dict[str, Any]  # the shop's own rules per type ({} = the defaults)
    step_min: int
    min_notice_min: int
    horizon_days: int
    closed_dates: list[date]
    observe_optional_holidays: bool
    reminder_offsets: list[int]
    booking_hours: dict[str, Any] | None
    version: int


_SETTINGS = (
    "types, step_min, min_notice_min, horizon_days, closed_dates, observe_optional_holidays, "
    "reminder_offsets, booking_hours, version"
)
_DEFAULT_SETTINGS = SchedulingSettingsRow({}, 30, 60, 30, [], True, [1440, 120], None, 0)
SETTINGS_FIELDS = frozenset(
    {
        "types",
        "step_min",
        "min_notice_min",
        "horizon_days",
        "closed_dates",
        "observe_optional_holidays",
        "reminder_offsets",
        "booking_hours",
    }
)


def get_settings(conn: Conn) -> SchedulingSettingsRow:
    """The shop's scheduling rules (version 0: never saved, the defaults)."""
    row = fetch_one(conn, SchedulingSettingsRow, f"select {_SETTINGS} from scheduling_settings")
    return row or _DEFAULT_SETTINGS


def save_settings(
    conn: Conn, *, tenant_id: UUID, values: dict[str, Any], expected_version: int
) -> SchedulingSettingsRow | None:
    """Write every field of ``values`` (all of ``SETTINGS_FIELDS``); None when the version moved."""
    assert set(values) == SETTINGS_FIELDS
    params = {
        **values,
        "types": json.dumps(values["types"]),
        "booking_hours": None if values["booking_hours"] is None else json.dumps(values["booking_hours"]),
    }
    names = sorted(SETTINGS_FIELDS)
    if expected_version == 0:
        return fetch_one(
            conn,
            SchedulingSettingsRow,
            f"insert into scheduling_settings (tenant_id, {', '.join(names)}) "
            f"values (%s, {', '.join(['%s'] * len(names))}) on conflict (tenant_id) do nothing "
            f"returning {_SETTINGS}",
            (tenant_id, *(params[n] for n in names)),
        )
    return fetch_one(
        conn,
        SchedulingSettingsRow,
        f"update scheduling_settings set {', '.join(f'{n} = %s' for n in names)}, "
        f"version = version + 1, updated_at = now() where version = %s returning {_SETTINGS}",
        (*(params[n] for n in names), expected_version),
    )


# --- Google ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GoogleConnectionRow:
    tenant_id: UUID
    status: str
    account_email: str | None
    refresh_token_enc: bytes
    access_token_enc: bytes | None
    access_expires_at: datetime | None
    scopes: list[str]
    calendar_id: str
    busy_calendar_ids: list[str]
    sync_token: str | None
    synced_at: datetime | None
    last_error: str | None
    reconnect_noticed_at: datetime | None
    busy_synced_at: datetime | None
    connected_at: datetime
    version: int


_CONNECTION = (
    "tenant_id, status, account_email, refresh_token_enc, access_token_enc, access_expires_at, scopes, "
    "calendar_id, busy_calendar_ids, sync_token, synced_at, last_error, reconnect_noticed_at, "
    "busy_synced_at, connected_at, version"
)
_CONNECTION_FIELDS = frozenset(
    {
        "status",
        "refresh_token_enc",
        "access_token_enc",
        "access_expires_at",
        "calendar_id",
        "busy_calendar_ids",
        "sync_token",
        "synced_at",
        "last_error",
        "reconnect_noticed_at",
        "busy_synced_at",
    }
)


def get_connection(conn: Conn, *, lock: bool = False) -> GoogleConnectionRow | None:
    return fetch_one(
        conn, GoogleConnectionRow, f"select {_CONNECTION} from google_connections{for_update(lock)}"
    )


def save_connection(
    conn: Conn,
    *,
    tenant_id: UUID,
    user_id: UUID | None,
    account_email: str | None,
    refresh_token_enc: bytes,
    access_token_enc: bytes | None,
    access_expires_at: datetime | None,
    scopes: list[str],
    calendar_id: str,
) -> GoogleConnectionRow:
    """A new consent replaces the shop's connection (tokens, account; the calendar choice restarts at
    the account's primary calendar, the sync from scratch)."""
    return fetch_returned(
        conn,
        GoogleConnectionRow,
        "insert into google_connections (tenant_id, status, account_email, refresh_token_enc, "
        "access_token_enc, access_expires_at, scopes, calendar_id, busy_calendar_ids, connected_by) "
        "values (%s, 'connected', %s, %s, %s, %s, %s, %s, array[%s], %s) "
        "on conflict (tenant_id) do update set status = 'connected', account_email = excluded.account_email, "
        "refresh_token_enc = excluded.refresh_token_enc, access_token_enc = excluded.access_token_enc, "
        "access_expires_at = excluded.access_expires_at, scopes = excluded.scopes, "
        "calendar_id = excluded.calendar_id, busy_calendar_ids = excluded.busy_calendar_ids, "
        "sync_token = null, synced_at = null, last_error = null, reconnect_noticed_at = null, "
        "connected_by = excluded.connected_by, connected_at = now(), updated_at = now(), "
        "version = google_connections.version + 1 "
        f"returning {_CONNECTION}",
        (
            tenant_id,
            account_email,
            refresh_token_enc,
            access_token_enc,
            access_expires_at,
            scopes,
            calendar_id,
            calendar_id,
            user_id,
        ),
    )


def update_connection(conn: Conn, **changes: Any) -> GoogleConnectionRow | None:
    assert set(changes) <= _CONNECTION_FIELDS, set(changes) - _CONNECTION_FIELDS
    sets = ", ".join(f"{name} = %s" for name in changes)
    return fetch_one(
        conn,
        GoogleConnectionRow,
        f"update google_connections set {sets}, updated_at = now(), version = version + 1 "
        f"returning {_CONNECTION}",
        tuple(changes.values()),
    )


def delete_connection(conn: Conn) -> None:
    conn.execute("delete from google_connections")


def replace_busy(
    conn: Conn, *, tenant_id: UUID, start: datetime, end: datetime, busy: list[tuple[datetime, datetime]]
) -> None:
    """Google's busy times over [start, end) replace what was kept for that window."""
    conn.execute("delete from google_busy where starts_at < %s and ends_at > %s", (end, start))
    with conn.cursor() as cur:
        cur.executemany(
            "insert into google_busy (tenant_id, starts_at, ends_at) values (%s, %s, %s)",
            [(tenant_id, a, b) for a, b in busy if b > a],
        )


def busy(conn: Conn, *, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    rows = conn.execute(
        "select starts_at, ends_at from google_busy where starts_at < %s and ends_at > %s order by starts_at",
        (end, start),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def add_oauth_state(
    conn: Conn,
    *,
    tenant_id: UUID,
    user_id: UUID,
    nonce: str,
    code_verifier: str,
    redirect_uri: str,
    ttl_s: int,
) -> None:
    conn.execute("delete from google_oauth_states where expires_at < now() - interval '1 day'")
    conn.execute(
        "insert into google_oauth_states "
        "(nonce, tenant_id, user_id, code_verifier, redirect_uri, expires_at) "
        "values (%s, %s, %s, %s, %s, now() + make_interval(secs => %s))",
        (nonce, tenant_id, user_id, code_verifier, redirect_uri, ttl_s),
    )


def take_oauth_state(conn: Conn, nonce: str) -> tuple[UUID, str, str] | None:
    """Use a consent's state once: (user, verifier, redirect URI) while unused and unexpired."""
    row = conn.execute(
        "update google_oauth_states set used_at = now() "
        "where nonce = %s and used_at is null and expires_at > now() "
        "returning user_id, code_verifier, redirect_uri",
        (nonce,),
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


# --- appointments ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AppointmentRow:
    id: UUID
    tenant_id: UUID
    type: str
    status: str
    starts_at: datetime
    ends_at: datetime
    blocks_until: datetime
    seat: int
    customer_id: UUID
    device_id: UUID | None
    order_id: UUID | None
    address: str | None
    notes: str | None
    source: str
    public_token: str
    google_event_id: str
    sync_state: str
    sync_error: str | None
    sync_attempts: int
    synced_version: int | None
    google_calendar_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    cancelled_via: str | None
    no_show_at: datetime | None


_APPOINTMENT = (
    "id, tenant_id, type, status, starts_at, ends_at, upper(during) as blocks_until, seat, customer_id, "
    "device_id, order_id, address, notes, source, public_token, google_event_id, sync_state, sync_error, "
    "sync_attempts, synced_version, google_calendar_id, version, created_at, updated_at, confirmed_at, "
    "cancelled_at, cancelled_via, no_show_at"
)
_APPOINTMENT_FIELDS = frozenset(
    {
        "status",
        "starts_at",
        "ends_at",
        "seat",
        "during",
        "device_id",
        "order_id",
        "address",
        "notes",
        "sync_state",
        "sync_error",
        "sync_attempts",
        "synced_version",
        "google_calendar_id",
        "confirmed_at",
        "cancelled_at",
        "cancelled_via",
        "no_show_at",
    }
)
ACTIVE = ("booked", "confirmed")


def insert_appointment(conn: Conn, *, values: dict[str, Any]) -> AppointmentRow:
    """Insert one appointment; the capacity constraint raises ``psycopg.errors.ExclusionViolation``
    when its seat is taken at that time (run it in a savepoint to try the next seat)."""
    names = list(values)
    return fetch_returned(
        conn,
        AppointmentRow,
        f"insert into appointments ({', '.join(names)}) values ({', '.join(['%s'] * len(names))}) "
        f"returning {_APPOINTMENT}",
        tuple(values.values()),
    )


def update_appointment(
    conn: Conn, appointment_id: UUID, *, bump: bool = True, **changes: Any
) -> AppointmentRow:
    """Change an appointment; ``bump`` (a change Google must mirror) also moves its version."""
    assert set(changes) <= _APPOINTMENT_FIELDS, set(changes) - _APPOINTMENT_FIELDS
    sets = [f"{name} = %s" for name in changes]
    if bump:
        sets.append("version = version + 1")
    return fetch_returned(
        conn,
        AppointmentRow,
        f"update appointments set {', '.join(sets)}, updated_at = now() "
        f"where id = %s returning {_APPOINTMENT}",
        (*changes.values(), appointment_id),
    )


def get_appointment(conn: Conn, appointment_id: UUID, *, lock: bool = False) -> AppointmentRow | None:
    return fetch_one(
        conn,
        AppointmentRow,
        f"select {_APPOINTMENT} from appointments where id = %s{for_update(lock)}",
        (appointment_id,),
    )


def by_token(conn: Conn, token: str, *, lock: bool = False) -> AppointmentRow | None:
    return fetch_one(
        conn,
        AppointmentRow,
        f"select {_APPOINTMENT} from appointments where public_token = %s{for_update(lock)}",
        (token,),
    )


def by_event_id(conn: Conn, event_id: str, *, lock: bool = False) -> AppointmentRow | None:
    return fetch_one(
        conn,
        AppointmentRow,
        f"select {_APPOINTMENT} from appointments where google_event_id = %s{for_update(lock)}",
        (event_id,),
    )


def list_appointments(
    conn: Conn,
    *,
    start: datetime,
    end: datetime,
    status: str | None = None,
    customer_id: UUID | None = None,
    limit: int = 500,
) -> list[AppointmentRow]:
    where = ["starts_at >= %s", "starts_at < %s"]
    params: list[Any] = [start, end]
    if status is not None:
        where.append("status = %s")
        params.append(status)
    if customer_id is not None:
        where.append("customer_id = %s")
        params.append(customer_id)
    return fetch_all(
        conn,
        AppointmentRow,
        f"select {_APPOINTMENT} from appointments where {' and '.join(where)} "
        "order by starts_at, id limit %s",
        (*params, limit),
    )


def held(
    conn: Conn, *, type_: str, start: datetime, end: datetime, exclude: UUID | None = None
) -> list[tuple[datetime, datetime]]:
    """What active bookings of ``type_`` hold (their ranges with buffer) overlapping [start, end)."""
    rows = conn.execute(
        "select lower(during), upper(during) from appointments "
        "where type = %s and status in ('booked', 'confirmed') and during && tstzrange(%s, %s) "
        "and id is distinct from %s",
        (type_, start, end, exclude),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def upcoming_for_customer(conn: Conn, customer_id: UUID, *, now: datetime) -> list[AppointmentRow]:
    return fetch_all(
        conn,
        AppointmentRow,
        f"select {_APPOINTMENT} from appointments "
        "where customer_id = %s and status in ('booked', 'confirmed') "
        "and starts_at > %s order by starts_at limit 5",
        (customer_id, now),
    )


def claim_reminder(
    conn: Conn, *, tenant_id: UUID, appointment_id: UUID, offset_min: int, channel: str
) -> bool:
    """Record a reminder about to go out; False when one went out already for that offset."""
    row = conn.execute(
        "insert into appointment_reminders (tenant_id, appointment_id, offset_min, channel) "
        "values (%s, %s, %s, %s) on conflict do nothing returning 1",
        (tenant_id, appointment_id, offset_min, channel),
    ).fetchone()
    return row is not None


def reminders_of(conn: Conn, appointment_id: UUID) -> list[tuple[int, str, datetime]]:
    rows = conn.execute(
        "select offset_min, channel, sent_at from appointment_reminders where appointment_id = %s "
        "order by offset_min desc",
        (appointment_id,),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]
