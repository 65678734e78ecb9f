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
    """Declare this transaction the relay: the outbox's relay policy shows every shop's events."""
    conn.execute("select set_config('app.outbox_relay', 'on', true)")


def lock_pending(conn: Conn, *, ids: Sequence[UUID] | None, limit: int) -> list[PendingEvent]:
    where = "published_at is null" + (" and id = any(%s)" if ids is not None else "")
    params: list[Any] = [list(ids)] if ids is not None else []
    return fetch_all(
        conn,
        PendingEvent,
        f"select id, tenant_id, detail_type, detail, created_at from outbox where {where} "
        "order by created_at, id limit %s for update skip locked",
        [*params, limit],
    )


def mark_published(conn: Conn, ids: Sequence[UUID]) -> None:
    if ids:
        conn.execute(
            "update outbox set published_at = now(), attempts = attempts + 1 where id = any(%s)", (list(ids),)
        )


def count_attempt(conn: Conn, ids: Sequence[UUID]) -> None:
    if ids:
        conn.execute("update outbox set attempts = attempts + 1 where id = any(%s)", (list(ids),))


def oldest_pending_age_s(conn: Conn) -> float:
    """Seconds the oldest unpublished event has waited (0 when none): the relay's backlog metric."""
    row = conn.execute(
        "select coalesce(extract(epoch from now() - min(created_at)), 0) "
        "from outbox where published_at is null"
    ).fetchone()
    assert row is not None
    return float(row[0])
