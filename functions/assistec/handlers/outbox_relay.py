"""Scheduled every minute: publish the domain events still pending in the outbox, and enqueue
again the stored Asaas webhooks whose queue message was lost.

The API publishes its events right after each commit; this catches what that missed (the bus
refused, the function timed out after commit) so that no committed change loses its event.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.db import events as events_db
from assistec.db.connection import Database
from assistec.integrations.events import EventBridgeBus, OutboxRelay
from assistec.integrations.queue import SqsEventQueue
from assistec.observability import logger, metrics
from assistec.settings import relay_settings

# One run stops after this many batches of 100, leaving the rest to the next minute.
_MAX_ROUNDS = 50


@cache
def _database() -> Database:
    return Database(relay_settings())


@cache
def _relay() -> OutboxRelay:
    return OutboxRelay(_database(), EventBridgeBus(relay_settings().event_bus_name))


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    published = 0
    for _ in range(_MAX_ROUNDS):
        sent = _relay().flush(limit=100)
        published += sent
        if sent < 100:
            break
    with _database().transaction() as conn:
        events_db.as_relay(conn)
        backlog_s = events_db.oldest_pending_age_s(conn)
    requeued = 0
    if relay_settings().payments_queue_url:
        # The payments stack, only when there is a queue.
        from assistec.services.billing import sweep_platform
        from assistec.services.payments import sweep

        queue = SqsEventQueue(str(relay_settings().payments_queue_url))
        requeued = sweep(_database(), queue) + sweep_platform(_database(), queue)
    metrics.add_metric(name="InboxRequeued", unit=MetricUnit.Count, value=requeued)
    metrics.add_metric(name="OutboxPublished", unit=MetricUnit.Count, value=published)
    metrics.add_metric(name="OutboxOldestPendingSeconds", unit=MetricUnit.Seconds, value=backlog_s)
    logger.info(
        "outbox relay run",
        extra={"published": published, "oldest_pending_s": backlog_s, "requeued": requeued},
    )
    return {"published": published, "oldest_pending_s": backlog_s, "requeued": requeued}
