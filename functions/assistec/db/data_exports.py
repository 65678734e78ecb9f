"""The owner's data exports (migration 0033). Every statement runs in the shop's transaction
(row-level security); the worker's writes are guarded by the row's status and attempt, so a run that
lost its export (a redelivery took it after its lease) changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from assistec.db.sql import duplicates, fetch_all, fetch_one, fetch_returned

if TYPE_CHECKING:
    from assistec.db.sql import Conn

ACTIVE_INDEX = "data_exports_active"


@dataclass(frozen=True, slots=True)
class DataExportRow:
    id: UUID
    tenant_id: UUID
    requested_by: UUID
    status: str
    requested_at: datetime
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    s3_key: str | None
    bytes: int | None
    rows: int | None
    files: int | None
    expires_at: datetime | None
    error: str | None


_COLUMNS = (
    "id, tenant_id, requested_by, status, requested_at, attempts, started_at, finished_at, s3_key, bytes, "
    "rows, files, expires_at, error"
)


def insert(conn: Conn, *, tenant_id: UUID, requested_by: UUID, now: datetime) -> DataExportRow:
    """A new pending export; ``DuplicateError`` (constraint ``ACTIVE_INDEX``) while another is under way."""
    with duplicates():
        return fetch_returned(
            conn,
            DataExportRow,
            f"insert into data_exports (tenant_id, requested_by, requested_at) values (%s, %s, %s) "
            f"returning {_COLUMNS}",
            (tenant_id, requested_by, now),
        )


def get(conn: Conn, export_id: UUID) -> DataExportRow | None:
    return fetch_one(conn, DataExportRow, f"select {_COLUMNS} from data_exports where id = %s", (export_id,))


def page(conn: Conn, *, limit: int, before: tuple[datetime, UUID] | None) -> list[DataExportRow]:
    """Newest first; ``before``: the (requested_at, id) of the previous page's last row."""
    where, params = ("where (requested_at, id) < (%s, %s)", [*before]) if before else ("", [])
    return fetch_all(
        conn,
        DataExportRow,
        f"select {_COLUMNS} from data_exports {where} order by requested_at desc, id desc limit %s",
        [*params, limit],
    )


def active(conn: Conn) -> DataExportRow | None:
    """The shop's export under way, if any (at most one: ``ACTIVE_INDEX``)."""
    return fetch_one(
        conn, DataExportRow, f"select {_COLUMNS} from data_exports where status in ('pending', 'running')"
    )


def requested_since(conn: Conn, since: datetime) -> list[tuple[datetime, str]]:
    """(requested_at, status) of the shop's exports asked since ``since``."""
    rows = conn.execute(
        "select requested_at, status from data_exports where requested_at > %s order by requested_at",
        (since,),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def fail(conn: Conn, export_id: UUID, *, error: str, now: datetime) -> bool:
    """Record an export under way as failed (one found stale); False when it is no longer under way."""
    done = conn.execute(
        "update data_exports set status = 'failed', error = %s, finished_at = %s "
        "where id = %s and status in ('pending', 'running') returning 1",
        (error, now, export_id),
    ).fetchone()
    return done is not None


def claim(conn: Conn, export_id: UUID, *, now: datetime, stale_before: datetime) -> DataExportRow | None:
    """Take the export for a worker run: from 'pending', or from a 'running' whose run started before
    ``stale_before`` (its worker died). None when there is nothing to take (already taken, finished,
    failed, or not this shop's)."""
    return fetch_one(
        conn,
        DataExportRow,
        "update data_exports set status = 'running', attempts = attempts + 1, started_at = %s "
        "where id = %s and (status = 'pending' or (status = 'running' and started_at < %s)) "
        f"returning {_COLUMNS}",
        (now, export_id, stale_before),
    )


def finish_ready(
    conn: Conn,
    export_id: UUID,
    *,
    attempt: int,
    s3_key: str,
    size: int,
    rows: int,
    files: int,
    expires_at: datetime,
    now: datetime,
) -> bool:
    """The run ``attempt`` stored the file: the export is ready, whole, in one statement. False when
    that run no longer holds it."""
    done = conn.execute(
        "update data_exports set status = 'ready', s3_key = %s, bytes = %s, rows = %s, files = %s, "
        "expires_at = %s, finished_at = %s "
        "where id = %s and status = 'running' and attempts = %s returning 1",
        (s3_key, size, rows, files, expires_at, now, export_id, attempt),
    ).fetchone()
    return done is not None


def finish_failed(conn: Conn, export_id: UUID, *, attempt: int, error: str, now: datetime) -> bool:
    """The run ``attempt`` failed; False when that run no longer holds the export."""
    done = conn.execute(
        "update data_exports set status = 'failed', error = %s, finished_at = %s "
        "where id = %s and status = 'running' and attempts = %s returning 1",
        (error, now, export_id, attempt),
    ).fetchone()
    return done is not None


def owner_emails(conn: Conn) -> list[str]:
    """The shop's active owners' addresses (who is told an export is ready)."""
    rows = conn.execute("select email from users where role = 'owner' and active order by created_at")
    return [str(r[0]) for r in rows.fetchall()]
