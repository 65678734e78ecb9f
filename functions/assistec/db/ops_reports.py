"""The reports to ops' reads across shops, each through its definer function (migration 0032): the
shops' latest backups, the busiest shops of a period, and the daily capacity snapshots."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from assistec.db.sql import fetch_all, fetch_one
from assistec.domain.ops_reports import BackupStatus, CapacitySnapshot, ShopActivity

if TYPE_CHECKING:
    from assistec.db.sql import Conn


def backup_status(conn: Conn, *, limit: int) -> tuple[list[BackupStatus], int]:
    """Up to ``limit`` shops' backups (those whose latest run is not good first), and how many shops
    the backups cover in all."""
    rows = conn.execute(
        "select tenant_id, shop_name, run_date, status, bytes, error, last_ok_at, restore_checked_at, "
        "restore_error, shops_total from ops_backup_status(%s)",
        (limit,),
    ).fetchall()
    shops = [
        BackupStatus(
            tenant_id=r[0],
            shop_name=r[1],
            run_date=r[2],
            status=r[3],
            bytes=r[4],
            error=r[5],
            last_ok_at=r[6],
            restore_checked_at=r[7],
            restore_error=r[8],
        )
        for r in rows
    ]
    return shops, int(rows[0][9]) if rows else 0


def take_capacity_snapshot(conn: Conn, day: date) -> CapacitySnapshot:
    """The day's snapshot, taken now unless the day has one already."""
    snapshot = fetch_one(
        conn,
        CapacitySnapshot,
        "select taken_on, database_bytes, shops, orders from ops_take_capacity_snapshot(%s)",
        (day,),
    )
    assert snapshot is not None  # the function returns the day's row, new or kept
    return snapshot


def capacity_on_or_before(conn: Conn, day: date) -> CapacitySnapshot | None:
    """The newest snapshot taken on or before ``day``."""
    return fetch_one(
        conn,
        CapacitySnapshot,
        "select taken_on, database_bytes, shops, orders from ops_capacity_on_or_before(%s)",
        (day,),
    )


def busiest_shops(conn: Conn, start: datetime, end: datetime, *, limit: int) -> list[ShopActivity]:
    """The top ``limit`` shops by orders created in [start, end), and by WhatsApp messages."""
    return fetch_all(
        conn,
        ShopActivity,
        "select tenant_id, shop_name, orders, whatsapp_messages from ops_busiest_shops(%s, %s, %s)",
        (start, end, limit),
    )
