"""Domain events to EventBridge, from the transactional outbox.

Services write events into ``outbox`` in the same transaction as the change, so an event exists if
and only if the change committed. ``OutboxRelay.flush`` then sends pending events to the bus and
stamps them; the API flushes right after its commit (fast path) and a scheduled relay function
sends whatever that missed (bus down, Lambda timeout). Delivery is therefore at-least-once: every
event carries its outbox id, and consumers dedupe on it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from assistec.db import events as events_db
from assistec.db.connection import Database
from assistec.observability import logger

SOURCE = "assistec.orders"
# PutEvents takes at most 10 entries per call.
_BATCH = 10


class EventBus(Protocol):
    def put(self, entries: list[dict[str, Any]]) -> list[bool]:
        """Send the entries; one success flag per entry, in order."""
        ...


class EventBridgeBus:
    def __init__(self, bus_name: str) -> None:
        self._bus_name = bus_name
        self._client: Any = None

    def _events(self) -> Any:
        if self._client is None:
            import boto3  # deferred: only requests that publish need it

            self._client = boto3.client("events")
        return self._client

    def put(self, entries: list[dict[str, Any]]) -> list[bool]:
        response = self._events().put_events(
            Entries=[{**entry, "EventBusName": self._bus_name} for entry in entries]
        )
        return ["ErrorCode" not in result for result in response["Entries"]]


def entry(event: events_db.PendingEvent) -> dict[str, Any]:
    detail = {**event.detail, "event_id": str(event.id), "tenant_id": str(event.tenant_id)}
    return {
        "Source": SOURCE,
        "DetailType": event.detail_type,
        "Detail": json.dumps(detail, default=str),
        "Time": event.created_at,
    }


class OutboxRelay:
    def __init__(self, db: Database, bus: EventBus) -> None:
        self._db = db
        self._bus = bus

    def flush(self, ids: Sequence[UUID] | None = None, *, limit: int = 100) -> int:
        """Publish pending events (only ``ids`` when given); return how many reached the bus.

        Rows are locked (skip locked) while they are sent, so a relay and an API flush never send
        the same event twice at once; an event the bus refused stays pending with attempts + 1.
        """
        sent = 0
        with self._db.transaction() as conn:
            events_db.as_relay(conn)
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
        """The API's fast path: never fail a committed request because the bus is slow or down."""
        if not ids:
            return
        try:
            self.flush(ids)
        except Exception:
            logger.exception(
                "outbox flush failed; the scheduled relay will publish", extra={"count": len(ids)}
            )
