"""Webhook deliveries stored but never handed to the queue (the process died between the commit
and the SQS send): the scheduled relay enqueues them again, for both inboxes."""

from __future__ import annotations

from assistec.db.connection import Database
from assistec.integrations.queue import EventQueue


class StrandedDeliveries:
    """Re-enqueues the shops' and the platform's stored deliveries older than two minutes that no
    consumer has applied; each sweep is capped, so a poison delivery cannot circle forever."""

    def __init__(self, db: Database, queue: EventQueue) -> None:
        self._db = db
        self._queue = queue

    def requeue(self) -> int:
        """How many deliveries were enqueued again."""
        from assistec.services.billing.platform_webhook import sweep_platform
        from assistec.services.payments.inbox import sweep

        return sweep(self._db, self._queue) + sweep_platform(self._db, self._queue)
