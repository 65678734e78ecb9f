"""The calendar's scheduled pass (every 5 minutes): mirrors still pending or failed are queued again
(a Google outage is retried here, its state visible on each appointment), and each connected shop's
calendar is read back (changes made in Google to our events) with its busy times refreshed for the
bot. Shops are taken least recently synced first, a bounded number per run, so a large deployment is
served in turns, never always from the same end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from assistec.observability import logger

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.integrations.queue import CalendarQueue
    from assistec.services.scheduling.availability import AvailabilityService
    from assistec.services.scheduling.sync import CalendarSync

RETRY_AFTER_S = 120  # a mirror untouched this long is retried (the queue's own try came first)
BUSY_DAYS_MAX = 60
# One shop: a changes read (pages, a refresh) and a free/busy read, each under the client's 10 s
# budget, and two short transactions.
SHOP_WORST_CASE_S = 25.0


@dataclass(slots=True)
class PassResult:
    requeued: int = 0
    shops: int = 0
    deferred: int = 0  # left for the next pass (the time ran short)
    moved: int = 0
    cancelled: int = 0
    failed: list[str] = field(default_factory=list)


def calendar_pass(
    db: Database,
    queue: CalendarQueue,
    sync: CalendarSync,
    availability: AvailabilityService,
    *,
    now: datetime | None = None,
    shops_per_run: int = 200,
    time_left_s: Callable[[], float] = lambda: float("inf"),
) -> PassResult:
    """One pass; stops taking shops while ``time_left_s()`` (the function's remaining time) is under
    ``SHOP_WORST_CASE_S``: the rest are first in line next time (least recently synced first)."""
    now = now or datetime.now(UTC)
    result = PassResult()
    with db.transaction() as conn:
        backlog = conn.execute("select * from google_sync_backlog(%s, %s)", (RETRY_AFTER_S, 1000)).fetchall()
        shops = conn.execute("select * from google_connected_shops(%s)", (shops_per_run,)).fetchall()
    if backlog:
        queue.push([(UUID(str(t)), UUID(str(a))) for t, a in backlog])
        result.requeued = len(backlog)
    for (tenant,) in shops:
        if time_left_s() < SHOP_WORST_CASE_S:
            result.deferred += 1
            continue
        tenant_id = UUID(str(tenant))
        try:
            pulled = sync.pull(tenant_id)
            horizon = min(availability.horizon_days(tenant_id), BUSY_DAYS_MAX)
            availability.refresh_busy(tenant_id, now, now + timedelta(days=horizon))
        except Exception:
            logger.exception("calendar pass failed for a shop", extra={"tenant_id": str(tenant_id)})
            result.failed.append(str(tenant_id))
            continue
        result.shops += 1
        if pulled is not None:
            result.moved += pulled.moved
            result.cancelled += pulled.cancelled
    return result
