"""SQL for the outbox of domain events (see integrations/events.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import fetch_all

if TYPE_CHECKING:
    from assistec.db.sql import Conn


@dataclass(frozen=True, slots=True)
class PendingEvent:
    id: UUID
    tenant_id: UUID
    detail_type: str
    detail: dict[str, Any]
    created_at: datetime


def add(conn: Conn, *, tenant_id: UUID, detail_type: str, detail: dict[str, Any]) -> UUID:
    row = conn.execute(
        "insert into outbox (tenant_id, detail_type, detail) values (%s, %s, %s) returning id",
        (tenant_id, detail_type, json.dumps(detail, default=str)),
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def enter_relay(conn: Conn) -> None:
    """Kept for callers: the relay's cross-shop reads and writes are SECURITY DEFINER functions
    now (no policy opens the outbox to a transaction that sets a flag), so there is nothing to do."""


def lock_pending(conn: Conn, *, ids: Sequence[UUID] | None, limit: int) -> list[PendingEvent]:
    return fetch_all(
        conn,
        PendingEvent,
        "select id, tenant_id, detail_type, detail, created_at from relay_lock_pending(%s, %s)",
        (list(ids) if ids is not None else None, limit),
    )


def mark_published(conn: Conn, ids: Sequence[UUID]) -> None:
    if ids:
        conn.execute("select relay_mark_published(%s)", (list(ids),))


def count_attempt(conn: Conn, ids: Sequence[UUID]) -> None:
    if ids:
        conn.execute("select relay_count_attempt(%s)", (list(ids),))


def oldest_pending_age_s(conn: Conn) -> float:
    """Seconds the oldest unpublished event has waited (0 when none): the relay's backlog metric."""
    row = conn.execute("select relay_oldest_pending_age_s()").fetchone()
    assert row is not None
    return float(row[0])
