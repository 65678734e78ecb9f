"""Domain events to EventBridge, from the transactional outbox.

Services write events into ``outbox`` in the same transaction as the change (``UnitOfWork.emit``),
so an event exists if and only if the change committed. ``OutboxRelay.flush`` then sends pending
events to the bus and stamps them; a unit of work flushes its own events right after its commit
(fast path) and the scheduled relay function (``OutboxRelay.run``) sends whatever that missed (bus
down, Lambda timeout). Delivery is therefore at-least-once: every event carries its outbox id, and
consumers dedupe on it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from assistec.db import events as events_db
from assistec.db.connection import Database
from assistec.integrations.events import EventBus
from assistec.observability import logger

SOURCE = "assistec.orders"
# PutEvents takes at most 10 entries per call.
_BATCH = 10
# One scheduled run stops after this many pages, leaving the rest to the next minute.
_MAX_PAGES = 50
_PAGE = 100


def entry(event: events_db.PendingEvent) -> dict[str, Any]:
    """The PutEvents entry of one outbox row (its id and shop travel in the detail)."""
    detail = {**event.detail, "event_id": str(event.id), "tenant_id": str(event.tenant_id)}
    return {
        "Source": SOURCE,
        "DetailType": event.detail_type,
        "Detail": json.dumps(detail, default=str),
        "Time": event.created_at,
    }


@dataclass(frozen=True, slots=True)
class RelayReport:
    published: int
    oldest_pending_s: float


class OutboxRelay:
    """Publishes committed domain events; never sends one event twice at once."""

    def __init__(self, db: Database, bus: EventBus) -> None:
        self._db = db
        self._bus = bus

    def flush(self, ids: Sequence[UUID] | None = None, *, limit: int = _PAGE) -> int:
        """Publish pending events (only ``ids`` when given); return how many reached the bus.

        Rows are locked (skip locked) while they are sent, so a relay and an API flush never send
        the same event twice at once; an event the bus refused stays pending with attempts + 1.
        """
        sent = 0
        with self._db.transaction() as conn:
            events_db.enter_relay(conn)
            pending = events_db.lock_pending(conn, ids=ids, limit=limit)
            for start in range(0, len(pending), _BATCH):
                batch = pending[start : start + _BATCH]
                try:
                    results = self._bus.put([entry(e) for e in batch])
                except Exception:  # the bus is down: keep them for the scheduled relay
                    logger.exception("event bus unavailable", extra={"pending": len(pending) - start})
                    events_db.count_attempt(conn, [e.id for e in pending[start:]])
                    break
                ok = [e.id for e, good in zip(batch, results, strict=True) if good]
                failed = [e.id for e, good in zip(batch, results, strict=True) if not good]
                events_db.mark_published(conn, ok)
                if failed:
                    logger.warning("event bus refused events", extra={"event_ids": [str(i) for i in failed]})
                    events_db.count_attempt(conn, failed)
                sent += len(ok)
        return sent

    def flush_quietly(self, ids: Sequence[UUID]) -> None:
        """The fast path after a commit: never fail a committed request because the bus is slow or
        down (the scheduled relay publishes what this could not)."""
        if not ids:
            return
        try:
            self.flush(ids)
        except Exception:
            logger.exception(
                "outbox flush failed; the scheduled relay will publish", extra={"count": len(ids)}
            )

    def run(self) -> RelayReport:
        """The scheduled run: publish every pending event, page by page (bounded), and report the
        age of the oldest one still waiting (the backlog alarm watches it)."""
        published = 0
        for _ in range(_MAX_PAGES):
            sent = self.flush(limit=_PAGE)
            published += sent
            if sent < _PAGE:
                break
        with self._db.transaction() as conn:
            events_db.enter_relay(conn)
            backlog_s = events_db.oldest_pending_age_s(conn)
        return RelayReport(published=published, oldest_pending_s=backlog_s)
